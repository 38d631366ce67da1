"""Generowanie panelu person: plan kwotowy → segmenty (LLM albo grupowanie demograficzne) → profile (LLM, równolegle) →
walidacja.

Każda persona jest zapisywana od razu po otrzymaniu; wznowiony przebieg generuje tylko brakujące indeksy planu.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from asgiref.sync import sync_to_async
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, ConfigDict, Field, field_validator

import config
from personas.models import Persona, PersonaRun, Segment
from personas.sampling import PlannedProfile, plan_for_project
from rag import grounding
from sight import jobs, live, llm
from sight.batches import GroupWriter
from sight.demographics import PLAN_FACTS, bucket_label, category_label, describe
from sight.errors import Conflict, InvalidInput
from sight.models import Job, Project, User
from sight.text import ModelText

log = logging.getLogger(__name__)

MAX_SEGMENTS, MIN_SEGMENTS = 6, 2
MAX_DRAWN_SEED = 2**31  # losowane ziarno ma najwyżej 10 cyfr: łatwo je przepisać, by powtórzyć przebieg


# --- schematy odpowiedzi LLM ---------------------------------------------------------------------------------------


class SegmentDraft(BaseModel):
    """Segment zaproponowany przez model."""

    name: str = Field(min_length=2, max_length=120)
    brief: str = Field(min_length=300, max_length=3000, description="150-300 words")
    characteristics: list[str] = Field(min_length=2, max_length=8)
    member_indexes: list[int] = Field(
        default_factory=list, max_length=1000, description="Indexes (#) of the profiles in this segment"
    )

    @field_validator("characteristics")
    @classmethod
    def _short(cls, items: list[str]) -> list[str]:
        return [item.strip()[:200] for item in items if item.strip()]


class SegmentPlan(BaseModel):
    """Podział profili na 2–6 segmentów."""

    segments: list[SegmentDraft] = Field(min_length=MIN_SEGMENTS, max_length=MAX_SEGMENTS)


class PersonaProfile(BaseModel):
    """Profil persony napisany przez model (wszystko zapisujemy; pole spoza schematu to odpowiedź odrzucona)."""

    model_config = ConfigDict(extra="forbid")

    full_name: ModelText = Field(min_length=3, max_length=120)
    title: ModelText = Field(min_length=2, max_length=200)
    headline: ModelText = Field(min_length=10, max_length=300)
    background_story: ModelText = Field(
        min_length=400, max_length=6000, description="3-5 paragraphs separated by blank lines"
    )
    values: list[str] = Field(min_length=3, max_length=8)
    interests: list[str] = Field(min_length=3, max_length=8)
    occupation: ModelText = Field(min_length=2, max_length=200)
    communication_style: ModelText = Field(min_length=10, max_length=1000)
    decision_style: ModelText = Field(min_length=10, max_length=1000)
    concerns: list[str] = Field(min_length=2, max_length=6)

    @field_validator("background_story")
    @classmethod
    def _paragraphs(cls, story: str) -> str:
        paragraphs = [p for p in re.split(r"\n\s*\n", story.strip()) if p.strip()]
        if not 3 <= len(paragraphs) <= 5:
            raise ValueError(
                f"background_story must have 3 to 5 paragraphs separated by blank lines, got {len(paragraphs)}"
            )
        return story.strip()


class GroundedPersonaProfile(PersonaProfile, grounding.Grounded):
    """Profil persony z cytowanymi fragmentami dokumentów projektu (gdy generowanie korzysta z bazy wiedzy)."""


# --- start ---------------------------------------------------------------------------------------------------------


def start_generation(
    project: Project,
    *,
    user: User | None,
    num_personas: int,
    seed: int | None = None,
    segments: bool = True,
    use_rag: bool = True,
    trait_preset: str = "",
) -> PersonaRun:
    """Planuje przebieg (kwoty, cechy) i wstawia zadanie na kolejkę `llm`; zły rozmiar albo preset to InvalidInput,
    trwający przebieg projektu to Conflict.
    """
    features = config.load_features().personas
    if not 1 <= num_personas <= features.max_per_run:
        raise InvalidInput(
            "num_personas",
            format_lazy(_("The number of personas must be between 1 and {limit}."), limit=features.max_per_run),
        )
    if trait_preset and trait_preset not in features.trait_presets:
        raise InvalidInput(
            "trait_preset",
            format_lazy(
                _("Unknown trait preset; choose one of: {known}."), known=", ".join(sorted(features.trait_presets))
            ),
        )
    if Job.objects.filter(kind="personas.generate", project=project).active().exists():
        raise Conflict(
            _("A generation run is already in progress for this project. Wait for it to finish or cancel it.")
        )
    # Bez podanego ziarna każdy przebieg losuje własne (zapisane w przebiegu, by dało się go powtórzyć): stałe ziarno
    # domyślne klonowało panel przy każdym „wygeneruj więcej”.
    seed = secrets.randbelow(MAX_DRAWN_SEED) if seed is None else seed
    allocation = plan_for_project(project, num_personas, seed=seed, trait_preset=trait_preset or None)
    with transaction.atomic():
        run = PersonaRun.objects.create(
            project=project,
            num_requested=num_personas,
            seed=seed,
            trait_preset=trait_preset,
            use_rag=use_rag,
            segments_enabled=segments,
            allocation=allocation,
        )
        run.job = jobs.start_job(
            kind="personas.generate",
            user=user,
            project=project,
            params={"run_id": str(run.id)},
            queue="llm",
            total=num_personas,
        )
        run.save(update_fields=["job"])
    return run


# --- przebieg (w workerze) -----------------------------------------------------------------------------------------


def run_generation(job: Job) -> dict[str, Any]:
    """Obsługa zadania `personas.generate`: segmenty, brakujące profile, walidacja; wynik i status przebiegu."""
    run = PersonaRun.objects.select_related("project").get(pk=job.params["run_id"])
    run.status = PersonaRun.Status.RUNNING
    run.save(update_fields=["status"])
    jobs.report_progress(
        job, done=run.personas.count(), total=run.num_requested, message=gettext_noop("Planning segments")
    )
    segments = run.segments_enabled and not run.segments.exists() and not run.segment_fallback
    missing = run.missing_indexes()
    if segments or missing:
        llm.run_in_loop(_generate, run, job, segments=segments, missing=missing)
    return finish_run(run, job)


async def _generate(run: PersonaRun, job: Job, *, segments: bool, missing: list[int]) -> None:
    """Segmenty, potem brakujące profile — w jednej pętli zdarzeń zadania (jeden klient HTTP, jedno połączenie)."""
    if segments:
        await build_segments(run, job)
    if missing:
        await _generate_missing(run, job, missing)


def finish_run(run: PersonaRun, job: Job) -> dict[str, Any]:
    """Końcowy status: sukces, częściowy (N−k) albo błąd, gdy nie powstała żadna. Raport trafności przebiegu liczy
    osobne zadanie (`personas.validate`): panel jest gotowy, zanim skończy się analiza tekstów person."""
    created = run.personas.count()
    run.status = (
        PersonaRun.Status.SUCCEEDED
        if created == run.num_requested
        else PersonaRun.Status.PARTIAL
        if created
        else PersonaRun.Status.FAILED
    )
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "finished_at"])
    result = {
        "run_id": str(run.id),
        "created": created,
        "failed": len(run.failed),
        "requested": run.num_requested,
    }
    if not created:
        reasons = "; ".join(sorted({f["reason"][:200] for f in run.failed})[:3])
        raise RuntimeError(f"no persona could be generated ({reasons})")
    result["validation_job_id"] = str(
        jobs.start_job(kind="personas.validate", user=job.user, project=run.project, params={"run_id": str(run.id)}).id
    )
    message = (
        gettext_noop("%(done)d of %(total)d personas generated, %(failed)d failed")
        if run.failed
        else gettext_noop("%(done)d of %(total)d personas generated")
    )
    params = {"done": created, "total": run.num_requested, "failed": len(run.failed)}
    jobs.report_progress(job, done=created, total=run.num_requested, message=message, params=params)
    return result


async def build_segments(run: PersonaRun, job: Job) -> None:
    """Segmenty z roli `persona_orchestration`; gdy model zawiedzie po ponownych pytaniach — grupowanie
    demograficzne.
    """
    project = run.project
    try:
        plan = await llm.agenerate(
            "persona_orchestration",
            prompt="persona_orchestration",
            language=project.language,
            schema=SegmentPlan,
            project=project,
            job=job,
            variables={
                "project_name": project.name,
                "target_audience": project.target_audience or "-",
                "research_objectives": project.research_objectives or "-",
                "allocation_summary": allocation_summary(run.allocation, project.language),
                "num_segments_hint": str(_segments_hint(run.num_requested)),
            },
        )
        drafts = [d.model_dump() for d in plan.segments]
        groups = assign_members(drafts, run.allocation)
    except (llm.LLMOutputError, llm.LLMCallError) as exc:
        log.warning("segmentation failed for run %s: %s", run.id, exc)
        run.segment_fallback, run.segment_fallback_reason = True, f"{type(exc).__name__}: {exc}"[:2000]
        drafts, groups = demographic_segments(run.allocation, project.language)
    run.segment_plan = [{**d, "member_indexes": groups[i]} for i, d in enumerate(drafts) if groups[i]]
    await sync_to_async(_save_segments)(run)


def _save_segments(run: PersonaRun) -> None:
    """Plan segmentów w przebiegu i segmenty jednym INSERT (istniejące indeksy — np. po wznowieniu — zostają)."""
    with transaction.atomic():
        run.save(update_fields=["segment_plan", "segment_fallback", "segment_fallback_reason"])
        Segment.objects.bulk_create(
            [
                Segment(
                    run=run,
                    index=i,
                    project=run.project,
                    name=draft["name"][:200],
                    brief=draft["brief"],
                    characteristics=draft["characteristics"],
                )
                for i, draft in enumerate(run.segment_plan)
            ],
            ignore_conflicts=True,
        )


def allocation_summary(allocation: list[PlannedProfile], language: str | None = None) -> str:
    """Zwięzły opis planu dla modelu: liczebności koszyków i po jednej linii na profil (#indeks), etykietami w języku
    badania, nie kluczami danych (model przepisuje je do nazw i opisów segmentów).
    """
    lines = [
        f"{category}: " + ", ".join(f"{b} ×{n}" for b, n in buckets)
        for category, buckets in _bucket_counts(allocation, language)
    ]
    lines.append("")
    lines += [
        f"#{p['index']}: "
        + ", ".join(label for _category, label in describe(p["demographics"], language=language))
        + (f", {p['occupation']}" if p.get("occupation") else "")
        for p in allocation
    ]
    return "\n".join(lines)


def _bucket_counts(profiles: list[PlannedProfile], language: str | None) -> list[tuple[str, list[tuple[str, int]]]]:
    """Liczebności koszyków planu po kategoriach, od najliczniejszego, jako etykiety w danym języku."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for profile in profiles:
        for category, bucket in profile["demographics"].items():
            counts[category][bucket] += 1
    return [
        (
            category_label(category, buckets=list(counter), language=language),
            [(bucket_label(category, b, language=language), n) for b, n in counter.most_common()],
        )
        for category, counter in counts.items()
    ]


def _segments_hint(n: int) -> int:
    return max(MIN_SEGMENTS, min(MAX_SEGMENTS, round(n**0.5 / 1.5)))


def assign_members(drafts: list[dict[str, Any]], allocation: list[PlannedProfile]) -> list[list[int]]:
    """Przypisuje każdy profil do dokładnie jednego segmentu: wskazania modelu, a nieprzypisane — do najbardziej
    podobnego.
    """
    valid = {p["index"] for p in allocation}
    groups: list[list[int]] = [[] for _ in drafts]
    taken: set[int] = set()
    for i, draft in enumerate(drafts):
        for index in draft.get("member_indexes", []):
            if index in valid and index not in taken:
                groups[i].append(index)
                taken.add(index)
    by_index = {p["index"]: p for p in allocation}
    for index in sorted(valid - taken):
        groups[_closest_group(by_index[index], groups, by_index)].append(index)
    return groups


def _closest_group(profile: PlannedProfile, groups: list[list[int]], by_index: dict[int, PlannedProfile]) -> int:
    """Segment, którego członkowie dzielą z profilem najwięcej koszyków (pusty segment dostaje profil, gdy nikt nie
    pasuje).
    """

    def score(i: int) -> float:
        members = groups[i]
        if not members:
            return 0.0
        shared = sum(
            sum(by_index[m]["demographics"].get(c) == b for c, b in profile["demographics"].items()) for m in members
        )
        return shared / len(members)

    return max(range(len(groups)), key=lambda i: (score(i), -len(groups[i])))


def demographic_segments(
    allocation: list[PlannedProfile], language: str
) -> tuple[list[dict[str, Any]], list[list[int]]]:
    """Grupowanie zastępcze: kategoria, której koszyki najlepiej dzielą plan na 2–6 grup; opis to fakty z planu."""
    categories = list(allocation[0]["demographics"]) if allocation else []
    best = None
    for category in categories:
        buckets = Counter(p["demographics"][category] for p in allocation)
        if MIN_SEGMENTS <= len(buckets) <= MAX_SEGMENTS:
            best = category
            break
    if best is None:
        return [{"name": "Panel", "brief": _fallback_brief(allocation, language), "characteristics": []}], [
            [p["index"] for p in allocation]
        ]
    order = [b for b, _ in Counter(p["demographics"][best] for p in allocation).most_common()]
    groups = [[p["index"] for p in allocation if p["demographics"][best] == bucket] for bucket in order]
    category = category_label(best, buckets=order, language=language)
    drafts = [
        {
            "name": f"{category}: {bucket_label(best, bucket, language=language)}",
            "brief": _fallback_brief([p for p in allocation if p["index"] in set(g)], language),
            "characteristics": [f"{category}: {bucket_label(best, bucket, language=language)}"],
        }
        for bucket, g in zip(order, groups, strict=True)
    ]
    return drafts, groups


def _fallback_brief(profiles: list[PlannedProfile], language: str) -> str:
    lead = (
        "Segment utworzony z grupowania demograficznego (model nie zwrócił poprawnych segmentów). Skład:"
        if language == "pl"
        else "Segment built by demographic grouping (the model returned no valid segments). Composition:"
    )
    return (
        lead
        + " "
        + "; ".join(f"{c}: " + ", ".join(f"{b} ({n})" for b, n in cnt) for c, cnt in _bucket_counts(profiles, language))
    )


async def _generate_missing(run: PersonaRun, job: Job, missing: list[int]) -> None:
    """Generuje brakujące profile równolegle (limit współbieżności roli w `llm.agenerate`), zapisując każdy od razu."""
    project = run.project
    segments = await sync_to_async(lambda: {m: s for s in run.segments.all() for m in _members(run, s.index)})()
    plan = {p["index"]: p for p in run.allocation}
    saved = await sync_to_async(run.personas.count)()
    progress = {"done": saved}
    # Fala równoległych wywołań kończy się niemal naraz: persony zapisywane partiami (jedno INSERT i jeden raport
    # postępu na partię zamiast przejścia do wątku ORM na każdą).
    writer: GroupWriter[SavedProfile, dict[str, Any]] = GroupWriter(
        lambda batch: _save_and_report(job, run, batch, progress)
    )

    async def one(index: int) -> None:
        profile = plan[index]
        segment = segments.get(index)
        grounded = await sync_to_async(grounding.for_persona)(project, profile) if run.use_rag else None
        variables = {
            "project_name": project.name,
            "target_audience": project.target_audience or "-",
            "research_objectives": project.research_objectives or "-",
            "demographics": describe_demographics(profile, project.language),
            "traits": json.dumps(profile["traits"]),
            "segment_name": segment.name if segment else "-",
            "segment_brief": segment.brief if segment else "-",
            "language_name": project.language_name,
        }
        try:
            result = await llm.agenerate(
                "persona_generation",
                prompt="persona_generation",
                language=project.language,
                variables=variables,
                schema=GroundedPersonaProfile if grounded and grounded.hits else PersonaProfile,
                project=project,
                job=job,
                data=grounded.block if grounded else "",
            )
        except (llm.LLMOutputError, llm.LLMCallError, llm.BudgetExceeded) as exc:
            await sync_to_async(_record_failure)(run, index, f"{type(exc).__name__}: {exc}")
            return
        saved = SavedProfile(profile, result, segment, grounded or grounding.Grounding([]), _hash(variables))
        card = await writer.write(saved)
        await live.apublish(live.job_group(job.id), persona_message(card))

    try:
        async with asyncio.TaskGroup() as group:
            for index in missing:
                group.create_task(one(index))
    except* jobs.JobCancelled:
        raise jobs.JobCancelled from None


def _members(run: PersonaRun, segment_index: int) -> list[int]:
    plan = run.segment_plan
    return plan[segment_index]["member_indexes"] if segment_index < len(plan) else []


def describe_demographics(profile: PlannedProfile, language: str) -> str:
    """Ustalone fakty demograficzne profilu dla promptu, etykietami w języku badania („- Miejsce zamieszkania: wieś”),
    żeby model nie przepisywał kluczy danych (`village`) do tekstu persony.
    """
    facts = describe(profile["demographics"], language=language)
    with translation.override(language):
        facts += [
            (gettext(label), str(profile[key]))
            for key, label in PLAN_FACTS.items()
            if profile.get(key) not in (None, "")
        ]
    return "\n".join(f"- {k}: {v}" for k, v in facts)


def _hash(variables: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(variables, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class SavedProfile:
    """Profil z planu z odpowiedzią modelu, gotowy do zapisu jako persona."""

    profile: PlannedProfile
    result: PersonaProfile
    segment: Segment | None
    grounding: grounding.Grounding
    prompt_hash: str


def save_personas(run: PersonaRun, items: list[SavedProfile]) -> list[Persona]:
    """Zapisuje partię person jednym INSERT; gdy któraś już jest (ten sam przebieg i indeks) — po jednej, bez
    duplikatów.
    """
    try:
        with transaction.atomic():
            return Persona.objects.bulk_create(
                Persona(run=run, index=item.profile["index"], **_persona_values(run, item)) for item in items
            )
    except IntegrityError:
        return [
            save_persona(run, i.profile, i.result, segment=i.segment, grounded=i.grounding, prompt_hash=i.prompt_hash)
            for i in items
        ]


def save_persona(
    run: PersonaRun,
    profile: PlannedProfile,
    result: PersonaProfile,
    *,
    segment: Segment | None,
    prompt_hash: str,
    grounded: grounding.Grounding | None = None,
) -> Persona:
    """Zapisuje personę z planu i profilu modelu; ten sam (przebieg, indeks) drugi raz nie tworzy duplikatu."""
    values = _persona_values(
        run, SavedProfile(profile, result, segment, grounded or grounding.Grounding([]), prompt_hash)
    )
    try:
        with transaction.atomic():
            return Persona.objects.create(run=run, index=profile["index"], **values)
    except IntegrityError:
        return Persona.objects.get(run=run, index=profile["index"])


def _persona_values(run: PersonaRun, item: SavedProfile) -> dict[str, Any]:
    profile, result = item.profile, item.result
    fields = result.model_dump(exclude={"sources"})
    # Cytaty tylko spośród podanych fragmentów (i z cytatem dosłownie we fragmencie); reszta odrzucona i policzona.
    cited = item.grounding.resolve(getattr(result, "sources", []))
    return {
        "project": run.project,
        "segment": item.segment,
        "age": profile.get("age"),
        "gender": profile["gender"],
        "education": profile["education"],
        "income": profile["income"],
        "location": profile["location"],
        "demographics": profile["demographics"],
        **profile["traits"],
        **fields,
        # Imię z planu jest unikalne w projekcie (prompt podaje je jako fakt); model nie może go zdublować.
        **({"full_name": profile["full_name"]} if profile.get("full_name") else {}),
        "rag_context_used": bool(item.grounding.hits),
        "supplied_chunk_ids": item.grounding.chunk_ids,
        "sources": cited.sources,
        "rejected_sources": cited.rejected,
        "prompt_hash": item.prompt_hash,
    }


def _record_failure(run: PersonaRun, index: int, reason: str) -> None:
    with transaction.atomic():
        locked = PersonaRun.objects.select_for_update().get(pk=run.pk)
        locked.failed = [f for f in locked.failed if f["index"] != index] + [{"index": index, "reason": reason[:1000]}]
        locked.save(update_fields=["failed"])
    run.failed = locked.failed


def _save_and_report(
    job: Job, run: PersonaRun, batch: list[SavedProfile], progress: dict[str, int]
) -> list[dict[str, Any]]:
    """Zapis partii person i postęp zadania (w wątku ORM); zwraca karty do publikacji z pętli zdarzeń."""
    personas = save_personas(run, batch)
    progress["done"] += len(personas)
    jobs.report_progress(
        job, done=progress["done"], total=run.num_requested, message=personas[-1].full_name, throttle=0.25
    )
    return [persona_card(p) for p in personas]


def persona_message(card: dict[str, Any]) -> dict[str, Any]:
    """Powiadomienie o nowej personie: JSON dla API, fragment karty dla przeglądarki (przez konsumenta zadania)."""
    return {
        "type": "persona",
        "persona": card,
        "fragments": [{"template": "personas/_card.html#persona_card_live", "context": {"p": card}}],
    }


def persona_card(persona: Persona) -> dict[str, Any]:
    """Krótki opis persony do list i zdarzeń na żywo (JSON)."""
    return {
        "id": str(persona.id),
        "full_name": persona.full_name,
        "title": persona.title,
        "headline": persona.headline,
        "age": persona.age,
        "gender": persona.gender,
        "location": persona.location,
        "occupation": persona.occupation,
        "segment": persona.segment.name if persona.segment_id and persona.segment else None,
        "project_id": str(persona.project_id),
    }


# --- potrzeby i bolączki (na żądanie) ------------------------------------------------------------------------------


class NeedsAndPains(BaseModel):
    """Zadania do wykonania, oczekiwane rezultaty i bolączki persony."""

    jobs_to_be_done: list[str] = Field(min_length=2, max_length=6)
    desired_outcomes: list[str] = Field(min_length=2, max_length=6)
    pain_points: list[str] = Field(min_length=2, max_length=6)


def start_needs(persona: Persona, *, user: User | None, regenerate: bool = False) -> Job:
    """Wstawia zadanie wygenerowania potrzeb i bolączek persony (rola `persona_needs`); `regenerate` omija cache.

    Gdy takie zadanie dla tej persony już trwa, zwraca je zamiast startować drugie.
    """
    running = (
        Job.objects.filter(kind="personas.needs", project=persona.project, params__persona_id=str(persona.id))
        .active()
        .first()
    )
    if running is not None:
        return running
    return jobs.start_job(
        kind="personas.needs",
        user=user,
        project=persona.project,
        params={"persona_id": str(persona.id), "regenerate": regenerate},
        queue="llm",
        total=1,
    )


def generate_needs(job: Job) -> dict[str, Any]:
    """Obsługa zadania `personas.needs`: zapisuje wynik w `persona.needs` (powtórka z tym samym profilem trafia w
    cache).
    """
    persona = Persona.objects.select_related("project").get(pk=job.params["persona_id"])
    project = persona.project
    profile = "\n".join(
        [
            persona.full_name,
            persona.title,
            persona.headline,
            describe_demographics(
                {"demographics": persona.demographics, "age": persona.age, "occupation": persona.occupation},
                project.language,
            ),
            f"Values: {', '.join(persona.values)}",
            f"Interests: {', '.join(persona.interests)}",
            f"Concerns: {', '.join(persona.concerns)}",
            persona.background_story,
        ]
    )  # type: ignore[typeddict-item]
    result = llm.generate(
        "persona_needs",
        prompt="persona_needs",
        language=project.language,
        schema=NeedsAndPains,
        project=project,
        job=job,
        cache=not job.params.get("regenerate"),
        variables={
            "persona_profile": profile,
            "project_name": project.name,
            "research_objectives": project.research_objectives or "-",
        },
    )
    persona.needs = {**result.model_dump(), "generated_at": timezone.now().isoformat()}
    persona.save(update_fields=["needs", "updated_at"])
    jobs.report_progress(job, done=1, total=1, message=gettext_noop("Needs and pains ready"))
    return {"persona_id": str(persona.id)}
