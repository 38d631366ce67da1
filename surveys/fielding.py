"""Badanie ankiety: respondenci z panelu, odpowiedzi person w kolejności pytań, równolegle między personami.

Każda persona odpowiada na pytania po kolei i widzi swoje wcześniejsze odpowiedzi (spójny respondent). Wybory są
ograniczone schematem do identyfikatorów opcji; odpowiedź, która po ponownych pytaniach wciąż nie pasuje, jest
zapisana jako nieudana z powodem, nigdy jako domyślna opcja. Skale z metodą SSR: persona pisze krótką reakcję i jedno
zdanie intencji, które embedder porównuje z zestawami kotwic (`surveys/ssr.py`). Odpowiedź jest unikalna per
(ankieta, persona, pytanie), więc wznowienie po śmierci workera pomija to, co już jest. Cała praca zadania to jedna
pętla zdarzeń (`llm.run_in_loop` raz na zadanie); odpowiedzi równoległych respondentów zapisują się partiami.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import transaction
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext_lazy
from langchain_core.embeddings import Embeddings
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

import config
from personas.browsing import PersonaFilters, filter_personas
from personas.models import Persona
from rag import grounding
from sight import jobs, llm
from sight.batches import GroupWriter
from sight.errors import Conflict, InvalidInput
from sight.models import Job, Project, User
from surveys import ssr, themes
from surveys.builder import PIPE
from surveys.models import Answer, Question, Respondent, Survey

ROLE = "survey_answer"
log = logging.getLogger(__name__)
Type = Question.Type


# --- start -------------------------------------------------------------------------------------------------------


def resolve_respondents(project: Project, spec: dict[str, Any]) -> list[Persona]:
    """Persony według specyfikacji: cały panel, segment, filtry albo N pasujących; pusto albo za mało to 422."""
    limit = config.load_features().surveys.max_respondents
    filters = PersonaFilters(**spec.get("filters", {}))
    if spec.get("segment_id"):
        filters.segment = spec["segment_id"]
    pool = list(filter_personas(project, filters)[: max(limit, spec.get("count") or 0) * 4])
    count = spec.get("count")
    if count:
        step = max(1, len(pool) // count) if pool else 1
        people = pool[::step][:count]
        if len(people) < count:
            message = ngettext_lazy(
                "only {found} persona matches, {count} requested",
                "only {found} personas match, {count} requested",
                len(people),
            )
            raise InvalidInput("respondents", format_lazy(message, found=len(people), count=count))
        return people
    if not pool:
        raise InvalidInput("respondents", _("no personas in the panel match; generate personas first"))
    if len(pool) > limit:
        raise InvalidInput(
            "respondents",
            format_lazy(
                _("{found} personas match, at most {limit} can answer one survey"), found=len(pool), limit=limit
            ),
        )
    return pool


def start_run(survey: Survey, *, user: User | None) -> Job:
    """Ustala respondentów (raz) i startuje badanie w tle; trwające albo zakończone to Conflict (409)."""
    with transaction.atomic():
        s = Survey.objects.select_for_update().select_related("project").get(pk=survey.pk)
        if s.status == Survey.Status.FIELDING:
            raise Conflict(_("the survey is already being fielded"))
        if s.status == Survey.Status.COMPLETED:
            raise Conflict(_("the survey is completed; copy it to field it again"))
        if not s.questions.exists():
            raise InvalidInput("questions", _("a survey needs at least one question"))
        if not s.respondents.exists():
            people = resolve_respondents(s.project, s.respondents_spec)
            Respondent.objects.bulk_create([Respondent(survey=s, persona=p, position=i) for i, p in enumerate(people)])
        s.job = jobs.start_job(
            kind="surveys.field",
            user=user,
            project=s.project,
            params={"survey_id": str(s.id)},
            queue="llm",
            total=s.respondents.count() * s.questions.count(),
        )
        s.save(update_fields=["job", "updated_at"])
        s.set_status(Survey.Status.FIELDING)
    survey.refresh_from_db()
    return s.job


def estimate_cost(survey: Survey) -> dict[str, Any]:
    """Szacunek przed startem: wywołania (respondenci × pytania), tokeny, koszt i czy mieści się w budżecie."""
    respondents = survey.respondents.count() or len(resolve_respondents(survey.project, survey.respondents_spec))
    calls = respondents * survey.questions.count()
    per_call_in, per_call_out = 1400, 200
    model = llm.resolve(ROLE).model
    tokens = calls * (per_call_in + per_call_out)
    budget_left = survey.project.budget_left()
    return {
        "respondents": respondents,
        "calls": calls,
        "model": model,
        "tokens": tokens,
        "cost_usd": round(float(llm.cost_usd(model, per_call_in * calls, per_call_out * calls)), 4),
        "budget_left": budget_left,
        "fits_budget": budget_left is None or budget_left >= tokens,
    }


# --- schematy odpowiedzi -------------------------------------------------------------------------------------------


class _AnswerBase(BaseModel):
    """Wspólna reguła odpowiedzi: lista opcji bez powtórzeń (inaczej ponowne pytanie); pole spoza schematu odrzucone."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _no_repeats(self) -> _AnswerBase:
        for name, value in self:
            if isinstance(value, list) and name != "sources" and len(set(value)) != len(value):
                raise ValueError(f"{name} lists an option more than once")
        return self


