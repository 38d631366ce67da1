"""Stronicowanie list API: numer strony i rozmiar ograniczone, więc skrajne wartości to 422, a nie przepełnienie
OFFSET.
"""

from __future__ import annotations

from ninja import Field, Schema
from ninja.pagination import PageNumberPagination

MAX_PAGE = 1_000_000
MAX_PAGE_SIZE = 100


class Pages(PageNumberPagination):
    """`?page=` (1–1 000 000) i opcjonalne `?page_size=` (1–100)."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=MAX_PAGE_SIZE)
