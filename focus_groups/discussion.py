"""Przebieg grupy fokusowej: moderowana dyskusja (albo niezależne wywiady) zapisywana jako zdarzenia z `seq`.

Każdy krok ma klucz idempotencji (pytanie × persona × tura), więc wznowienie po śmierci workera pomija to, co już jest,
i nie gubi niczego. Sterowanie badacza (pauza, stop, wtrącenie) jest sprawdzane między turami. Odpowiedź, która po
ponownych pytaniach wciąż nie pasuje do schematu, zostaje zapisana jako zdarzenie `error` (widoczne w transkrypcji);
błąd dostawcy po ponowieniach kończy przebieg statusem `failed`, a wznowienie powtarza dokładnie ten krok.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from asgiref.sync import async_to_sync, sync_to_async
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, Field

from focus_groups.models import FocusGroup, FocusGroupEvent
from focus_groups.turns import PastTurn, Speaker, is_forced_floor, next_speaker
from personas.models import Persona
from sight import jobs, live, llm
from sight.errors import Conflict
from sight.models import Job, User

log = logging.getLogger(__name__)

DIGEST_CHARS = 1500
TRANSCRIPT_TURNS = 12
Kind = FocusGroupEvent.Kind


class ModeratorLine(BaseModel):
    """Wypowiedź moderatora."""

    text: str = Field(min_length=3, max_length=1500)


class TurnOut(BaseModel):
    """Wypowiedź uczestnika: może zwrócić się do kogoś i zgodzić albo nie zgodzić z innymi po imieniu."""

    text: str = Field(min_length=3, max_length=2500)
    addressed_to: str | None = Field(
        None, max_length=120, description="name of the participant addressed directly, if any"
    )
    agrees_with: list[str] = Field(default_factory=list, max_length=6)
    disagrees_with: list[str] = Field(default_factory=list, max_length=6)


class StanceOut(BaseModel):
    """Prywatne stanowisko wobec pytania."""

    stance: Literal["support", "neutral", "oppose"]
    reason: str = Field(min_length=3, max_length=400)


class AnswerOut(BaseModel):
    """Odpowiedź w niezależnym wywiadzie."""

    text: str = Field(min_length=3, max_length=2500)


# --- start i sterowanie ---------------------------------------------------------------------------------------------


def start_run(focus_group: FocusGroup, *, user: User | None) -> Job:
    """Startuje (albo wznawia) przebieg w tle; grupa zakończona albo już trwająca to Conflict."""
    with transaction.atomic():
        fg = FocusGroup.objects.select_for_update().get(pk=focus_group.pk)
        if fg.is_active:
            raise Conflict(_("The focus group is already running."))
        if fg.is_closed:
            raise Conflict(_("The focus group has finished; create a new one to run it again."))
        if not fg.questions or not fg.participant_links.exists():
            raise Conflict(_("Add at least one question and one participant before running the focus group."))
        fg.job = jobs.start_job(
            kind="focus_groups.run",
            user=user,
            project=fg.project,
            params={"focus_group_id": str(fg.id)},
            queue="llm",
            total=planned_steps(fg),
        )
        fg.status, fg.control = FocusGroup.Status.QUEUED, FocusGroup.Control.NONE
        fg.save(update_fields=["job", "status", "control", "updated_at"])
    focus_group.refresh_from_db()
    return fg.job


def resume_run(focus_group: FocusGroup, *, user: User | None) -> Job:
    """Wznawia wstrzymaną (albo przerwaną błędem lub budżetem) grupę od miejsca, w którym stanęła."""
    if not focus_group.is_resumable:
        raise Conflict(
            format_lazy(
                _("Only a paused, failed or over-budget focus group can be resumed; this one is {status}."),
                status=FocusGroup.Status(focus_group.status).label,
            )
        )
    return start_run(focus_group, user=user)


def planned_steps(fg: FocusGroup) -> int:
    """Liczba kroków do paska postępu: wypowiedzi (dyskusja) albo odpowiedzi (wywiady)."""
    people = fg.participant_links.count()
    per_question = fg.turns_per_question if fg.mode == FocusGroup.Mode.DISCUSSION else people
    return len(fg.questions) * per_question


def request_control(fg: FocusGroup, control: str) -> FocusGroup:
    """Pauza albo stop: worker zatrzyma się przed następną turą (grupa w kolejce zatrzymuje się od razu)."""
    with transaction.atomic():
        fg = FocusGroup.objects.select_for_update().get(pk=fg.pk)
        if fg.status == FocusGroup.Status.QUEUED and fg.job_id:
            jobs.cancel(fg.job)
            fg.status = FocusGroup.Status.PAUSED if control == FocusGroup.Control.PAUSE else FocusGroup.Status.STOPPED
        elif fg.status == FocusGroup.Status.PAUSED and control == FocusGroup.Control.STOP:
            fg.status = FocusGroup.Status.STOPPED
        elif fg.status != FocusGroup.Status.RUNNING:
            raise Conflict(
                format_lazy(
                    _("A focus group that is {status} cannot be paused or stopped."),
                    status=FocusGroup.Status(fg.status).label,
                )
            )
        fg.control = control
        fg.save(update_fields=["control", "status", "updated_at"])
    _publish_status(fg)
    return fg


def interject(fg: FocusGroup, *, text: str, user: User | None) -> FocusGroupEvent:
    """Pytanie albo sonda badacza: zdarzenie, które moderator zada jako następną kwestię (w przerwanej dyskusji — po
    wznowieniu); grupa zamknięta to Conflict.
    """
    if not fg.accepts_interjections:
        raise Conflict(_("The discussion has finished, so it can no longer be interrupted."))
    count = fg.events.filter(kind=Kind.INTERJECTION).count()
    # Wtrącenie należy do pytania, które właśnie trwa (w transkrypcji stoi przy nim); przed pierwszym pytaniem — do
    # żadnego.
    current = fg.events.filter(kind=Kind.QUESTION).order_by("-seq").values_list("question_index", flat=True).first()
    event, _created = fg.append_event(
        Kind.INTERJECTION,
        key=f"interjection:{count}:{user.pk if user else 'api'}:{abs(hash(text)) % 10**8}",
        payload={"text": text},
        question_index=current,
    )
    publish_event(fg, event)
    return event


# --- przebieg w workerze ---------------------------------------------------------------------------------------------


@dataclass
class Room:
    """Stan sali w pamięci workera, odtwarzany ze zdarzeń przy starcie (wznowienie)."""

    fg: FocusGroup
    job: Job
    people: list[Persona]
    keys: set[str] = field(default_factory=set)
    digests: list[str] = field(default_factory=list)
    done: int = 0

    @property
    def by_id(self) -> dict[str, Persona]:
        return {str(p.id): p for p in self.people}


class Halt(Exception):
    """Badacz zatrzymał albo wstrzymał przebieg."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def run_focus_group(job: Job) -> dict[str, Any]:
    """Obsługa zadania `focus_groups.run`: pytania po kolei, od miejsca, w którym przebieg stanął."""
    fg = FocusGroup.objects.select_related("project").get(pk=job.params["focus_group_id"])
    people = [link.persona for link in fg.participant_links.select_related("persona")]
    room = Room(fg=fg, job=job, people=people, keys=set(fg.events.values_list("key", flat=True)))
    room.done = fg.events.filter(kind__in=(Kind.TURN, Kind.ANSWER)).count()
    room.digests = [e.payload.get("digest", "") for e in fg.events.filter(kind=Kind.QUESTION_CLOSED).order_by("seq")]
    fg.control = FocusGroup.Control.NONE
    fg.save(update_fields=["control", "updated_at"])
    fg.set_status(FocusGroup.Status.RUNNING)
    _publish_status(fg)
    try:
        for qi, question in enumerate(fg.questions):
            if f"q{qi}:close" in room.keys:
                continue
            if fg.mode == FocusGroup.Mode.INTERVIEWS:
                async_to_sync(_interview_question)(room, qi, question)
            else:
                async_to_sync(_discuss_question)(room, qi, question)
    except Halt as halt:
        fg.set_status(halt.status)
        _publish_status(fg)
        return {"focus_group_id": str(fg.id), "status": halt.status}
    except llm.BudgetExceeded as exc:
        fg.set_status(FocusGroup.Status.BUDGET_EXCEEDED, error=str(exc))
        _publish_status(fg)
        return {"focus_group_id": str(fg.id), "status": fg.status}
    except jobs.JobCancelled:
        fg.set_status(FocusGroup.Status.STOPPED)
        _publish_status(fg)
        raise
    except Exception as exc:
        fg.set_status(FocusGroup.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
        _publish_status(fg)
        raise
    fg.set_status(FocusGroup.Status.COMPLETED)
    _publish_status(fg)
    jobs.report_progress(job, done=room.done, message="completed")
    return {"focus_group_id": str(fg.id), "status": fg.status, "events": fg.last_seq}


async def _discuss_question(room: Room, qi: int, question: dict[str, Any]) -> None:
    """Jedno pytanie dyskusji: otwarcie, stanowiska przed, tury z licytacją głosu, sondy, wtrącenia, stanowiska po."""
    fg = room.fg
    await _append(
        room,
        Kind.QUESTION,
        f"q{qi}:question",
        {"text": question["text"], "probes": question.get("probes", [])},
        question_index=qi,
    )
    await _moderate(
        room, qi, question["text"], f"q{qi}:open", "Open this question for the group in one or two sentences."
    )
    await _stances(room, qi, question["text"], "before")
    speakers = [Speaker(id=str(p.id), name=p.full_name, extraversion=p.extraversion) for p in room.people]
    probes = list(question.get("probes", []))
    turns = fg.turns_per_question
    for t in range(turns):
        await _check_control(room)
        await _pending_interjections(room, qi, question["text"])
        for k, probe in enumerate(probes):
            if t == (k + 1) * turns // (len(probes) + 1) and t > 0:
                await _moderate(
                    room,
                    qi,
                    question["text"],
                    f"q{qi}:probe:{k}",
                    f"Ask this follow-up probe naturally, in your own words: {probe}",
                )
        key = f"q{qi}:turn:{t}"
        if key in room.keys:
            continue
        history = await _history(room, qi)
        speaker = next_speaker(speakers, history, turns_left=turns - t, seed=f"{fg.id}:{qi}")
        if is_forced_floor(speaker, speakers, history, turns_left=turns - t, seed=f"{fg.id}:{qi}"):
            await _moderate(
                room,
                qi,
                question["text"],
                f"q{qi}:invite:{t}",
                f"Invite {speaker.name}, who has not spoken yet, to share their view.",
            )
        await _turn(room, qi, question["text"], room.by_id[speaker.id], key, history)
    await _stances(room, qi, question["text"], "after")
    await _close_question(room, qi)


async def _interview_question(room: Room, qi: int, question: dict[str, Any]) -> None:
    """Jedno pytanie w trybie wywiadów: każda persona odpowiada niezależnie (równolegle, limit roli)."""
    await _append(
        room,
        Kind.QUESTION,
        f"q{qi}:question",
        {"text": question["text"], "probes": question.get("probes", [])},
        question_index=qi,
    )
    await _check_control(room)
    asked = [question["text"], *question.get("probes", [])]
    prompt_q = "\n".join(asked)

    async def answer(persona: Persona) -> None:
        key = f"q{qi}:answer:{persona.id}"
        if key in room.keys:
            return
        variables = {
            "persona_profile": profile_text(persona),
            "question": prompt_q,
            "transcript": "-",
            "summary_so_far": "-",
            "addressed_by": "-",
        }
        try:
            out = await llm.agenerate(
                "focus_group_turn",
                prompt="focus_group_turn",
                language=room.fg.project.language,
                variables=variables,
                schema=AnswerOut,
                project=room.fg.project,
                job=room.job,
            )
        except llm.LLMOutputError as exc:
            await _append(
                room,
                Kind.ERROR,
                key,
                {"error": f"{type(exc).__name__}: {exc}"[:1000], "persona_name": persona.full_name},
                persona=persona,
                question_index=qi,
            )
            return
        await _append(
            room,
            Kind.ANSWER,
            key,
            {"text": out.text, "persona_name": persona.full_name},
            persona=persona,
            question_index=qi,
        )
        room.done += 1
        await sync_to_async(jobs.report_progress)(room.job, done=room.done, message=persona.full_name)

    await _all(answer(persona) for persona in room.people)
    await _close_question(room, qi)


# --- kroki -----------------------------------------------------------------------------------------------------------


async def _append(
    room: Room,
    kind: str,
    key: str,
    payload: dict[str, Any],
    *,
    persona: Persona | None = None,
    question_index: int | None = None,
) -> FocusGroupEvent | None:
    """Zapisuje zdarzenie (jeśli klucza jeszcze nie ma) i publikuje je na żywo."""
    if key in room.keys:
        return None
    event, created = await sync_to_async(room.fg.append_event)(
        kind, key=key, payload=payload, persona_id=persona.id if persona else None, question_index=question_index
    )
    room.keys.add(key)
    if created:
        await sync_to_async(publish_event)(room.fg, event)
    return event


async def _moderate(
    room: Room, qi: int, question: str, key: str, instruction: str, extra: dict[str, Any] | None = None
) -> None:
    if key in room.keys:
        return
    transcript = await _transcript(room, qi)
    variables = {
        "project_name": room.fg.project.name,
        "question": question,
        "transcript": transcript or "-",
        "summary_so_far": _summary_so_far(room),
        "instruction": instruction,
    }
    try:
        out = await llm.agenerate(
            "moderator",
            prompt="moderator",
            language=room.fg.project.language,
            variables=variables,
            schema=ModeratorLine,
            project=room.fg.project,
            job=room.job,
        )
    except llm.LLMOutputError as exc:
        await _append(
            room,
            Kind.ERROR,
            key,
            {"error": f"{type(exc).__name__}: {exc}"[:1000], "speaker": "moderator"},
            question_index=qi,
        )
        return
    await _append(room, Kind.MODERATOR, key, {"text": out.text, **(extra or {})}, question_index=qi)


async def _turn(room: Room, qi: int, question: str, persona: Persona, key: str, history: list[PastTurn]) -> None:
    """Wypowiedź uczestnika z profilem, pytaniem, transkrypcją pytania i streszczeniem poprzednich pytań."""
    addressed_by = (
        await _addressed_by(room, qi, persona) if history and history[-1].addressed_id == str(persona.id) else "-"
    )
    variables = {
        "persona_profile": profile_text(persona),
        "question": question,
        "transcript": await _transcript(room, qi) or "-",
        "summary_so_far": _summary_so_far(room),
        "addressed_by": addressed_by,
    }
    try:
        out = await llm.agenerate(
            "focus_group_turn",
            prompt="focus_group_turn",
            language=room.fg.project.language,
            variables=variables,
            schema=TurnOut,
            project=room.fg.project,
            job=room.job,
        )
    except llm.LLMOutputError as exc:
        await _append(
            room,
            Kind.ERROR,
            key,
            {"error": f"{type(exc).__name__}: {exc}"[:1000], "persona_name": persona.full_name},
            persona=persona,
            question_index=qi,
        )
        return
    names = {p.full_name.lower(): str(p.id) for p in room.people if p.id != persona.id}
    addressed_id = _match_name(out.addressed_to, names)
    payload = {
        "text": out.text,
        "persona_name": persona.full_name,
        "addressed_to": out.addressed_to if addressed_id else None,
        "addressed_to_id": addressed_id,
        "agrees_with": [i for i in (_match_name(n, names) for n in out.agrees_with) if i],
        "disagrees_with": [i for i in (_match_name(n, names) for n in out.disagrees_with) if i],
        "turn": int(key.rsplit(":", 1)[1]),
    }
    await _append(room, Kind.TURN, key, payload, persona=persona, question_index=qi)
    room.done += 1
    await sync_to_async(jobs.report_progress)(room.job, done=room.done, message=persona.full_name)


def _match_name(name: str | None, names: dict[str, str]) -> str | None:
    """Identyfikator uczestnika po imieniu i nazwisku albo samym imieniu (bez rozróżniania wielkości liter)."""
    if not name:
        return None
    wanted = name.strip().lower()
    if wanted in names:
        return names[wanted]
    firsts = {full.split()[0]: pid for full, pid in names.items() if full}
    return firsts.get(wanted.split()[0]) if wanted else None


async def _stances(room: Room, qi: int, question: str, when: str) -> None:
    """Prywatne stanowiska wszystkich uczestników (równolegle), przed albo po pytaniu."""
    transcript = await _transcript(room, qi) if when == "after" else "-"

    async def one(persona: Persona) -> None:
        key = f"q{qi}:stance:{when}:{persona.id}"
        if key in room.keys:
            return
        variables = {"persona_profile": profile_text(persona), "question": question, "transcript": transcript or "-"}
        try:
            out = await llm.agenerate(
                "stance",
                prompt="stance",
                language=room.fg.project.language,
                variables=variables,
                schema=StanceOut,
                project=room.fg.project,
                job=room.job,
            )
        except llm.LLMOutputError as exc:
            await _append(
                room,
                Kind.ERROR,
                key,
                {"error": f"{type(exc).__name__}: {exc}"[:1000], "persona_name": persona.full_name},
                persona=persona,
                question_index=qi,
            )
            return
        await _append(
            room,
            Kind.STANCE,
            key,
            {"when": when, "stance": out.stance, "reason": out.reason, "persona_name": persona.full_name},
            persona=persona,
            question_index=qi,
        )

    await _all(one(persona) for persona in room.people)


async def _all(coros: Any) -> None:
    """Uruchamia kroki równolegle (limit roli w `llm.agenerate`), czeka na wszystkie, potem zgłasza pierwszy błąd."""
    results = await asyncio.gather(*coros, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _pending_interjections(room: Room, qi: int, question: str) -> None:
    """Wtrącenia badacza, których moderator jeszcze nie zadał, stają się następną kwestią moderatora."""
    pending = await sync_to_async(
        lambda: [
            e
            for e in room.fg.events.filter(kind=Kind.INTERJECTION).order_by("seq")
            if f"interject:{e.seq}" not in room.keys
        ]
    )()
    for event in pending:
        await _moderate(
            room,
            qi,
            question,
            f"interject:{event.seq}",
            f"The researcher asks the group this (pose it as the next question, in your own words): {event.text}",
            extra={"interjection_seq": event.seq},
        )


async def _close_question(room: Room, qi: int) -> None:
    digest = await _digest(room, qi)
    await _append(room, Kind.QUESTION_CLOSED, f"q{qi}:close", {"digest": digest}, question_index=qi)
    room.digests.append(digest)


async def _check_control(room: Room) -> None:
    control = await sync_to_async(lambda: FocusGroup.objects.values_list("control", flat=True).get(pk=room.fg.pk))()
    if control == FocusGroup.Control.PAUSE:
        raise Halt(FocusGroup.Status.PAUSED)
    if control == FocusGroup.Control.STOP:
        raise Halt(FocusGroup.Status.STOPPED)


# --- transkrypcja i kontekst ---------------------------------------------------------------------------------------


def profile_text(persona: Persona) -> str:
    """Zwięzły profil persony do promptów rozmowy."""
    facts = ", ".join(
        v for v in [f"{persona.age}" if persona.age else "", persona.gender, persona.occupation, persona.location] if v
    )
    return "\n".join(
        x
        for x in [
            f"{persona.full_name} ({facts})",
            persona.headline,
            f"Values: {', '.join(persona.values)}",
            f"Communication style: {persona.communication_style}",
            f"Decision style: {persona.decision_style}",
            f"Concerns: {', '.join(persona.concerns)}",
            persona.background_story[:1500],
        ]
        if x
    )


async def _question_events(room: Room, qi: int) -> list[FocusGroupEvent]:
    return await sync_to_async(
        lambda: list(room.fg.events.filter(question_index=qi, kind__in=(Kind.MODERATOR, Kind.TURN)).order_by("seq"))
    )()


async def _transcript(room: Room, qi: int) -> str:
    """Ostatnie wypowiedzi bieżącego pytania (koszt nie rośnie z kwadratem całej dyskusji)."""
    events = (await _question_events(room, qi))[-TRANSCRIPT_TURNS:]
    return "\n".join(f"[{e.seq}] {e.payload.get('persona_name') or 'Moderator'}: {e.text}" for e in events)


async def _history(room: Room, qi: int) -> list[PastTurn]:
    events = await sync_to_async(
        lambda: list(
            room.fg.events.filter(question_index=qi, kind=Kind.TURN)
            .order_by("seq")
            .values_list("persona_id", "payload")
        )
    )()
    return [PastTurn(str(pid), payload.get("addressed_to_id")) for pid, payload in events]


async def _addressed_by(room: Room, qi: int, persona: Persona) -> str:
    events = await _question_events(room, qi)
    last = next((e for e in reversed(events) if e.kind == Kind.TURN), None)
    return f"{last.payload.get('persona_name')}: {last.text}" if last else "-"


def _summary_so_far(room: Room) -> str:
    """Streszczenie wcześniejszych pytań (ograniczona długość)."""
    text = "\n".join(f"Q{i + 1}: {d}" for i, d in enumerate(room.digests) if d)
    return text[-DIGEST_CHARS:] or "-"


async def _digest(room: Room, qi: int) -> str:
    """Ekstrakcyjne streszczenie pytania: pierwsze zdanie każdej wypowiedzi, przycięte."""
    events = [e for e in await _question_events(room, qi) if e.kind == Kind.TURN]
    parts = [f"{e.payload.get('persona_name')}: {_first_sentence(e.text)}" for e in events]
    return " | ".join(parts)[: DIGEST_CHARS // 2]


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0][:200]


# --- na żywo ---------------------------------------------------------------------------------------------------------


def publish_event(fg: FocusGroup, event: FocusGroupEvent) -> None:
    """Powiadamia widzów: JSON dla API, fragment `#event` strony dla przeglądarki (po zapisie w PostgreSQL)."""
    data = event.as_dict()
    live.publish(
        fg.group_name,
        {
            "type": "event",
            "event": data,
            "fragments": [{"template": "focus_groups/detail.html#event_live", "context": {"e": data}}],
        },
    )


def _publish_status(fg: FocusGroup) -> None:
    state = fg.live_state()
    live.publish(
        fg.group_name,
        {
            "type": "status",
            "focus_group": state,
            "fragments": [{"template": "focus_groups/detail.html#status_live", "context": {"state": state}}],
        },
    )
