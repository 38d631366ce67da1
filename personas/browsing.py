"""Przeglądanie panelu: filtry listy, wykresy, eksport CSV/JSON, usuwanie zbiorcze, raport trafności."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from ninja import Field

from personas.models import Persona, PersonaRun
from personas.sampling import TRAITS
from personas.validation import statements, validate_personas
from sight.models import Project
from sight.schemas import InputSchema
from sight.text import CleanText, spreadsheet_safe

__all__ = [
    "PersonaFilters",
    "bulk_delete",
    "bulk_restore",
    "export_response",
    "filter_personas",
    "panel_charts",
    "validation_report",
]

CSV_COLUMNS = (
    "id",
    "full_name",
    "age",
    "gender",
    "education",
    "income",
    "location",
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


def panel_charts(personas: QuerySet[Persona], *, top: int = 10) -> dict[str, Any]:
    """Dane wykresów: rozkład wieku (dekady), najczęstsze wartości i zainteresowania (jedno zapytanie)."""
    ages: Counter[str] = Counter()
    values: Counter[str] = Counter()
    interests: Counter[str] = Counter()
    for age, vals, ints in personas.values_list("age", "values", "interests"):
        if age is not None:
            ages[f"{age // 10 * 10}–{age // 10 * 10 + 9}"] += 1
        values.update(v.strip().lower() for v in vals or [] if isinstance(v, str))
        interests.update(i.strip().lower() for i in ints or [] if isinstance(i, str))
    return {"ages": sorted(ages.items()), "values": values.most_common(top), "interests": interests.most_common(top)}


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
    data = {column: getattr(persona, column, None) for column in CSV_COLUMNS}
    data.update(
        id=str(persona.id),
        segment=persona.segment.name if persona.segment else "",
        created_at=persona.created_at.isoformat(),
    )
    return data


def export_response(project: Project, fmt: str) -> HttpResponse:
    """Plik z panelem (aktywne persony) jako CSV albo JSON do pobrania."""
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
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for persona in personas:
            writer.writerow({k: spreadsheet_safe(v) for k, v in _row(persona).items()})
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="personas-{project.id}-{stamp}.{fmt}"'
    return response
