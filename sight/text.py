"""Walidatory tekstu wspólne dla formularzy, API i modeli."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def no_nul(value: str) -> None:
    """Odrzuca znak NUL (PostgreSQL nie przechowuje go w tekście)."""
    if isinstance(value, str) and "\x00" in value:
        raise ValidationError(_("Text must not contain NUL characters."), code="nul")


def spreadsheet_safe(value: object) -> object:
    """Komórka CSV odporna na wstrzyknięcie formuł (tekst od LLM i użytkownika to dane); listy łączone średnikiem."""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
