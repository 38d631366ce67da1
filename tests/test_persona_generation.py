"""Generowanie panelu: kwoty na zapisanych personach, segmenty, ponowne pytania, porażki, wznowienie, powtórka z
cache.
"""

import itertools
import json
from collections import Counter
from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone, translation

import config
from personas import generation
from personas.models import Persona, PersonaRun
from personas.sampling import largest_remainder
from personas.validation import validate_personas
from rag import grounding
from sight import jobs, llm
from sight.models import Job, LLMCall
from tests.factories import create_project, run_worker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_llm")]

TARGET = {
    "age_group": {"18-24": 0.3, "25-34": 0.45, "35-44": 0.25},
    "gender": {"female": 0.5, "male": 0.5},
    "location": {"village": 0.35, "city": 0.65},
}
_names = itertools.count(1)


def profile(messages, *, paragraphs: int = 3) -> dict:
    """Poprawny profil; treść zależy od promptu (inna persona — inna historia)."""
    n = next(_names)
    words = " ".join(f"slowo{n}x{i}" for i in range(60))
    story = "\n\n".join(
        f"Akapit {p} o osobie {n}: {words}. Lubi kawę i rower, pracuje w mieście." for p in range(paragraphs)
    )
    return {
        "full_name": f"Anna Nowak {n}",
        "title": "Analityczka",
        "headline": "Szuka prostych rozwiązań finansowych.",
        "background_story": story,
        "values": ["rodzina", "uczciwość", "spokój"],
        "interests": ["rower", "kino", "gotowanie"],
        "occupation": "analityczka danych",
        "communication_style": "Mówi krótko i konkretnie.",
        "decision_style": "Porównuje oferty, zanim kupi.",
        "concerns": ["opłaty", "bezpieczeństwo"],
    }


def segment_plan(members: list[list[int]] | None = None) -> dict:
    brief = "Opis segmentu " + "z konkretnymi szczegółami życia i potrzeb " * 10
    members = members or [[], []]
    return {
        "segments": [
            {"name": f"Segment {i}", "brief": brief, "characteristics": ["cecha a", "cecha b"], "member_indexes": m}
            for i, m in enumerate(members)
        ]
    }


def start(project, n: int, django_capture_on_commit_callbacks, **kw) -> PersonaRun:
    with django_capture_on_commit_callbacks(execute=True):
        return generation.start_generation(project, user=project.owner, num_personas=n, **kw)


def test_a_twenty_persona_panel_matches_the_target_marginals_exactly_and_is_validated_on_saved_rows(
    django_capture_on_commit_callbacks,
):
    project = create_project(target_demographics=TARGET)
    llm.script("persona_orchestration", [segment_plan([list(range(10)), list(range(10, 20))])])
    llm.script("persona_generation", [profile] * 20)
    run = start(project, 20, django_capture_on_commit_callbacks, seed=7)
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    run.refresh_from_db()
    job = Job.objects.get(pk=run.job_id)
    assert job.status == "succeeded" and job.progress_done == 20 and job.result["created"] == 20
    # Raport trafności przebiegu liczy osobne zadanie, zgłoszone na końcu generowania.
    assert run.validation == {}
    run_worker()
    run.refresh_from_db()
    assert Job.objects.get(pk=job.result["validation_job_id"]).status == "succeeded"
    personas = Persona.objects.filter(run=run)
    for category, weights in TARGET.items():
        counts = Counter(p.demographics[category] for p in personas)
        assert counts == {bucket: round(w * 20) for bucket, w in weights.items()}
    assert run.status == "succeeded" and run.validation["computed_on"] == 20
    assert all(c["verdict"] == "matches" for c in run.validation["categories"])
    assert {p.segment.name for p in personas} == {"Segment 0", "Segment 1"}
    assert LLMCall.objects.filter(project=project, role="persona_generation", ok=True).count() == 20
    assert all(p.background_story and len(p.values) == 3 and p.traits for p in personas)


def test_same_seed_on_the_same_starting_panel_gives_the_same_plan_and_a_replay_makes_no_new_llm_calls(
    django_capture_on_commit_callbacks,
):
    # Powtórka to ten sam seed na takim samym panelu wyjściowym (tu: pustym, w bliźniaczym projekcie); w tym samym
    # projekcie drugi przebieg dopełnia panel, więc jego plan jest inny.
    project, twin = (create_project(name="Kawa na wynos", target_demographics=TARGET) for _ in range(2))
    llm.script("persona_orchestration", [segment_plan()])
    llm.script("persona_generation", [profile] * 6)
    first = start(project, 6, django_capture_on_commit_callbacks, seed=11)
    run_worker()
    calls_before = len(llm.scripted_calls())
    second = start(twin, 6, django_capture_on_commit_callbacks, seed=11)
    run_worker()
    second.refresh_from_db()
    assert second.allocation == first.allocation
    assert len(llm.scripted_calls()) == calls_before
    assert Job.objects.get(pk=second.job_id).status == "succeeded"
    assert LLMCall.objects.filter(project=twin, cache_hit=True).count() == 7


