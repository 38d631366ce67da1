"""Błędy domenowe, które API zamienia na odpowiedzi z kodem (np. 422 przy polu)."""

from __future__ import annotations


class InvalidInput(Exception):
    """Niepoprawna wartość pola wykryta poza schematem (np. limit z konfiguracji); API: 422 z `loc`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


class Conflict(Exception):
    """Operacja niemożliwa w obecnym stanie obiektu (np. edycja trwającej grupy); API: 409."""
