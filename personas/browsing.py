"""Przeglądanie panelu: filtry listy, wykresy, eksport CSV/JSON, usuwanie zbiorcze, raport trafności."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field

from personas.models import Persona, PersonaRun
from personas.sampling import TRAITS
from personas.validation import statements, validate_personas
from sight.demographics import bucket_label
from sight.models import Project
from sight.schemas import InputSchema
from sight.screens import distribution_rows
from sight.text import CleanText, spreadsheet_csv

__all__ = [
    "PersonaFilters",
    "bulk_delete",
    "bucket_choices",
    "bulk_restore",
    "export_response",
    "filter_personas",
    "panel_charts",
    "validation_report",
]

# Kolumny demograficzne: w CSV etykieta w języku pobierającego, a obok klucz danych (do łączenia z API i JSON).
LABELLED_COLUMNS = ("gender", "education", "income", "location")
CSV_COLUMNS = (
    "id",
    "full_name",
    "age",
    *LABELLED_COLUMNS,
    "occupation",
    "segment",
    "title",
    "headline",
    "values",
    "interests",
    "concerns",
    "communication_style",
    "decision_style",
    *TRAITS,
    "background_story",
    "created_at",
    *(f"{column}_key" for column in LABELLED_COLUMNS),
)


class PersonaFilters(InputSchema):
    """Filtry listy person (te same w UI i API)."""

    gender: CleanText | None = Field(None, max_length=64)
    age_min: int | None = Field(None, ge=0, le=120)
    age_max: int | None = Field(None, ge=0, le=120)
    location: CleanText | None = Field(None, max_length=64)
    segment: uuid.UUID | None = None
    occupation: CleanText | None = Field(None, max_length=100)
    q: CleanText | None = Field(None, max_length=100, description="search by name")
    deleted: bool = False


def filter_personas(project: Project, filters: PersonaFilters) -> QuerySet[Persona]:
    """Persony projektu spełniające filtry (usunięte tylko na życzenie), z segmentem w jednym zapytaniu."""
    qs = Persona.objects.filter(project=project).select_related("segment")
    qs = qs.deleted() if filters.deleted else qs.active()
    exact = {
        "gender": filters.gender,
        "location": filters.location,
        "segment_id": filters.segment,
        "age__gte": filters.age_min,
        "age__lte": filters.age_max,
    }
    qs = qs.filter(**{k: v for k, v in exact.items() if v not in (None, "")})
    if filters.occupation:
        qs = qs.filter(occupation__icontains=filters.occupation)
    if filters.q:
        qs = qs.filter(full_name__icontains=filters.q)
    return qs.order_by("created_at", "index")


def bucket_choices(personas: QuerySet[Persona], column: str) -> list[tuple[str, str]]:
    """Koszyki kolumny (`gender`, `location`) obecne w panelu jako wybór (klucz, etykieta), po etykiecie."""
    keys = personas.exclude(**{column: ""}).order_by().values_list(column, flat=True).distinct()
    return sorted(((key, bucket_label(column, key)) for key in keys), key=lambda choice: choice[1].casefold())


def panel_charts(personas: QuerySet[Persona], target: dict[str, dict[str, float]], *, top: int = 10) -> dict[str, Any]:
    """Dane wykresów (jedno zapytanie): po wykresie na każdą kategorię rozkładu docelowego, z jego koszykami w jego
    kolejności (także pustymi), oraz najczęstsze wartości i zainteresowania. Bez rozkładu — wiek w dekadach.
    """
    buckets: dict[str, Counter[str]] = {category: Counter() for category in target}
    ages: Counter[str] = Counter()
    values: Counter[str] = Counter()
    interests: Counter[str] = Counter()
    for age, demographics, vals, ints in personas.values_list("age", "demographics", "values", "interests"):
        for category, counter in buckets.items():
            if isinstance(demographics, dict) and demographics.get(category) is not None:
                counter[str(demographics[category])] += 1
        if age is not None:
            ages[f"{age // 10 * 10}–{age // 10 * 10 + 9}"] += 1
        values.update(v.strip().lower() for v in vals or [] if isinstance(v, str))
        interests.update(i.strip().lower() for i in ints or [] if isinstance(i, str))
    demographic = [
        {
            "label": category["label"],
            "pairs": [(b["label"], buckets[category["key"]][b["key"]]) for b in category["buckets"]],
        }
        for category in distribution_rows(target)
    ]
    if not demographic:
        demographic = [{"label": _("Age"), "pairs": sorted(ages.items())}]
    return {"demographics": demographic, "values": values.most_common(top), "interests": interests.most_common(top)}


def validation_report(project: Project) -> dict[str, Any]:
    """Świeży raport trafności panelu (na zapisanych personach), jego zdania po polsku i angielsku (dla klientów API)
    i stan ostatniego przebiegu generowania.
    """
    report = validate_personas(project)
    report["statements"] = {language: statements(report, language) for language in ("pl", "en")}
    run = PersonaRun.objects.filter(project=project).order_by("-created_at").first()
    report["last_run"] = (
        None
        if run is None
        else {
            "id": str(run.id),
            "status": run.status,
            "requested": run.num_requested,
            "failed": run.failed,
            "seed": run.seed,
            "segment_fallback": run.segment_fallback,
            "segment_fallback_reason": run.segment_fallback_reason,
        }
    )
    return report


def bulk_delete(project: Project, ids: Iterable[uuid.UUID]) -> int:
    """Usuwa miękko wskazane persony projektu (obce identyfikatory są ignorowane)."""
    return (
        Persona.objects.filter(project=project, pk__in=list(ids))
        .active()
        .update(deleted_at=timezone.now(), updated_at=timezone.now())
    )


def bulk_restore(project: Project, ids: Iterable[uuid.UUID]) -> int:
    """Przywraca wskazane, miękko usunięte persony projektu (obce identyfikatory są ignorowane)."""
    return (
        Persona.objects.filter(project=project, pk__in=list(ids))
        .deleted()
        .update(deleted_at=None, updated_at=timezone.now())
    )


def _row(persona: Persona) -> dict[str, Any]:
    """Wiersz eksportu: pola persony, segment po nazwie, kolumny demograficzne z kluczem obok."""
    data = {column: getattr(persona, column, None) for column in CSV_COLUMNS}
    data.update(
        id=str(persona.id),
        segment=persona.segment.name if persona.segment else "",
        created_at=persona.created_at.isoformat(),
    )
    for column in LABELLED_COLUMNS:
        data[f"{column}_key"] = getattr(persona, column)
    return data


def export_response(project: Project, fmt: str) -> HttpResponse:
    """Plik z panelem (aktywne persony) jako CSV (etykiety w bieżącym języku, BOM dla Excela) albo JSON (klucze)."""
    personas = (
        Persona.objects.filter(project=project).active().select_related("segment").order_by("created_at", "index")
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    if fmt == "json":
        rows = [{**_row(p), "demographics": p.demographics, "needs": p.needs} for p in personas]
        response = HttpResponse(
            json.dumps(
                {"project": {"id": str(project.id), "name": project.name}, "personas": rows},
                ensure_ascii=False,
                indent=1,
            ),
            content_type="application/json",
        )
    else:
        rows = []
        for persona in personas:
            row = _row(persona)
            row.update({column: bucket_label(column, row[column]) for column in LABELLED_COLUMNS})
            rows.append([row[column] for column in CSV_COLUMNS])
        response = HttpResponse(spreadsheet_csv(CSV_COLUMNS, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="personas-{project.id}-{stamp}.{fmt}"'
    return response