def test_an_invalid_profile_is_reasked_and_then_saved(django_capture_on_commit_callbacks):
    project = create_project(target_demographics=TARGET)
    llm.script("persona_generation", [lambda m: profile(m, paragraphs=1), profile])
    run = start(project, 1, django_capture_on_commit_callbacks, segments=False)
    run_worker()
    assert Persona.objects.filter(run=run).count() == 1
    reask = llm.scripted_calls("persona_generation")[1][-1].text
    assert "paragraph" in reask


def test_a_persona_that_stays_invalid_is_recorded_as_failed_and_the_job_says_n_minus_k(
    django_capture_on_commit_callbacks,
):
    project = create_project(target_demographics=TARGET)
    bad = lambda m: profile(m, paragraphs=1)  # noqa: E731
    llm.script("persona_generation", [profile, profile, bad, bad, bad])
    run = start(project, 3, django_capture_on_commit_callbacks, segments=False)
    run_worker()
    run.refresh_from_db()
    job = Job.objects.get(pk=run.job_id)
    with translation.override("en"):
        message = job.as_dict()["message"]
    assert job.status == "succeeded" and "2 of 3" in message and "1 failed" in message
    assert run.status == "partial" and len(run.failed) == 1 and "paragraph" in run.failed[0]["reason"]
    assert Persona.objects.filter(run=run).count() == 2


def test_when_no_persona_can_be_made_the_job_fails_and_no_canned_persona_appears(django_capture_on_commit_callbacks):
    project = create_project(target_demographics=TARGET)
    llm.script("persona_generation", [{"full_name": "x"}] * 10)
    run = start(project, 2, django_capture_on_commit_callbacks, segments=False)
    run_worker()
    job = Job.objects.get(pk=run.job_id)
    assert job.status == "failed" and "no persona could be generated" in job.error
    assert not Persona.objects.exists()


def test_failed_segmentation_falls_back_to_demographic_groups_and_says_so(django_capture_on_commit_callbacks):
    project = create_project(target_demographics=TARGET)
    llm.script("persona_orchestration", [{"segments": []}] * 5)
    llm.script("persona_generation", [profile] * 10)
    run = start(project, 10, django_capture_on_commit_callbacks)
    run_worker()
    run.refresh_from_db()
    assert run.segment_fallback and "LLMOutputError" in run.segment_fallback_reason
    assert run.segments.count() >= 2 and all("Skład" in s.brief or "Composition" in s.brief for s in run.segments.all())
    assert Persona.objects.filter(run=run, segment__isnull=True).count() == 0


