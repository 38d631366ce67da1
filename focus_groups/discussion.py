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
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from asgiref.sync import sync_to_async
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from pydantic import BaseModel, ConfigDict, Field

import config
from focus_groups.models import FocusGroup, FocusGroupEvent
from focus_groups.turns import PastTurn, Speaker, is_forced_floor, next_speaker
from personas.models import Persona
from rag import grounding
from sight import jobs, live, llm
from sight.batches import GroupWriter
from sight.errors import Conflict
from sight.models import Job, User

log = logging.getLogger(__name__)

DIGEST_CHARS = 1500
TRANSCRIPT_TURNS = 12
# Równoległe odpowiedzi wywiadów: postęp i sterowanie badacza najwyżej co tyle sekund (ostatni postęp zawsze trafia do
# bazy), zamiast zapisu i zapytania przy każdej odpowiedzi.
PROGRESS_THROTTLE_SECONDS = 0.25
CONTROL_CHECK_SECONDS = 0.25
Kind = FocusGroupEvent.Kind
SPOKEN = (Kind.MODERATOR, Kind.TURN)


class ModeratorLine(BaseModel):
    """Wypowiedź moderatora."""

    text: str = Field(min_length=3, max_length=1500)


class TurnOut(BaseModel):
    """Wypowiedź uczestnika: może zwrócić się do kogoś i zgodzić albo nie zgodzić z innymi po imieniu."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=3, max_length=2500)
    addressed_to: str | None = Field(
        None, max_length=120, description="name of the participant addressed directly, if any"
    )
    agrees_with: list[str] = Field(default_factory=list, max_length=6)
    disagrees_with: list[str] = Field(default_factory=list, max_length=6)


class StanceOut(BaseModel):
    """Prywatne stanowisko wobec tezy pytania."""

    stance: Literal["support", "neutral", "oppose"]
    reason: str = Field(min_length=3, max_length=400)


class AnswerOut(BaseModel):
    """Odpowiedź w niezależnym wywiadzie."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=3, max_length=2500)


class GroundedTurnOut(TurnOut, grounding.Grounded):
    """Wypowiedź z cytowanymi fragmentami dokumentów (grupa, której uczestnicy znają dokumenty projektu)."""


class GroundedAnswerOut(AnswerOut, grounding.Grounded):
    """Odpowiedź w wywiadzie z cytowanymi fragmentami dokumentów."""


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
    """Liczba kroków do paska postępu: wypowiedzi (dyskusja) albo odpowiedzi (wywiady); stanowiska nie są krokami."""
    people = fg.participant_links.count()
    per_question = fg.turns_per_question if fg.mode == FocusGroup.Mode.DISCUSSION else people
    return len(fg.questions) * per_question


def planned_calls(fg: FocusGroup) -> dict[str, int]:
    """Wywołania modelu per rola, jakie wykona przebieg (jak silnik poniżej: dyskusja — otwarcie, ~2 zaproszenia albo
    sondy i zamknięcie moderatora na pytanie, tury, stanowiska przed i po — tylko w pytaniach z tezą; wywiady —
    odpowiedź każdej persony na każde pytanie).
    """
    people, questions = fg.participant_links.count(), len(fg.questions)
    if fg.mode == FocusGroup.Mode.INTERVIEWS:
        return {"focus_group_turn": questions * people}
    calls = {"moderator": questions * (1 + 2 + 1), "focus_group_turn": questions * fg.turns_per_question}
    with_proposition = sum(1 for p in fg.propositions() if p)
    if with_proposition:
        calls["stance"] = with_proposition * people * 2
    return calls


