"""API wniosków z dyskusji: ekstrakcja pojęć (202 + zadanie), wnioski grupy i porównanie dwóch grup."""

import uuid
from typing import Any

from django.http import HttpRequest
from django.utils.translation import get_language
from ninja import Query, Router, Schema

from focus_groups import concepts, insights
from focus_groups.models import get_focus_group_for_user
from sight import graph
from sight.errors import Conflict, ErrorOut
from sight.models import get_project_for_user

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
