"""API grup fokusowych: konfiguracja, przebieg (202 + zadanie), sterowanie, zdarzenia od `seq`, transkrypcja,
podsumowanie, eksporty.
"""

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from focus_groups import discussion, summary
from focus_groups.models import FocusGroup, FocusGroupEvent, get_focus_group_for_user
from focus_groups.setup import FocusGroupIn, FocusGroupPatch, create_focus_group, update_focus_group
from sight.errors import Conflict, ErrorOut
from sight.models import get_project_for_user
from sight.pagination import Pages
from sight.schemas import InputSchema
from sight.text import CleanText, RequiredText

router = Router(tags=["focus groups"])


class GuideQuestionOut(Schema):
    """Pytanie przewodnika; `proposition` pusty — pytanie otwarte, bez stanowisk (także w grupach sprzed tez)."""

    text: str
    probes: list[str] = []
    proposition: str = ""


class FocusGroupOut(Schema):
    """Grupa fokusowa."""

    id: uuid.UUID
    project_id: uuid.UUID
    name: str
    description: str
    mode: str
    status: str
    control: str
    questions: list[GuideQuestionOut]
    turns_per_question: int
    interview_context: str
    use_knowledge: bool
    participant_ids: list[uuid.UUID]
    job_id: uuid.UUID | None
    last_seq: int
    has_summary: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def resolve_participant_ids(obj: FocusGroup) -> list[uuid.UUID]:
        """Uczestnicy w kolejności (z wcześniej pobranej relacji)."""
        return [link.persona_id for link in obj.participant_links.all()]

    @staticmethod
    def resolve_has_summary(obj: FocusGroup) -> bool:
        """Czy podsumowanie już jest."""
        return obj.summary is not None


class JobAccepted(Schema):
    """Zadanie przyjęte."""

    job_id: uuid.UUID


class InterjectionIn(InputSchema):
    """Pytanie albo sonda badacza w trakcie dyskusji."""

    text: RequiredText = Field(max_length=1000)


class EventsOut(Schema):
    """Zdarzenia po `after` w kolejności `seq`."""

    focus_group_id: uuid.UUID
    status: str
    last_seq: int
    events: list[dict[str, Any]]


def _fg(request: HttpRequest, focus_group_id: uuid.UUID) -> FocusGroup:
    return get_focus_group_for_user(request.user, focus_group_id)


@router.post("/projects/{project_id}/focus-groups", response={201: FocusGroupOut})
def create(request: HttpRequest, project_id: uuid.UUID, payload: FocusGroupIn) -> tuple[int, FocusGroup]:
    """Tworzy grupę fokusową (uczestnicy z panelu projektu)."""
    return 201, create_focus_group(get_project_for_user(request.user, project_id), payload)


@router.get("/projects/{project_id}/focus-groups", response=list[FocusGroupOut])
@paginate(Pages, page_size=25)
def list_focus_groups(request: HttpRequest, project_id: uuid.UUID) -> Any:
    """Grupy fokusowe projektu, od najnowszych."""
    project = get_project_for_user(request.user, project_id)
    return FocusGroup.objects.filter(project=project).prefetch_related("participant_links").order_by("-created_at")


@router.get("/focus-groups/{focus_group_id}", response=FocusGroupOut)
def detail(request: HttpRequest, focus_group_id: uuid.UUID) -> FocusGroup:
    """Jedna grupa."""
    return _fg(request, focus_group_id)


@router.patch("/focus-groups/{focus_group_id}", response={200: FocusGroupOut, 409: ErrorOut})
def update(request: HttpRequest, focus_group_id: uuid.UUID, payload: FocusGroupPatch) -> FocusGroup:
    """Zmienia grupę przed startem (potem 409)."""
    return update_focus_group(_fg(request, focus_group_id), payload)


@router.delete("/focus-groups/{focus_group_id}", response={204: None, 409: ErrorOut})
def delete(request: HttpRequest, focus_group_id: uuid.UUID) -> tuple[int, None]:
    """Usuwa grupę, która nie trwa."""
    fg = _fg(request, focus_group_id)
    if fg.is_active:
        raise Conflict("stop the focus group before deleting it")
    fg.delete()
    return 204, None


@router.get("/focus-groups/{focus_group_id}/estimate")
def estimate(request: HttpRequest, focus_group_id: uuid.UUID) -> dict[str, Any]:
    """Szacunkowy koszt przebiegu (wywołania, tokeny, USD) i czy mieści się w budżecie projektu."""
    return discussion.estimate_cost(_fg(request, focus_group_id))


@router.post("/focus-groups/{focus_group_id}/run", response={202: JobAccepted, 409: ErrorOut})
def run(request: HttpRequest, focus_group_id: uuid.UUID) -> tuple[int, dict[str, Any]]:
    """Startuje przebieg w tle (albo wznawia wstrzymany)."""
    job = discussion.start_run(_fg(request, focus_group_id), user=request.user)
    return 202, {"job_id": job.id}