def estimate_cost(fg: FocusGroup) -> dict[str, Any]:
    """Szacunek przed startem: liczba wywołań i tokenów per rola (szacunek z `models.yaml`) oraz koszt wg cennika."""
    models = config.load_models()
    total_cost, total_tokens, roles = 0.0, 0, []
    calls = planned_calls(fg)
    for role, n in calls.items():
        guess, model = models.estimate(role), llm.resolve(role).model
        tokens = (guess.input_tokens + guess.output_tokens) * n
        cost = float(llm.cost_usd(model, guess.input_tokens * n, guess.output_tokens * n))
        roles.append({"role": role, "calls": n, "model": model, "tokens": tokens, "cost_usd": round(cost, 4)})
        total_cost += cost
        total_tokens += tokens
    budget_left = fg.project.budget_left()
    return {
        "calls": sum(calls.values()),
        "tokens": total_tokens,
        "cost_usd": round(total_cost, 4),
        "roles": roles,
        "budget_left": budget_left,
        "fits_budget": budget_left is None or budget_left >= total_tokens,
    }


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
    control_checked_at: float = 0.0
    # Kwestie moderatora i tury per pytanie (tylko ten worker je dopisuje): transkrypcja, historia i streszczenie bez
    # zapytań do bazy przy każdej turze.
    spoken: dict[int, list[FocusGroupEvent]] = field(default_factory=dict)
    # Fragmenty dokumentów na pytanie (raz na pytanie, gdy uczestnicy znają dokumenty projektu).
    groundings: dict[int, grounding.Grounding] = field(default_factory=dict)
    grounding_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    writer: GroupWriter[tuple[dict[str, Any], bool], tuple[FocusGroupEvent, bool]] = field(init=False)

    def __post_init__(self) -> None:
        self.writer = GroupWriter(self._store, after=self._publish)

    def _store(self, batch: list[tuple[dict[str, Any], bool]]) -> list[tuple[FocusGroupEvent, bool]]:
        """Partia zdarzeń (element: pola zdarzenia, czy to krok postępu) i jeden raport postępu zadania."""
        results = self.fg.append_events([item for item, _ in batch])
        steps = [item["payload"].get("persona_name") for item, step in batch if step]
        if steps:
            self.done += len(steps)
            jobs.report_progress(self.job, done=self.done, message=steps[-1], throttle=PROGRESS_THROTTLE_SECONDS)
        return results

    async def _publish(self, results: list[tuple[FocusGroupEvent, bool]]) -> None:
        """Zapisane zdarzenia partii na żywo jedną wiadomością, w kolejności numerów (z zapisu, nie z kroków)."""
        created = [event for event, new in results if new]
        if len(created) == 1:
            await live.apublish(self.fg.group_name, event_message(created[0]))
        elif created:
            await live.apublish(self.fg.group_name, {"type": "events", "events": [e.as_dict() for e in created]})

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
    room = Room(fg=fg, job=job, people=people)
    # Stan sali ze zdarzeń jednym zapytaniem (wznowienie): klucze, postęp, streszczenia pytań, transkrypcja.
    for event in fg.events.order_by("seq"):
        room.keys.add(event.key)
        room.done += event.kind in (Kind.TURN, Kind.ANSWER)
        if event.kind == Kind.QUESTION_CLOSED:
            room.digests.append(event.payload.get("digest", ""))
        elif event.kind in SPOKEN:
            room.spoken.setdefault(event.question_index, []).append(event)
    fg.control = FocusGroup.Control.NONE  # zapisane razem ze statusem
    fg.set_status(FocusGroup.Status.RUNNING, also=("control",))
    _publish_status(fg)
    try:
        llm.run_in_loop(_run_questions, room)
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
    job.progress_done, job.message, job.message_params = (
        room.done,
        gettext_noop("completed"),
        {},
    )  # zapisze je koniec zadania (`jobs.execute`)
    return {"focus_group_id": str(fg.id), "status": fg.status, "events": fg.last_seq}


async def _run_questions(room: Room) -> None:
    """Wszystkie pytania w jednej pętli zdarzeń na zadanie: klienci HTTP dostawcy i limity ról żyją tyle co ona.

    Zdarzenia zapisują się w tle (`_append`); przed powrotem — także przy pauzie, stopie i błędzie — wszystkie
    zgłoszone są już w bazie i na żywo.
    """
    try:
        if room.fg.mode == FocusGroup.Mode.INTERVIEWS:
            await _interviews(room)
        else:
            for qi, question in enumerate(room.fg.questions):
                if f"q{qi}:close" not in room.keys:
                    await _discuss_question(room, qi, question)
    except BaseException:
        try:
            await room.writer.drain()
        except Exception:
            log.exception("could not store the events of focus group %s", room.fg.pk)
        raise
    await room.writer.drain()


