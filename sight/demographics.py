"""Rozkład demograficzny projektu: kategoria → {koszyk: waga}; walidacja wspólna dla formularza, API i modelu."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _
from pydantic import Field, Strict, StringConstraints

import config
from sight.schemas import KeysMatching
from sight.text import NON_BLANK_PATTERN, has_nul, localized_number

MAX_CATEGORIES = 12
MAX_BUCKETS = 40
MAX_KEY_LENGTH = 64
SUM_TOLERANCE = 1e-6


def demographics_errors(value: Any) -> dict[str, list[str]]:
    """Zwraca błędy rozkładu pogrupowane po kategorii ('__all__' dla całości); pusty słownik = poprawny."""
    if not isinstance(value, dict):
        return {"__all__": [_("Target demographics must be an object of categories.")]}
    if not value:
        return {"__all__": [_("Add at least one category with its buckets.")]}
    if len(value) > MAX_CATEGORIES:
        return {"__all__": [_("At most %(n)d categories are allowed.") % {"n": MAX_CATEGORIES}]}
    errors: dict[str, list[str]] = {}
    for category, buckets in value.items():
        problems = _key_problems(category) + _bucket_problems(buckets)
        if problems:
            errors[str(category)[:MAX_KEY_LENGTH]] = problems
    return errors


def _key_problems(key: Any) -> list[str]:
    if not isinstance(key, str) or not key.strip():
        return [_("Names must be non-empty text.")]
    if len(key) > MAX_KEY_LENGTH:
        return [_("Names may have at most %(n)d characters.") % {"n": MAX_KEY_LENGTH}]
    if has_nul(key):
        return [_("Text must not contain NUL characters.")]
    return []


def _bucket_problems(buckets: Any) -> list[str]:
    if not isinstance(buckets, dict) or not buckets:
        return [_("Each category needs at least one bucket with a weight.")]
    if len(buckets) > MAX_BUCKETS:
        return [_("A category may have at most %(n)d buckets.") % {"n": MAX_BUCKETS}]
    problems: list[str] = []
    for bucket, weight in buckets.items():
        problems += [f"{str(bucket)[:MAX_KEY_LENGTH]}: {p}" for p in _key_problems(bucket)]
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            problems.append(_("%(bucket)s: the weight must be a number.") % {"bucket": str(bucket)[:MAX_KEY_LENGTH]})
        elif not math.isfinite(weight):
            problems.append(
                _("%(bucket)s: the weight must be a finite number.") % {"bucket": str(bucket)[:MAX_KEY_LENGTH]}
            )
        elif weight < 0:
            problems.append(
                _("%(bucket)s: the weight must not be negative.") % {"bucket": str(bucket)[:MAX_KEY_LENGTH]}
            )
    if not problems:
        total = math.fsum(buckets.values())
        if abs(total - 1.0) > SUM_TOLERANCE:
            problems.append(
                _("Weights must sum to 1 (they sum to %(total)s).") % {"total": localized_number(round(total, 6))}
            )
    return problems


def validate_target_demographics(value: Any) -> None:
    """Walidator Django: podnosi ValidationError z komunikatami przy kategoriach."""
    errors = demographics_errors(value)
    if errors:
        raise ValidationError(
            [f"{k}: {m}" if k != "__all__" else m for k, msgs in errors.items() for m in msgs],
            code="invalid_demographics",
        )


def normalise(value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Kopiuje rozkład z wagami jako float (po walidacji)."""
    return {str(c): {str(b): float(w) for b, w in buckets.items()} for c, buckets in value.items()}


