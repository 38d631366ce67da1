"""Etykiety bazy wiedzy z kodów (stan, typ, powód porażki) — ten sam szablon dla modelu i dla JSON z websocketu."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from rag.models import FAILURE_REASONS, Document

register = template.Library()


@register.filter
def document_status(code: str) -> str:
    """Etykieta stanu dokumentu w bieżącym języku."""
    try:
        return str(Document.Status(code).label)
    except ValueError:
        return code


@register.filter
def document_kind(code: str) -> str:
    """Etykieta typu dokumentu w bieżącym języku."""
    try:
        return str(Document.Kind(code).label)
    except ValueError:
        return code


@register.filter
def failure_reason(row: Document | dict[str, object]) -> str:
    """Powód porażki w bieżącym języku (kod z parsera), a dla nieznanego kodu zapisany komunikat."""
    code, message = (
        (row.failure_code, row.failure_message)
        if isinstance(row, Document)
        else (str(row.get("failure_code", "")), str(row.get("failure_message", "")))
    )
    return str(FAILURE_REASONS.get(code, message))


STAGES = {
    "parse": _("reading"),
    "lemmatise": _("lemmas"),
    "embed": _("vectors"),
    "index": _("index"),
}


@register.filter
def stage_timings(timings: dict[str, float] | None) -> list[tuple[str, float]]:
    """Czasy etapów przetwarzania (etykieta, sekundy) w stałej kolejności etapów."""
    timings = timings or {}
    return [(str(label), float(timings[key])) for key, label in STAGES.items() if key in timings]