def answer_schema(q: Question) -> type[BaseModel]:
    """Schemat odpowiedzi budowany per pytanie: wybory jako Literal identyfikatorów opcji, liczby w granicach."""
    ids = tuple(o["id"] for o in q.options)
    s = q.settings
    fields: dict[str, Any]
    if q.type == Type.SINGLE_CHOICE:
        fields = {"choice": (Literal[ids], Field(description="id of the chosen option"))}  # type: ignore[valid-type]
    elif q.type == Type.MULTIPLE_CHOICE:
        fields = {"choices": (list[Literal[ids]], Field(min_length=s["min_picks"], max_length=s["max_picks"]))}  # type: ignore[valid-type]
    elif q.type == Type.RANKING:
        fields = {"ranking": (list[Literal[ids]], Field(min_length=len(ids), max_length=len(ids)))}  # type: ignore[valid-type]
    elif q.type == Type.RATING and q.method == Question.Method.SSR:
        fields = {
            "reaction": (str, Field(min_length=3, max_length=600, description="short reaction in your own words")),
            "intent": (str, Field(min_length=3, max_length=300, description="one sentence stating where you stand")),
        }
    elif q.type == Type.RATING:
        fields = {"rating": (int, Field(ge=1, le=s["points"]))}
    elif q.type == Type.NPS:
        fields = {"score": (int, Field(ge=0, le=10))}
    elif q.type == Type.NUMERIC:
        fields = {"value": (float, Field(ge=s["min"], le=s["max"]))}
    else:
        fields = {"text": (str, Field(min_length=3, max_length=1500))}
    return create_model(f"Answer{q.type.title().replace('_', '')}", __base__=_AnswerBase, **fields)


# --- przebieg ----------------------------------------------------------------------------------------------------


@dataclass
class Fielding:
    """Stan badania w pamięci workera: pytania, embedder, kotwice (raz na przebieg), licznik postępu."""

    survey: Survey
    job: Job
    questions: list[Question]
    embedder: Embeddings | None = None
    anchors: dict[tuple[str, int], tuple[Any, str]] = field(default_factory=dict)
    writer: GroupWriter[Answer, Answer] | None = None
    # Schemat odpowiedzi raz na pytanie: nowa klasa przy każdym wywołaniu to nowy schemat JSON do klucza cache LLM.
    schemas: dict[Any, type[BaseModel]] = field(default_factory=dict)
    done: int = 0
    failed: int = 0
    # Fragmenty dokumentów na pytanie (raz na pytanie, gdy respondenci znają dokumenty projektu).
    groundings: dict[int, grounding.Grounding] = field(default_factory=dict)
    grounding_lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def embedding_model_name() -> str:
    """Nazwa modelu embeddingów zapisywana przy odpowiedzi SSR."""
    cfg, provider = config.load_models().embeddings, settings.SIGHT_LLM_PROVIDER
    if provider == "google":
        return cfg.google_model
    if provider == "openai":
        return cfg.openai_model
    return f"wordllama-{cfg.offline_dimensions}"


