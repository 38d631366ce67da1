"""Filtry szablonów dla danych demograficznych: etykieta zamiast klucza (`{{ p.gender|bucket_label:"gender" }}`)."""

from __future__ import annotations

from django import template

from sight import demographics

register = template.Library()


@register.filter
def bucket_label(value: object, category: str) -> str:
    """Etykieta koszyka w języku strony (albo fragmentu wysyłanego przez websocket); pusty tekst dla pustej wartości."""
    return demographics.bucket_label(category, "" if value is None else str(value))


@register.filter
def preset_bucket_label(value: object, category: str) -> str:
    """Etykieta koszyka z presetu rynku albo pusty tekst, gdy preset go nie zna (podpis pod kluczem w edytorze)."""
    return demographics.bucket_label(category, "" if value is None else str(value), default="")
