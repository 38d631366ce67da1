"""Słownik błędów domeny: `Conflict` (stan nie pozwala, 409) i `InvalidInput` (złe pole, 422).

Kod domenowy zgłasza tylko te dwa wyjątki przy odmowach, które widzi użytkownik; `ValueError` zostaje dla błędów
programisty. Każdy wyjątek jest tłumaczony na odpowiedź raz: w API przez handlery ninja w `sight/api.py`, w widokach
HTML przez `show_domain_error` poniżej.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib import messages
from django.utils import translation
from ninja import Schema

if TYPE_CHECKING:
    from django import forms
    from django.http import HttpRequest


class DomainError(Exception):
    """Odmowa widoczna dla użytkownika; `message` może być leniwym napisem gettext (tłumaczonym przy wyświetleniu)."""

    status: ClassVar[int] = 400

    def __init__(self, message: Any) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return str(self.message)


class InvalidInput(DomainError):
    """Niepoprawna wartość pola wykryta poza schematem (np. limit z konfiguracji); API: 422 z polem w `loc`."""

    status = 422

    def __init__(self, field: str, message: Any) -> None:
        super().__init__(message)
        self.field = field


class Conflict(DomainError):
    """Operacja niemożliwa w obecnym stanie obiektu (np. edycja trwającej grupy); API: 409."""

    status = 409


def in_english(exc: DomainError) -> str:
    """Komunikat po angielsku: API i polecenia mówią jak walidacja schematu, strony — językiem użytkownika."""
    with translation.override("en"):
        return str(exc)


def show_domain_error(request: HttpRequest, exc: DomainError, *, form: forms.Form | None = None) -> int:
    """Odmowa domeny w widoku HTML: przy polu formularza (InvalidInput), nad formularzem, a bez formularza jako
    komunikat; zwraca kod odpowiedzi (422 albo 409) dla widoków, które renderują fragment.
    """
    if form is None:
        messages.error(request, exc.message)
        return exc.status
    field = None
    if isinstance(exc, InvalidInput):
        # Formularz może nazywać pole inaczej niż schemat domeny (np. uczestnicy jako trzy pola do wyboru).
        field_for = getattr(form, "field_for_domain", None)
        field = field_for(exc.field) if field_for else (exc.field if exc.field in form.fields else None)
    form.add_error(field, exc.message)
    return exc.status


class ErrorOut(Schema):
    """Wspólny kształt błędu API: `{"detail": "..."}` albo lista błędów pól `{"detail": [{"loc", "msg", "type"}]}`."""

    detail: str | list[dict[str, Any]]
