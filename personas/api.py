"""API person: generowanie (202 + zadanie), lista z filtrami, szczegóły, usuwanie i przywracanie, walidacja, eksport."""

import uuid
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from pydantic import StrictBool

import config
from personas import browsing, generation
from personas.models import Persona, get_persona_for_user
from rag.grounding import SourceOut, mark_deleted
from sight.errors import ErrorOut
from sight.models import get_project_for_user
from sight.pagination import Pages
from sight.schemas import InputSchema, json_int, schema_bound

router = Router(tags=["personas"])


def _personas_settings() -> Any:
    return config.load_features().personas


class GenerateIn(InputSchema):
    """Parametry generowania panelu (granice z features.yaml trafiają do schematu przy jego budowie)."""

    num_personas: json_int(
        ge=1,
        description="1 to personas.max_per_run (features.yaml)",
        json_schema_extra=schema_bound(maximum=lambda: _personas_settings().max_per_run),
    )
    seed: json_int(ge=0, le=2**62) | None = None
    segments: StrictBool = True
    use_rag: StrictBool = True
    trait_preset: str = Field(
        "",
        description="a preset from personas.trait_presets (features.yaml), or empty for none",
        json_schema_extra=schema_bound(enum=lambda: ["", *sorted(_personas_settings().trait_presets)]),
    )


class Accepted(Schema):
    """Zadanie przyjęte do wykonania."""

    job_id: uuid.UUID
    run_id: uuid.UUID | None = None
    seed: int | None = Field(None, description="the run's seed: the one given, or a freshly drawn one")


class PersonaOut(Schema):
    """Persona w liście i w szczegółach."""

    id: uuid.UUID
    project_id: uuid.UUID
    run_id: uuid.UUID | None
    segment_id: uuid.UUID | None
    segment_name: str | None = None
    full_name: str
    title: str
    headline: str
    age: int | None
    gender: str
    education: str
    income: str
    location: str
    occupation: str
    demographics: dict[str, str]
    traits: dict[str, float]
    values: list[str]
    interests: list[str]
    concerns: list[str]
    communication_style: str
    decision_style: str
    background_story: str
    needs: dict[str, Any] | None
    rag_context_used: bool
    supplied_chunk_ids: list[int]
    sources: list[SourceOut]
    rejected_sources: int
    deleted_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_segment_name(obj: Persona) -> str | None:
        """Nazwa segmentu (segment jest dołączony w tym samym zapytaniu)."""
        return obj.segment.name if obj.segment_id and obj.segment else None


class BulkIn(InputSchema):
    """Lista person do usunięcia albo przywrócenia (najwyżej 500)."""

    ids: list[uuid.UUID] = Field(min_length=1, max_length=500)


class Count(Schema):
    """Liczba zmienionych person."""

    count: int


@router.post("/projects/{project_id}/personas/generate", response={202: Accepted, 409: ErrorOut})
def generate(request: HttpRequest, project_id: uuid.UUID, payload: GenerateIn) -> tuple[int, dict[str, Any]]:
    """Planuje panel i startuje zadanie generowania (postęp: GET /jobs/{job_id})."""
    project = get_project_for_user(request.user, project_id)
    run = generation.start_generation(project, user=request.user, **payload.dict())
    return 202, {"job_id": run.job_id, "run_id": run.id, "seed": run.seed}


@router.get("/projects/{project_id}/personas", response=list[PersonaOut])
@paginate(Pages, page_size=25)
def list_personas(request: HttpRequest, project_id: uuid.UUID, filters: Query[browsing.PersonaFilters]) -> Any:
    """Persony projektu: filtry płci, wieku, miejsca, segmentu, zawodu i wyszukiwanie po nazwisku."""
    project = get_project_for_user(request.user, project_id)
    return browsing.filter_personas(project, filters)


@router.get("/projects/{project_id}/personas/validation")
def validation(request: HttpRequest, project_id: uuid.UUID) -> dict[str, Any]:
    """Raport trafności panelu liczony na zapisanych personach (świeży)."""
    return browsing.validation_report(get_project_for_user(request.user, project_id))


@router.get("/projects/{project_id}/personas/export")
def export(request: HttpRequest, project_id: uuid.UUID, format: Literal["csv", "json"] = "json") -> HttpResponse:  # noqa: A002 - nazwa parametru w API
    """Eksport panelu: `format=csv` albo `format=json`."""
    return browsing.export_response(get_project_for_user(request.user, project_id), format)


@router.post("/projects/{project_id}/personas/bulk-delete", response=Count)
def bulk_delete(request: HttpRequest, project_id: uuid.UUID, payload: BulkIn) -> dict[str, int]:
    """Usuwa miękko wiele person naraz (do przywrócenia)."""
    return {"count": browsing.bulk_delete(get_project_for_user(request.user, project_id), payload.ids)}


@router.get("/personas/{persona_id}", response=PersonaOut)
def detail(request: HttpRequest, persona_id: uuid.UUID) -> Persona:
    """Szczegóły persony (cytaty z flagą usuniętego źródła)."""
    persona = get_persona_for_user(request.user, persona_id)
    persona.sources = mark_deleted(persona.sources)
    return persona


@router.delete("/personas/{persona_id}", response={204: None})
def delete(request: HttpRequest, persona_id: uuid.UUID) -> tuple[int, None]:
    """Usuwa personę miękko."""
    get_persona_for_user(request.user, persona_id).soft_delete()
    return 204, None


@router.post("/personas/{persona_id}/restore", response=PersonaOut)
def restore(request: HttpRequest, persona_id: uuid.UUID) -> Persona:
    """Przywraca usuniętą personę."""
    persona = get_persona_for_user(request.user, persona_id, include_deleted=True)
    persona.restore()
    return persona


@router.post("/personas/{persona_id}/needs", response={202: Accepted})
def needs(request: HttpRequest, persona_id: uuid.UUID, regenerate: bool = False) -> tuple[int, dict[str, Any]]:
    """Generuje (albo odświeża) potrzeby i bolączki persony w tle."""
    job = generation.start_needs(
        get_persona_for_user(request.user, persona_id), user=request.user, regenerate=regenerate
    )
    return 202, {"job_id": job.id}
