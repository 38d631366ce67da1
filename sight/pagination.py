"""Stronicowanie list API: numer strony i rozmiar ograniczone, więc skrajne wartości to 422, a nie przepełnienie
OFFSET.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 100


class Pages(PageNumberPagination):
    """`?page=` (1–1 000 000) i opcjonalne `?page_size=` (1–100)."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE)

    def paginate_queryset(self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any) -> Any:
        """Strona przez odroczone złączenie: identyfikatory strony z indeksu porządku (OFFSET przechodzi po indeksie,
        nie po całych wierszach), potem pełne wiersze tylko tej strony, w tej samej kolejności. Stała liczba zapytań:
        licznik, identyfikatory, wiersze."""
        if not isinstance(queryset, QuerySet):
            return super().paginate_queryset(queryset, pagination, request, **params)
        page_size = self._get_page_size(pagination.page_size)
        offset = (pagination.page - 1) * page_size
        ids = list(queryset.values_list("pk", flat=True)[offset : offset + page_size])
        rows = {row.pk: row for row in queryset.filter(pk__in=ids)} if ids else {}
        return {self.items_attribute: [rows[pk] for pk in ids if pk in rows], "count": self._items_count(queryset)}