async def _discuss_question(room: Room, qi: int, question: dict[str, Any]) -> None:
    """Jedno pytanie dyskusji: otwarcie, stanowiska przed, tury z licytacją głosu, sondy, wtrącenia, stanowiska po.

    Stanowiska (przed i po) tylko wobec tezy pytania; pytanie otwarte („Jak kupujesz kawę?”) ich nie ma.
    """
    fg = room.fg
    proposition = question.get("proposition") or ""
    await _append(room, Kind.QUESTION, f"q{qi}:question", _question_payload(question), question_index=qi)
    await _moderate(room, qi, question["text"], f"q{qi}:open", _instruction(room, "open"))
    if proposition:
        await _stances(room, qi, proposition, "before")
    speakers = [Speaker(id=str(p.id), name=p.full_name, extraversion=p.extraversion) for p in room.people]
    probes = list(question.get("probes", []))
    turns = fg.turns_per_question
    for t in range(turns):
        await _pending_interjections(room, qi, question["text"])
        for k, probe in enumerate(probes):
            if t == probe_turn(k, len(probes), turns):
                await _moderate(
                    room,
                    qi,
                    question["text"],
                    f"q{qi}:probe:{k}",
                    _instruction(room, "probe", probe=probe),
                )
        key = f"q{qi}:turn:{t}"
        if key in room.keys:
            continue
        history = _history(room, qi)
        speaker = next_speaker(speakers, history, turns_left=turns - t, seed=f"{fg.id}:{qi}")
        if is_forced_floor(speaker, speakers, history, turns_left=turns - t, seed=f"{fg.id}:{qi}"):
            await _moderate(
                room,
                qi,
                question["text"],
                f"q{qi}:invite:{t}",
                _instruction(room, "invite", name=speaker.name),
            )
        await _turn(room, qi, question["text"], room.by_id[speaker.id], key, history)
    await _moderate(room, qi, question["text"], f"q{qi}:wrap", _instruction(room, "close"))
    if proposition:
        await _stances(room, qi, proposition, "after")
    await _close_question(room, qi)