def field_survey(job: Job) -> dict[str, Any]:
    """Obsługa zadania `surveys.field`: respondenci równolegle, pytania po kolei, od miejsca, w którym stanęło."""
    survey = Survey.objects.select_related("project").get(pk=job.params["survey_id"])
    questions = list(survey.questions.order_by("order"))
    people = [r.persona for r in survey.respondents.select_related("persona").order_by("position")]
    existing: dict[Any, dict[int, Answer]] = {}
    for answer in survey.answers.select_related("question"):
        existing.setdefault(answer.persona_id, {})[answer.question.order] = answer
    state = Fielding(survey=survey, job=job, questions=questions, done=sum(len(v) for v in existing.values()))
    if any(q.method == Question.Method.SSR for q in questions):
        state.embedder = llm.build_embeddings()
        survey.validity = _ladder_checks(state)
        survey.save(update_fields=["validity", "updated_at"])
    if survey.status != Survey.Status.FIELDING:
        survey.set_status(Survey.Status.FIELDING)
    try:
        # Jedna pętla na zadanie; wiersze LLMCall zapisują się w niej partiami w tle (`recording`).
        llm.run_in_loop(_field_all, state, people, existing)
    except llm.BudgetExceeded as exc:
        survey.set_status(Survey.Status.FAILED, error=f"budget exceeded: {exc}")
        return {"survey_id": str(survey.id), "status": survey.status}
    except jobs.JobCancelled:
        survey.set_status(Survey.Status.FAILED, error="cancelled")
        raise
    except Exception as exc:
        survey.set_status(Survey.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        raise
    survey.set_status(Survey.Status.COMPLETED)
    try:
        themes.start_after_fielding(questions, user=job.user)
    except Exception:  # noqa: BLE001 - tematy są dodatkiem: badanie jest zakończone, zadanie tematów wznowi rekoncyliacja
        log.warning("could not start theme coding for survey %s", survey.id, exc_info=True)
    total = len(people) * len(questions)
    jobs.report_progress(job, done=total, total=total, message=gettext_noop("completed"))
    return {"survey_id": str(survey.id), "status": survey.status, "answers": state.done, "failed": state.failed}


def _ladder_checks(state: Fielding) -> dict[str, Any]:
    """Bramka drabiny dla każdej pary (konstrukt, skala) pytań SSR; wynik na karcie trafności ankiety."""
    embed = state.embedder.embed_documents  # type: ignore[union-attr]
    checks = []
    for construct, points in sorted(
        {(q.settings["construct"], q.points) for q in state.questions if q.method == Question.Method.SSR}
    ):
        check = ssr.check_ladder(embed, construct=construct, language=state.survey.language, points=points)
        checks.append({k: check[k] for k in ("code", "passed", "threshold", "spearman", "construct", "points")})
    return {"embedding_model": embedding_model_name(), "ladder": checks, "validated": all(c["passed"] for c in checks)}


async def _field_all(state: Fielding, people: list[Persona], existing: dict[Any, dict[int, Answer]]) -> None:
    """Respondenci równolegle do limitu współbieżności roli; pierwszy błąd dostawcy kończy przebieg."""
    gate = asyncio.Semaphore(llm.resolve(ROLE).cfg.concurrency)
    state.writer = GroupWriter(_store_answers)

    async def one(position: int, persona: Persona) -> None:
        async with gate:
            await _respond(state, position, persona, existing.get(persona.id, {}))

    tasks = [asyncio.ensure_future(one(i, p)) for i, p in enumerate(people)]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        # Pierwszy błąd kończy przebieg: reszta respondentów staje od razu, zapisane odpowiedzi zostają do wznowienia.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    finally:
        with contextlib.suppress(Exception):
            await state.writer.drain()


def _store_answers(batch: list[Answer]) -> list[Answer]:
    """Partia odpowiedzi równoległych respondentów jednym INSERT … ON CONFLICT DO NOTHING i jednym odczytem: wraca to,
    co jest w bazie (gdy tę samą parę persona × pytanie zapisał już wcześniejszy przebieg, zostaje tamta odpowiedź).
    """
    Answer.objects.bulk_create(batch, ignore_conflicts=True)
    stored = Answer.objects.filter(
        survey_id=batch[0].survey_id,
        persona_id__in={a.persona_id for a in batch},
        question_id__in={a.question_id for a in batch},
    ).select_related("question")
    by_key = {(a.persona_id, a.question_id): a for a in stored}
    return [by_key[(a.persona_id, a.question_id)] for a in batch]


async def _respond(state: Fielding, position: int, persona: Persona, answers: dict[int, Answer]) -> None:
    """Jedna persona: pytania po kolei, z regułami pomijania i wstawianiem wcześniejszych odpowiedzi."""
    for q in state.questions:
        if q.order in answers:
            continue
        if not is_shown(q, answers):
            state.done += 1
            continue
        values = await _ask(state, position, persona, q, answers)
        answer = await state.writer.write(Answer(survey=state.survey, persona=persona, question=q, **values))  # type: ignore[union-attr]
        answers[q.order] = answer
        state.done += 1
        state.failed += answer.failed
        await sync_to_async(jobs.report_progress)(state.job, done=state.done, message=persona.full_name, throttle=0.5)


def is_shown(q: Question, answers: dict[int, Answer]) -> bool:
    """Reguła pomijania: pytanie widać, gdy odpowiedź na wskazane wcześniejsze pytanie jest jedną z wartości."""
    if not q.show_if:
        return True
    source = answers.get(q.show_if["question"] - 1)
    if source is None or source.failed:
        return False
    chosen = source.value if isinstance(source.value, list) else [source.value]
    return any(v in q.show_if["values"] for v in chosen)


def answer_label(q: Question, answer: Answer) -> str:
    """Odpowiedź jako tekst (wstawianie do pytań i wcześniejsze odpowiedzi w promptach)."""
    if answer.failed:
        return "-"
    labels = q.option_labels()
    if isinstance(answer.value, list):
        return ", ".join(labels.get(v, str(v)) for v in answer.value)
    if q.type == Type.OPEN_TEXT:
        return answer.text
    if q.method == Question.Method.SSR:
        return answer.intent
    return labels.get(answer.value, str(answer.value))


def _instruction(q: Question) -> tuple[str, str]:
    """Typ pytania i opcje (identyfikator: etykieta) albo opis skali do promptu."""
    s = q.settings
    if q.type in Question.WITH_OPTIONS:
        options = "\n".join(f"- {o['id']}: {o['label']}" for o in q.options)
        if q.type == Type.MULTIPLE_CHOICE:
            return f"multiple-choice (choose {s['min_picks']} to {s['max_picks']} option ids)", options
        if q.type == Type.RANKING:
            return "ranking (order every option id from best to worst)", options
        return "single-choice (choose one option id)", options
    if q.type == Type.RATING:
        ends = f"1 = {s['low_label'] or '-'}, {s['points']} = {s['high_label'] or '-'}"
        if q.method == Question.Method.SSR:
            return "rating-reaction (write a short reaction, then one sentence saying where you stand)", ends
        return f"rating (a whole number from 1 to {s['points']})", ends
    if q.type == Type.NPS:
        return "nps (a whole number from 0 to 10)", "0 = not at all likely, 10 = extremely likely"
    if q.type == Type.NUMERIC:
        return f"numeric (a number from {s['min']:g} to {s['max']:g})", f"unit: {s['unit'] or '-'}"
    return "open-text", "-"


def _question_text(q: Question, answers: dict[int, Answer]) -> str:
    by_order = {a.question.order: a for a in answers.values()}

    def pipe(match: Any) -> str:
        answer = by_order.get(int(match.group(1)) - 1)
        return answer_label(answer.question, answer) if answer else "-"

    text = PIPE.sub(pipe, q.text)
    return f"{text}\n({q.help_text})" if q.help_text else text


async def _ask(
    state: Fielding, position: int, persona: Persona, q: Question, answers: dict[int, Answer]
) -> dict[str, Any]:
    """Pytanie do persony; nieudana po ponownych pytaniach odpowiedź wraca jako `failed` z powodem."""
    kind, options = _instruction(q)
    earlier = "\n".join(
        f"Q{a.question.number}: {a.question.text[:200]} → {answer_label(a.question, a)}"
        for a in sorted(answers.values(), key=lambda a: a.question.order)
    )
    variables = {
        "persona_profile": persona.prompt_profile(),
        "question": _question_text(q, answers),
        "question_type": kind,
        "options": options,
        "earlier_answers": earlier or "-",
    }
    grounded = await _grounding(state, q)
    key = (q.id, bool(grounded.hits))
    if key not in state.schemas:
        state.schemas[key] = grounding.with_sources(answer_schema(q)) if grounded.hits else answer_schema(q)
    try:
        out = await llm.agenerate(
            ROLE,
            prompt=ROLE,
            language=state.survey.language,
            variables=variables,
            schema=state.schemas[key],
            project=state.survey.project,
            job=state.job,
            data=grounded.block,
        )
    except llm.LLMOutputError as exc:
        return {"failed": True, "reason": f"{type(exc).__name__}: {exc}"[:2000], "method": q.method}
    return await _values(state, position, q, out) | grounding.provenance(grounded, out)


async def _grounding(state: Fielding, q: Question) -> grounding.Grounding:
    """Fragmenty dokumentów dla pytania (hybrydowo, w projekcie ankiety), raz na pytanie; bez opcji — pusto."""
    if not state.survey.use_knowledge:
        return grounding.Grounding([])
    async with state.grounding_lock:  # respondenci równolegle: jedno wyszukiwanie na pytanie
        if q.order not in state.groundings:
            state.groundings[q.order] = await sync_to_async(grounding.retrieve)(state.survey.project, q.text)
    return state.groundings[q.order]


async def _values(state: Fielding, position: int, q: Question, out: BaseModel) -> dict[str, Any]:
    """Pola odpowiedzi z wyniku modelu (dla SSR: rozkład, wartość oczekiwana i losowanie z ziarnem)."""
    data = out.model_dump(exclude={"sources"})
    if q.type == Type.OPEN_TEXT:
        return {"text": data["text"], "method": q.method}
    if q.method != Question.Method.SSR:
        value = next(iter(data.values()))
        return {"value": value, "method": q.method}
    # Embedding i SSR bez bazy: poza wątkiem ORM, żeby nie wstrzymywały zapisów innych respondentów.
    seed = _draw_seed(state.survey.seed, position, q.order)
    scored = await sync_to_async(_score, thread_sensitive=False)(state, q, data["intent"], seed)
    return {"text": data["reaction"], "intent": data["intent"], "method": q.method, **scored}


def _draw_seed(seed: int, position: int, order: int) -> int:
    """Ziarno losowania jednej odpowiedzi: stałe dla (ziarno ankiety, respondent, pytanie)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{position}:{order}".encode()).digest()[:8], "big")


def _score(state: Fielding, q: Question, intent: str, seed: int) -> dict[str, Any]:
    """SSR jednego zdania intencji z kotwicami osadzonymi raz na przebieg."""
    surveys = config.load_surveys()
    key = (q.settings["construct"], q.points)
    if key not in state.anchors:
        sets = surveys.anchor_sets(key[0], state.survey.language, key[1])
        embedded = ssr.embed_anchor_sets(state.embedder.embed_documents, sets)  # type: ignore[union-attr]
        state.anchors[key] = (embedded, ssr.anchors_version(sets))
    anchors, version = state.anchors[key]
    vector = np.asarray(state.embedder.embed_documents([intent]), dtype=np.float64)  # type: ignore[union-attr]
    pmf = ssr.rate(vector, anchors, temperature=surveys.ssr.temperature, epsilon=surveys.ssr.epsilon)
    draw = int(ssr.draw_ratings(pmf, seed=seed)[0])
    return {
        "pmf": [round(float(p), 6) for p in pmf[0]],
        "expected_value": float(ssr.expected_values(pmf)[0]),
        "draw": draw,
        "value": draw,
        "anchors_version": version,
        "embedding_model": embedding_model_name(),
    }
