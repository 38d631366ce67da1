"""API wniosków z dyskusji: ekstrakcja pojęć (202 + zadanie), wnioski grupy i porównanie dwóch grup."""

import uuid
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import get_language
from ninja import Field, Query, Router, Schema
from pydantic import BaseModel

from focus_groups import concept_map, concepts, insights
from focus_groups.models import get_focus_group_for_user
from sight import graph
from sight.errors import Conflict, ErrorOut
from sight.models import get_project_for_user
from sight.schemas import InputSchema
from sight.text import CleanText

router = Router(tags=["insights"])


class JobAccepted(Schema):
    """Zadanie przyjęte."""

    job_id: uuid.UUID


class InsightsQuery(Schema):
    """Zakres wniosków: jedno pytanie (indeks od 0) albo cała dyskusja."""

    question: int | None = None


class ExtractionQuery(Schema):
    """`force`: przeanalizuj od nowa także wypowiedzi już przeanalizowane."""

    force: bool = False


@router.post("/focus-groups/{focus_group_id}/concepts", response={202: JobAccepted, 409: ErrorOut})
def extract(
    request: HttpRequest, focus_group_id: uuid.UUID, params: Query[ExtractionQuery]
) -> tuple[int, dict[str, Any]]:
    """Startuje ekstrakcję pojęć, emocji i odniesień (rola `concept_extraction`)."""
    fg = get_focus_group_for_user(request.user, focus_group_id)
    try:
        job = concepts.start_extraction(fg, user=request.user, force=params.force)
    except ValueError as exc:
        raise Conflict(str(exc)) from exc
    return 202, {"job_id": job.id}


@router.get("/focus-groups/{focus_group_id}/insights", response=dict[str, Any])
def get_insights(request: HttpRequest, focus_group_id: uuid.UUID, params: Query[InsightsQuery]) -> dict[str, Any]:
    """Kluczowe i sporne pojęcia, wpływ z dowodów, segmenty, emocje i sieć zgody (z PostgreSQL)."""
    fg = get_focus_group_for_user(request.user, focus_group_id)
    return insights.insights(fg, question=params.question, language=(get_language() or "en")[:2])


@router.get("/focus-groups/{focus_group_id}/compare/{other_id}", response=dict[str, Any])
def compare(request: HttpRequest, focus_group_id: uuid.UUID, other_id: uuid.UUID) -> dict[str, Any]:
    """Porównanie dwóch dyskusji użytkownika: pojęcie × {A, B} per pytanie, nakładanie się, tempo zmian i sporów."""
    a = get_focus_group_for_user(request.user, focus_group_id)
    b = get_focus_group_for_user(request.user, other_id)
    return insights.compare(a, b)


@router.get("/projects/{project_id}/concepts", response=dict[str, Any])
def recurring(request: HttpRequest, project_id: uuid.UUID) -> dict[str, Any]:
    """Pojęcia, które wracają w przeanalizowanych grupach projektu (z mianownikiem)."""
    return insights.recurring_concepts(get_project_for_user(request.user, project_id))


@router.get("/focus-groups/{focus_group_id}/graph", response=dict[str, Any])
def focus_group_graph(request: HttpRequest, focus_group_id: uuid.UUID) -> dict[str, Any]:
    """Pojęcia grupy i dowody wzmianek z grafu (503, gdy baza grafowa jest niedostępna; wnioski działają dalej)."""
    fg = get_focus_group_for_user(request.user, focus_group_id)
    return {
        "concepts": graph.focus_group_concepts(fg.project_id, fg.id),
        "mentions": graph.focus_group_mentions(fg.project_id, fg.id),
    }


class ConceptGraphQuery(InputSchema):
    """Filtry grafu pojęć: pytanie (indeks od 0), nazwa segmentu, nastawienie, pojęcie; `limit` najczęstszych pojęć,
    `quotes` dowodów na krawędź (pierwsze w transkrypcji; `count` krawędzi mówi, ile ich jest).
    """

    question: int | None = Field(None, ge=0, le=1000)
    segment: CleanText | None = Field(None, max_length=200)
    stance: Literal["support", "oppose", "mixed"] | None = None
    concept: uuid.UUID | None = None
    limit: int = Field(concept_map.TOP_CONCEPTS, ge=1, le=concept_map.MAX_CONCEPTS)
    quotes: int = Field(concept_map.QUOTES_PER_EDGE, ge=1, le=concept_map.MAX_QUOTES_PER_EDGE)


# Wyjście grafu opisują zwykłe modele pydantic (nie `ninja.Schema` z DjangoGetter dla obiektów ORM): to tylko schemat
# OpenAPI, bo endpoint oddaje gotowy JSON (zob. `concept_graph`).
class GraphEvidenceOut(BaseModel):
    """Dowód krawędzi: wypowiedź (id i numer w transkrypcji), mówca, cytat, nastawienie, link do transkrypcji."""

    turn_id: int
    seq: int
    question_index: int | None
    persona_id: str
    name: str
    quote: str
    stance: float | None
    url: str


class GraphNodeOut(BaseModel):
    """Węzeł: persona, pojęcie albo segment, z etykietą rodzaju i nastawienia."""

    id: str
    kind: Literal["persona", "concept", "segment"]
    kind_label: str
    label: str
    segment: str | None
    mentions: int | None
    participants: int | None
    of_participants: int | None
    stance: float | None
    stance_class: Literal["support", "oppose", "mixed"] | None
    stance_label: str


class GraphEdgeOut(BaseModel):
    """Krawędź: persona → pojęcie (nastawienie), persona → persona (zgoda, niezgoda, zwrócenie się, rozwinięcie)
    albo persona → segment; z dowodami.
    """

    id: str
    source: str
    target: str
    type: Literal["stance", "agree", "disagree", "addressed", "builds_on", "member"]
    type_label: str
    stance: float | None
    stance_class: Literal["support", "oppose", "mixed"] | None
    stance_label: str
    count: int = Field(description="pieces of evidence in all; `evidence` holds the first `quotes` of them")
    evidence: list[GraphEvidenceOut]


class ConceptGraphOut(BaseModel):
    """Graf pojęć grupy po filtrach, liczba pojęć pominiętych ponad limit i możliwe wartości filtrów."""

    focus_group_id: uuid.UUID
    filters: dict[str, Any]
    nodes: list[GraphNodeOut]
    edges: list[GraphEdgeOut]
    omitted_concepts: int
    options: dict[str, Any]


@router.get("/focus-groups/{focus_group_id}/concept-graph", response=ConceptGraphOut)
def concept_graph(request: HttpRequest, focus_group_id: uuid.UUID, params: Query[ConceptGraphQuery]) -> HttpResponse:
    """Graf pojęć z PostgreSQL: persony, pojęcia i segmenty, krawędzie z cytatami i linkami do transkrypcji.

    Odpowiedź idzie wprost jako JSON: schemat `ConceptGraphOut` opisuje ją w OpenAPI (fuzzer sprawdza zgodność), a
    ponowna walidacja setek dowodów przez ninję kosztowała przy 500 wypowiedziach więcej niż zbudowanie grafu.
    """
    fg = get_focus_group_for_user(request.user, focus_group_id)
    filters = concept_map.GraphFilters(
        question=params.question,
        segment=params.segment or None,
        stance=params.stance,
        concept=str(params.concept) if params.concept else None,
        limit=params.limit,
    )
    data = concept_map.concept_graph(fg, filters, quotes=params.quotes)
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})