def probe_turn(k: int, probes: int, turns: int) -> int:
    """Przed którą turą moderator zadaje sondę `k`: równo rozłożone, nigdy przed pierwszą wypowiedzią (chyba że tura
    jest jedna) i nigdy po ostatniej — każda sonda przewodnika pada, nawet gdy tur jest mniej niż sond.
    """
    return min(turns - 1, max(1, (k + 1) * turns // (probes + 1)))


async def _interviews(room: Room) -> None:
    """Wywiady: każda persona odpowiada na każde pytanie osobno. Niezależne odpowiedzi idą wszystkie naraz (limit roli),
    a odpowiedzi widzące wcześniejsze odpowiedzi persony — po kolei dla każdej persony (persony równolegle).
    """
    pending = [(qi, q) for qi, q in enumerate(room.fg.questions) if f"q{qi}:close" not in room.keys]
    # Zdarzenia pytań (i zamknięcia na końcu) naraz: jedna partia zapisu zamiast przejścia do wątku ORM na każde.
    await _all(
        _append(room, Kind.QUESTION, f"q{qi}:question", _question_payload(q), question_index=qi) for qi, q in pending
    )
    if room.fg.interview_context == FocusGroup.InterviewContext.EARLIER_ANSWERS:
        earlier = await sync_to_async(_earlier_answers)(room)
        await _all(_interview_in_order(room, persona, pending, earlier) for persona in room.people)
    else:
        await _all(_answer(room, qi, question, persona, "-") for qi, question in pending for persona in room.people)
    await _all(_close_question(room, qi) for qi, _question in pending)


def _earlier_answers(room: Room) -> dict[tuple[str, int], str]:
    """Zapisane już odpowiedzi (persona, pytanie) → tekst; po wznowieniu kolejne odpowiedzi wciąż je widzą."""
    answers = room.fg.events.filter(kind=Kind.ANSWER).values_list("persona_id", "question_index", "payload")
    return {(str(pid), qi): payload.get("text", "") for pid, qi, payload in answers}


async def _interview_in_order(
    room: Room, persona: Persona, pending: list[tuple[int, dict[str, Any]]], earlier: dict[tuple[str, int], str]
) -> None:
    for qi, question in pending:
        seen = [
            f"Q{i + 1}: {q['text']}\nA: {earlier[(str(persona.id), i)]}"
            for i, q in enumerate(room.fg.questions[:qi])
            if (str(persona.id), i) in earlier
        ]
        text = await _answer(room, qi, question, persona, "\n".join(seen) or "-")
        if text is not None:
            earlier[(str(persona.id), qi)] = text


async def _answer(room: Room, qi: int, question: dict[str, Any], persona: Persona, transcript: str) -> str | None:
    """Odpowiedź persony na pytanie (z sondami) w wywiadzie; tekst albo None, gdy już była lub zapisano błąd."""
    key = f"q{qi}:answer:{persona.id}"
    if key in room.keys:
        return None
    await _check_control(room, throttle=CONTROL_CHECK_SECONDS)
    variables = {
        "persona_profile": persona.prompt_profile(),
        "question": "\n".join([question["text"], *question.get("probes", [])]),
        "transcript": transcript,
        "summary_so_far": "-",
        "addressed_by": "-",
    }
    grounded = await _grounding(room, qi, variables["question"])
    schema = GroundedAnswerOut if grounded.hits else AnswerOut
    out = await _generate_or_error(
        room, "focus_group_turn", schema, variables, key, qi=qi, persona=persona, data=grounded.block
    )
    if out is None:
        return None
    payload = {"text": out.text, "persona_name": persona.full_name, **grounding.provenance(grounded, out)}
    await _append(room, Kind.ANSWER, key, payload, persona=persona, question_index=qi, step=True)
    return out.text


# --- kroki -----------------------------------------------------------------------------------------------------------


def _question_payload(question: dict[str, Any]) -> dict[str, Any]:
    """Zdarzenie pytania: treść, sondy i teza (gdy jest), by strumień na żywo i transkrypcja ją pokazały."""
    payload = {"text": question["text"], "probes": question.get("probes", [])}
    if question.get("proposition"):
        payload["proposition"] = question["proposition"]
    return payload


async def _append(
    room: Room,
    kind: str,
    key: str,
    payload: dict[str, Any],
    *,
    persona: Persona | None = None,
    question_index: int | None = None,
    step: bool = False,
) -> None:
    """Zgłasza zdarzenie do zapisu (jeśli klucza jeszcze nie ma); `step`: wypowiedź liczona do postępu.

    Krok nie czeka na bazę: zapis idzie w tle partią z innymi (`GroupWriter`), potem publikacja na żywo w kolejności
    numerów, a następne wywołanie modelu już trwa. Transkrypcja w pamięci sali dostaje wypowiedź od razu.
    """
    if key in room.keys:
        return
    item = {
        "kind": kind,
        "key": key,
        "payload": payload,
        "persona_id": persona.id if persona else None,
        "question_index": question_index,
    }
    room.writer.submit((item, step))
    room.keys.add(key)
    if kind in SPOKEN:
        spoken = FocusGroupEvent(kind=kind, key=key, payload=payload, persona=persona, question_index=question_index)
        room.spoken.setdefault(question_index, []).append(spoken)


def _instruction(room: Room, name: str, /, **values: str) -> str:
    """Polecenie moderatora na turę z `config/prompts/<język>/moderator.yaml` (w języku projektu)."""
    return config.load_prompts().get("moderator", room.fg.project.language).instruction(name, **values)


async def _moderate(
    room: Room, qi: int, question: str, key: str, instruction: str, extra: dict[str, Any] | None = None
) -> None:
    if key in room.keys:
        return
    transcript = _transcript(room, qi)
    variables = {
        "project_name": room.fg.project.name,
        "question": question,
        "transcript": transcript or "-",
        "summary_so_far": _summary_so_far(room),
        "instruction": instruction,
    }
    out = await _generate_or_error(room, "moderator", ModeratorLine, variables, key, qi=qi)
    if out is None:
        return
    await _append(room, Kind.MODERATOR, key, {"text": out.text, **(extra or {})}, question_index=qi)


async def _turn(room: Room, qi: int, question: str, persona: Persona, key: str, history: list[PastTurn]) -> None:
    """Wypowiedź uczestnika z profilem, pytaniem, transkrypcją pytania i streszczeniem poprzednich pytań."""
    addressed_by = _addressed_by(room, qi) if history and history[-1].addressed_id == str(persona.id) else "-"
    variables = {
        "persona_profile": persona.prompt_profile(),
        "question": question,
        "transcript": _transcript(room, qi) or "-",
        "summary_so_far": _summary_so_far(room),
        "addressed_by": addressed_by,
        # Poza szablonem promptu: dostawca offline trzyma się w turze stanowiska wobec tezy pytania.
        "proposition": room.fg.questions[qi].get("proposition", ""),
    }
    grounded = await _grounding(room, qi, question)
    schema = GroundedTurnOut if grounded.hits else TurnOut
    out = await _generate_or_error(
        room, "focus_group_turn", schema, variables, key, qi=qi, persona=persona, data=grounded.block
    )
    if out is None:
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
        **grounding.provenance(grounded, out),
    }
    await _append(room, Kind.TURN, key, payload, persona=persona, question_index=qi, step=True)


async def _grounding(room: Room, qi: int, question: str) -> grounding.Grounding:
    """Fragmenty dokumentów dla pytania (hybrydowo, w projekcie grupy), raz na pytanie; bez opcji — pusto."""
    if not room.fg.use_knowledge:
        return grounding.Grounding([])
    async with room.grounding_lock:  # równoległe wywiady: jedno wyszukiwanie na pytanie
        if qi not in room.groundings:
            room.groundings[qi] = await sync_to_async(grounding.retrieve)(room.fg.project, question)
    return room.groundings[qi]


def _match_name(name: str | None, names: dict[str, str]) -> str | None:
    """Identyfikator uczestnika po imieniu i nazwisku albo samym imieniu (bez rozróżniania wielkości liter)."""
    if not name:
        return None
    wanted = name.strip().lower()
    if wanted in names:
        return names[wanted]
    firsts = {full.split()[0]: pid for full, pid in names.items() if full}
    return firsts.get(wanted.split()[0]) if wanted else None


async def _stances(room: Room, qi: int, proposition: str, when: str) -> None:
    """Prywatne stanowiska wszystkich uczestników (równolegle) wobec tezy pytania, przed albo po dyskusji."""
    transcript = _transcript(room, qi) if when == "after" else "-"

    async def one(persona: Persona) -> None:
        key = f"q{qi}:stance:{when}:{persona.id}"
        if key in room.keys:
            return
        variables = {
            "persona_profile": persona.prompt_profile(),
            "proposition": proposition,
            "transcript": transcript or "-",
        }
        out = await _generate_or_error(room, "stance", StanceOut, variables, key, qi=qi, persona=persona)
        if out is None:
            return
        payload = {
            "when": when,
            "stance": out.stance,
            "reason": out.reason,
            "persona_name": persona.full_name,
            "proposition": proposition,
        }
        await _append(room, Kind.STANCE, key, payload, persona=persona, question_index=qi)

    await _all(one(persona) for persona in room.people)


async def _generate_or_error[M: BaseModel](
    room: Room,
    role: str,
    schema: type[M],
    variables: dict[str, Any],
    key: str,
    *,
    qi: int,
    persona: Persona | None = None,
    data: str = "",
) -> M | None:
    """Wywołanie roli z jej promptem; odpowiedź, która po ponownych pytaniach nie pasuje do schematu, zostaje zapisana
    jako zdarzenie `error` pod kluczem kroku (None). Błąd dostawcy przechodzi dalej i kończy przebieg.
    """
    try:
        return await llm.agenerate(
            role,
            prompt=role,
            language=room.fg.project.language,
            variables=variables,
            schema=schema,
            project=room.fg.project,
            job=room.job,
            data=data,
        )
    except llm.LLMOutputError as exc:
        who = {"persona_name": persona.full_name} if persona is not None else {"speaker": "moderator"}
        error = {"error": f"{type(exc).__name__}: {exc}"[:1000], **who}
        await _append(room, Kind.ERROR, key, error, persona=persona, question_index=qi)
        return None


async def _all(coros: Any) -> None:
    """Uruchamia kroki równolegle (limit roli w `llm.agenerate`), czeka na wszystkie, potem zgłasza pierwszy błąd."""
    results = await asyncio.gather(*coros, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


async def _pending_interjections(room: Room, qi: int, question: str) -> None:
    """Sterowanie badacza przed turą: pauza albo stop (Halt) i wtrącenia, których moderator jeszcze nie zadał — stają
    się jego następną kwestią. Jedno przejście do wątku ORM na turę.
    """

    def poll() -> tuple[str, list[FocusGroupEvent]]:
        control = FocusGroup.objects.values_list("control", flat=True).get(pk=room.fg.pk)
        events = room.fg.events.filter(kind=Kind.INTERJECTION).order_by("seq")
        return control, [e for e in events if f"interject:{e.seq}" not in room.keys]

    control, pending = await sync_to_async(poll)()
    room.control_checked_at = time.monotonic()
    _halt_on(control)
    for event in pending:
        await _moderate(
            room,
            qi,
            question,
            f"interject:{event.seq}",
            _instruction(room, "interjection", text=event.text),
            extra={"interjection_seq": event.seq},
        )


async def _close_question(room: Room, qi: int) -> None:
    digest = _digest(room, qi)
    await _append(room, Kind.QUESTION_CLOSED, f"q{qi}:close", {"digest": digest}, question_index=qi)
    room.digests.append(digest)


async def _check_control(room: Room, *, throttle: float = 0.0) -> None:
    """Pauza albo stop od badacza przerywa przebieg (Halt); `throttle`: nie pytamy bazy częściej niż co tyle sekund."""
    now = time.monotonic()
    if throttle and now - room.control_checked_at < throttle:
        return
    room.control_checked_at = now
    _halt_on(await sync_to_async(lambda: FocusGroup.objects.values_list("control", flat=True).get(pk=room.fg.pk))())


def _halt_on(control: str) -> None:
    if control == FocusGroup.Control.PAUSE:
        raise Halt(FocusGroup.Status.PAUSED)
    if control == FocusGroup.Control.STOP:
        raise Halt(FocusGroup.Status.STOPPED)


# --- transkrypcja i kontekst ---------------------------------------------------------------------------------------


def _transcript(room: Room, qi: int) -> str:
    """Ostatnie wypowiedzi bieżącego pytania (koszt nie rośnie z kwadratem całej dyskusji)."""
    events = room.spoken.get(qi, [])[-TRANSCRIPT_TURNS:]
    return "\n".join(f"{e.payload.get('persona_name') or 'Moderator'}: {e.text}" for e in events)


def _history(room: Room, qi: int) -> list[PastTurn]:
    turns = (e for e in room.spoken.get(qi, []) if e.kind == Kind.TURN)
    return [PastTurn(str(e.persona_id), e.payload.get("addressed_to_id")) for e in turns]


def _addressed_by(room: Room, qi: int) -> str:
    last = next((e for e in reversed(room.spoken.get(qi, [])) if e.kind == Kind.TURN), None)
    return f"{last.payload.get('persona_name')}: {last.text}" if last else "-"


def _summary_so_far(room: Room) -> str:
    """Streszczenie wcześniejszych pytań (ograniczona długość)."""
    text = "\n".join(f"Q{i + 1}: {d}" for i, d in enumerate(room.digests) if d)
    return text[-DIGEST_CHARS:] or "-"


def _digest(room: Room, qi: int) -> str:
    """Ekstrakcyjne streszczenie pytania: pierwsze zdanie każdej wypowiedzi, przycięte."""
    events = [e for e in room.spoken.get(qi, []) if e.kind == Kind.TURN]
    parts = [f"{e.payload.get('persona_name')}: {_first_sentence(e.text)}" for e in events]
    return " | ".join(parts)[: DIGEST_CHARS // 2]


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0][:200]


# --- na żywo ---------------------------------------------------------------------------------------------------------


def event_message(event: FocusGroupEvent) -> dict[str, Any]:
    """Powiadomienie o zdarzeniu (po zapisie w PostgreSQL); fragment strony dla przeglądarki wybiera konsument."""
    return {"type": "event", "event": event.as_dict()}


def publish_event(fg: FocusGroup, event: FocusGroupEvent) -> None:
    """Powiadamia widzów grupy o zdarzeniu (kod synchroniczny)."""
    live.publish(fg.group_name, event_message(event))


def _publish_status(fg: FocusGroup) -> None:
    live.publish(fg.group_name, {"type": "status", "focus_group": fg.live_state()})