def test_a_run_resumed_after_its_worker_died_generates_only_the_missing_personas(django_capture_on_commit_callbacks):
    project = create_project(target_demographics=TARGET)
    llm.script("persona_generation", [profile] * 10)
    run = start(project, 10, django_capture_on_commit_callbacks, segments=False)
    django_rq.get_queue("llm").empty()
    # Worker zdążył zapisać 4 persony i zginął.
    for p in run.allocation[:4]:
        generation.save_persona(run, p, generation.PersonaProfile(**profile([])), segment=None, prompt_hash="")
    Job.objects.filter(pk=run.job_id).update(
        status="running", attempts=1, heartbeat_at=timezone.now() - timedelta(minutes=10)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert len(jobs.reconcile()) == 1
    run_worker()
    assert len(llm.scripted_calls("persona_generation")) == 6
    assert sorted(Persona.objects.filter(run=run).values_list("index", flat=True)) == list(range(10))
    assert Job.objects.get(pk=run.job_id).status == "succeeded"


def test_progress_and_each_new_persona_are_published_live(django_capture_on_commit_callbacks):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from sight import live

    project = create_project(target_demographics=TARGET)
    llm.script("persona_generation", [profile] * 3)
    run = start(project, 3, django_capture_on_commit_callbacks, segments=False)
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(live.job_group(run.job_id), channel)
    run_worker()
    messages = []
    for _ in range(40):
        try:
            messages.append(async_to_sync(_receive)(layer, channel))
        except TimeoutError:
            break
    personas = [m["payload"]["persona"]["full_name"] for m in messages if m["payload"]["type"] == "persona"]
    done = [m["payload"]["job"]["done"] for m in messages if m["payload"]["type"] == "job"]
    assert len(personas) == 3 and max(done) == 3 and done[-1] == 3


async def _receive(layer, channel):
    import asyncio

    return await asyncio.wait_for(layer.receive(channel), 0.5)


def test_needs_and_pains_are_generated_on_demand_and_cached(django_capture_on_commit_callbacks):
    project = create_project(target_demographics=TARGET)
    llm.script("persona_generation", [profile])
    run = start(project, 1, django_capture_on_commit_callbacks, segments=False)
    run_worker()
    persona = Persona.objects.get(run=run)
    needs = {"jobs_to_be_done": ["a", "b"], "desired_outcomes": ["c", "d"], "pain_points": ["e", "f"]}
    llm.script("persona_needs", [needs])
    with django_capture_on_commit_callbacks(execute=True):
        generation.start_needs(persona, user=project.owner)
    run_worker()
    persona.refresh_from_db()
    assert persona.needs["pain_points"] == ["e", "f"]
    with django_capture_on_commit_callbacks(execute=True):
        generation.start_needs(persona, user=project.owner)
    run_worker()  # z cache: skrypt jest pusty, a zadanie się udaje
    assert Job.objects.filter(kind="personas.needs", status="succeeded").count() == 2


def test_allocation_summary_lists_every_profile_for_the_segmenter():
    plan = [
        {"index": i, "demographics": {"gender": "female" if i % 2 else "male"}, "occupation": None} for i in range(4)
    ]
    text = generation.allocation_summary(plan, "en")
    assert "#0: male" in text and "#3: female" in text and "female ×2" in text
    assert json.dumps(
        generation.assign_members([{"member_indexes": [0, 0, 9]}, {"member_indexes": [1]}], plan)
    )  # każdy profil gdzieś trafia
    groups = generation.assign_members([{"member_indexes": [0, 2]}, {"member_indexes": [1]}], plan)
    assert sorted(i for g in groups for i in g) == [0, 1, 2, 3] and groups[0][:2] == [0, 2]


def test_a_batch_of_personas_is_saved_once_even_when_one_of_them_already_exists(django_capture_on_commit_callbacks):
    project = create_project(target_demographics=TARGET)
    run = start(project, 4, django_capture_on_commit_callbacks, segments=False)
    django_rq.get_queue("llm").empty()
    saved = [
        generation.SavedProfile(p, generation.PersonaProfile(**profile([])), None, grounding.Grounding([]), "")
        for p in run.allocation[:3]
    ]
    generation.save_personas(run, saved[1:2])

    personas = generation.save_personas(run, saved)

    assert [p.index for p in personas] == [p["index"] for p in run.allocation[:3]]
    assert Persona.objects.filter(run=run).count() == 3


def test_growing_a_panel_without_seeds_tops_it_up_to_exact_quotas_without_clones(
    settings, django_capture_on_commit_callbacks
):
    settings.SIGHT_LLM_PROVIDER = "offline"
    preset = config.load_demographics()["poland"]
    project = create_project(target_demographics=preset.target_demographics(), language="pl")
    first = start(project, 20, django_capture_on_commit_callbacks, segments=False, use_rag=False)
    run_worker()
    second = start(project, 20, django_capture_on_commit_callbacks, segments=False, use_rag=False)
    run_worker()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.seed != second.seed and first.status == second.status == "succeeded"
    personas = list(Persona.objects.filter(project=project))
    assert len(personas) == 40
    names = [" ".join(p.full_name.split()).casefold() for p in personas]
    assert len(set(names)) == 40
    assert len({p.background_story for p in personas}) == 40
    report = validate_personas(project)
    assert report["diversity"]["duplicate_names"] == [] and report["diversity"]["stories"]["near_duplicate_count"] == 0
    for category, weights in project.target_demographics.items():
        counts = Counter(p.demographics[category] for p in personas)
        assert {b: counts.get(b, 0) for b in weights} == largest_remainder(weights, 40), category


def test_the_same_explicit_seed_reproduces_the_plan_and_no_seed_draws_a_fresh_one(django_capture_on_commit_callbacks):
    a, b = create_project(target_demographics=TARGET), create_project(target_demographics=TARGET)
    run_a = start(a, 12, django_capture_on_commit_callbacks, seed=123)
    run_b = start(b, 12, django_capture_on_commit_callbacks, seed=123)
    assert run_a.seed == run_b.seed == 123 and run_a.allocation == run_b.allocation
    Job.objects.filter(project__in=[a, b]).update(status="succeeded")
    drawn = [start(project, 3, django_capture_on_commit_callbacks).seed for project in (a, b)]
    assert 123 not in drawn and drawn[0] != drawn[1]