@router.post("/focus-groups/{focus_group_id}/resume", response={202: JobAccepted, 409: ErrorOut})
def resume(request: HttpRequest, focus_group_id: uuid.UUID) -> tuple[int, dict[str, Any]]:
    """Wznawia wstrzymaną grupę od miejsca, w którym stanęła."""
    job = discussion.resume_run(_fg(request, focus_group_id), user=request.user)
    return 202, {"job_id": job.id}


@router.post("/focus-groups/{focus_group_id}/pause", response={200: FocusGroupOut, 409: ErrorOut})
def pause(request: HttpRequest, focus_group_id: uuid.UUID) -> FocusGroup:
    """Wstrzymuje przebieg przed następną turą."""
    return _control(request, focus_group_id, FocusGroup.Control.PAUSE)


@router.post("/focus-groups/{focus_group_id}/stop", response={200: FocusGroupOut, 409: ErrorOut})
def stop(request: HttpRequest, focus_group_id: uuid.UUID) -> FocusGroup:
    """Kończy przebieg przed następną turą (bez możliwości wznowienia)."""
    return _control(request, focus_group_id, FocusGroup.Control.STOP)


def _control(request: HttpRequest, focus_group_id: uuid.UUID, control: str) -> FocusGroup:
    return discussion.request_control(_fg(request, focus_group_id), control)


@router.post("/focus-groups/{focus_group_id}/interject", response={201: dict[str, Any], 409: ErrorOut})
def interject(request: HttpRequest, focus_group_id: uuid.UUID, payload: InterjectionIn) -> tuple[int, dict[str, Any]]:
    """Wtrącenie badacza: moderator zada je jako następną kwestię."""
    event = discussion.interject(_fg(request, focus_group_id), text=payload.text, user=request.user)
    return 201, event.as_dict()


@router.get("/focus-groups/{focus_group_id}/events", response=EventsOut)
def events(
    request: HttpRequest, focus_group_id: uuid.UUID, after: int = Query(0, ge=0), limit: int = Query(500, ge=1, le=1000)
) -> dict[str, Any]:
    """Zdarzenia z `seq` > `after` (najwyżej `limit`), rosnąco — do nadrabiania i odpytywania."""
    fg = _fg(request, focus_group_id)
    rows = FocusGroupEvent.objects.filter(focus_group=fg, seq__gt=after).order_by("seq")[:limit]
    return {
        "focus_group_id": fg.id,
        "status": fg.status,
        "last_seq": fg.last_seq,
        "events": [e.as_dict() for e in rows],
    }


@router.get("/focus-groups/{focus_group_id}/transcript")
def transcript(
    request: HttpRequest,
    focus_group_id: uuid.UUID,
    q: CleanText = Query("", max_length=200),  # noqa: B008 - parametr zapytania ninja, jak obok
    persona: uuid.UUID | None = None,
    question: int | None = Query(None, ge=0),
    stance: str = Query("", pattern="^(|support|neutral|oppose)$"),
) -> list[dict[str, Any]]:
    """Transkrypcja pogrupowana po pytaniach, z wyszukiwaniem i filtrami (persona, pytanie, stanowisko po pytaniu)."""
    return summary.transcript(
        _fg(request, focus_group_id), q=q, persona=str(persona or ""), question=question, stance=stance
    )


@router.get("/focus-groups/{focus_group_id}/statistics")
def statistics(request: HttpRequest, focus_group_id: uuid.UUID) -> dict[str, Any]:
    """Udział (tury, słowa), rozkład długości wypowiedzi i zmiany stanowisk."""
    return summary.statistics(_fg(request, focus_group_id))


@router.post("/focus-groups/{focus_group_id}/summary", response={202: JobAccepted, 409: ErrorOut})
def start_summary(
    request: HttpRequest, focus_group_id: uuid.UUID, regenerate: bool = False
) -> tuple[int, dict[str, Any]]:
    """Pisze (albo odświeża) podsumowanie w tle."""
    job = summary.start_summary(_fg(request, focus_group_id), user=request.user, regenerate=regenerate)
    return 202, {"job_id": job.id}


@router.get("/focus-groups/{focus_group_id}/summary", response={200: dict[str, Any], 404: ErrorOut})
def get_summary(request: HttpRequest, focus_group_id: uuid.UUID) -> tuple[int, dict[str, Any]]:
    """Podsumowanie z cytowaniami (numery `seq` wypowiedzi)."""
    fg = _fg(request, focus_group_id)
    if fg.summary is None:
        return 404, {"detail": "No summary yet: POST to this URL to write one."}
    return 200, fg.summary


@router.get("/focus-groups/{focus_group_id}/export")
def export(
    request: HttpRequest, focus_group_id: uuid.UUID, format: str = Query("md", pattern="^(md|pdf|csv|json)$")
) -> HttpResponse:  # noqa: A002 - nazwa parametru w API
    """Eksport: raport Markdown albo PDF, CSV wypowiedzi, JSON zdarzeń."""
    return summary.export(_fg(request, focus_group_id), format)
