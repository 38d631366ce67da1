"""Pomocnicze ekranów HTML wspólne dla aplikacji: fragment htmx albo cały ekran, etykiety presetów, rozkłady, słupki.

Widoki aplikacji importują stąd, nigdy z cudzego `views.py`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

import config
from sight.demographics import bucket_label, category_label, pick_label
from sight.forms import display_order


def site_context(request: HttpRequest) -> dict[str, Any]:
    """Kontekst każdej strony: czy działa tryb offline (baner „offline demo”)."""
    return {"llm_offline": settings.SIGHT_LLM_PROVIDER == "offline", "llm_provider": settings.SIGHT_LLM_PROVIDER}


def render_screen(
    request: HttpRequest, template: str, fragment: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """Cały ekran albo — dla żądania htmx — jego nazwany fragment z tego samego szablonu."""
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    response = render(request, f"{template}#{fragment}" if partial else template, context, status=status)
    patch_vary_headers(response, ("HX-Request",))
    return response


def preset_choices() -> list[tuple[str, str]]:
    """Presety rynków z `config/demographics` jako (id, etykieta w bieżącym języku)."""
    return [(pid, pick_label(preset.label, pid)) for pid, preset in config.load_demographics().items()]


def distribution_rows(distribution: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """Rozkład projektu jako wiersze słupków z etykietami z presetów (`sight.demographics`), gdy klucze się zgadzają."""
    return [
        {
            "key": name,
            "label": category_label(name, buckets=[b for b, _w in buckets]),
            "buckets": [
                {"key": b, "label": bucket_label(name, b), "weight": w, "percent": percent(w, 1)} for b, w in buckets
            ],
        }
        for name, buckets in display_order(distribution)
    ]


def percent(value: float, whole: float) -> float:
    """Udział w procentach z jednym miejscem po przecinku; 0, gdy całość jest zerowa."""
    return round(100 * value / whole, 1) if whole else 0.0


def bar_rows(items: Iterable[tuple[str, float]], *, scale: float | None = None) -> list[dict[str, Any]]:
    """Pary (etykieta, wartość) jako wiersze słupków `_bar.html#bar`: label, value i percent — długość względem
    `scale` (np. 1 dla cech 0–1, liczby porównanych dla udziałów), a bez niej względem największej wartości.
    """
    items = list(items)
    whole = max((value for _label, value in items), default=0) if scale is None else scale
    return [{"label": label, "value": value, "percent": percent(value, whole)} for label, value in items]