def relative_to_shares(value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Wagi względne (dodatnie) jako udziały sumujące się do 1 w każdej kategorii (API: 1:1 to to samo co 50:50)."""
    result = {}
    for category, buckets in value.items():
        total = math.fsum(buckets.values())
        result[category] = {bucket: weight / total for bucket, weight in buckets.items()}
    return result


# --- etykiety: jedyna droga od klucza danych (`female`, `city_100k_500k`) do tekstu dla człowieka ---------------------


def active_language(language: str | None = None) -> str:
    """Kod języka: podany, inaczej bieżący (żądania, websocketu, `translation.override`), inaczej domyślny."""
    return (language or get_language() or settings.LANGUAGE_CODE)[:2]


def pick_label(labels: Mapping[str, str], fallback: str, *, language: str | None = None) -> str:
    """Etykieta w danym (domyślnie bieżącym) języku, inaczej pierwsza dostępna, inaczej tekst zastępczy."""
    return labels.get(active_language(language)) or next(iter(labels.values()), fallback)


def humanize_key(key: str) -> str:
    """Klucz spoza presetów jako tekst: podkreślenia zamienione na spacje (np. nazwa wpisana przez badacza)."""
    return str(key).replace("_", " ")


def _categories(name: str, language: str) -> list[config.Category]:
    """Opisy kategorii o tej nazwie z presetów rynków; najpierw z presetów w danym języku."""
    presets = sorted(config.load_demographics().values(), key=lambda p: p.language != language)
    return [p.categories[name] for p in presets if name in p.categories]


def category_label(
    name: str, *, buckets: Iterable[str] = (), language: str | None = None, default: str | None = None
) -> str:
    """Etykieta kategorii z presetu, którego koszyki najlepiej pasują (dochód w zł i w USD to różne etykiety);
    nazwa spoza presetów — jako tekst albo `default`, gdy podany.
    """
    language = active_language(language)
    wanted = set(buckets)
    candidates = _categories(name, language)
    if not candidates:
        return humanize_key(name).capitalize() if default is None else default
    best = max(candidates, key=lambda c: len(wanted & set(c.buckets)))
    return pick_label(best.label, humanize_key(name).capitalize(), language=language)


def bucket_label(category: str, bucket: str, *, language: str | None = None, default: str | None = None) -> str:
    """Etykieta koszyka kategorii; gdy kategoria jej nie zna (np. kolumna `location` z koszykiem regionu) — z
    dowolnej kategorii presetów, która ma taki koszyk; klucz spoza presetów wraca jako tekst albo `default`, gdy podany.
    """
    if bucket in (None, ""):
        return ""
    language, bucket = active_language(language), str(bucket)
    for candidate in _categories(category, language):
        if bucket in candidate.bucket_labels:
            return pick_label(candidate.bucket_labels[bucket], bucket, language=language)
    presets = sorted(config.load_demographics().values(), key=lambda p: p.language != language)
    for preset in presets:
        for candidate in preset.categories.values():
            if bucket in candidate.bucket_labels:
                return pick_label(candidate.bucket_labels[bucket], bucket, language=language)
    return humanize_key(bucket) if default is None else default


def describe(demographics: Mapping[str, Any], *, language: str | None = None) -> list[tuple[str, str]]:
    """Koszyki persony (kategoria → koszyk) jako pary etykiet (kategoria, koszyk) dla ekranów, eksportów i promptów."""
    return [
        (category_label(c, buckets=[str(b)], language=language), bucket_label(c, str(b), language=language))
        for c, b in demographics.items()
    ]


# Schemat API mówi wszystko, co da się powiedzieć w JSON Schema: nazwy niepuste bez NUL, liczby kategorii i koszyków,
# wagi dodatnie i skończone; sumę do 1 API zapewnia samo, przeliczając wagi względne na udziały.
_Name = Annotated[str, StringConstraints(max_length=MAX_KEY_LENGTH, pattern=NON_BLANK_PATTERN)]
_Weight = Annotated[float, Strict(), Field(gt=0, le=1e6, allow_inf_nan=False)]
Buckets = Annotated[dict[_Name, _Weight], Field(min_length=1, max_length=MAX_BUCKETS), KeysMatching()]
DemographicsIn = Annotated[
    dict[_Name, Buckets],
    Field(
        min_length=1,
        max_length=MAX_CATEGORIES,
        description="category → {bucket: relative weight}; weights are normalised to sum to 1 in each category",
    ),
    KeysMatching(),
]


# Fakty planu profilu poza kategoriami presetu (etykiety wierszy „- Etykieta: wartość” w promptach generowania).
PLAN_FACTS = {
    "full_name": gettext_noop("Full name"),
    "age": gettext_noop("Exact age"),
    "occupation": gettext_noop("Occupation"),
}


def plan_fact_keys() -> dict[str, str]:
    """Etykieta faktu planu (pl i en, bez wielkości liter) → klucz: odczyt wierszy promptu z powrotem na dane."""
    keys = {}
    for language in ("pl", "en"):
        with translation.override(language):
            keys.update({_(label).casefold(): key for key, label in PLAN_FACTS.items()})
    return keys
