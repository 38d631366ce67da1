"""Pojęcia z dyskusji: ekstrakcja (fake i offline), kanonizacja, wnioski z dowodów, porównanie dwóch dyskusji, API."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

import config
from focus_groups import concepts, insights
from focus_groups.models import (
    Concept,
    ConceptAlias,
    ConceptMention,
    FocusGroup,
    Participant,
    TurnEmotion,
    TurnExtraction,
    TurnRelation,
)
from personas.models import PersonaRun, Segment
from sight.models import Job
from tests.factories import (
    api_client,
    create_persona,
    create_project,
    create_token,
    create_user,
    record_stance,
    run_worker,
)

pytestmark = pytest.mark.django_db

Kind = FocusGroup.Status


def segment(project: Any, name: str, index: int) -> Segment:
    run = PersonaRun.objects.create(project=project, num_requested=1, seed=index)
    return Segment.objects.create(run=run, project=project, index=index, name=name)


def discussion(
    *, project: Any = None, names: tuple[str, ...] = ("Anna", "Bartek", "Celina"), questions: int = 1
) -> tuple[FocusGroup, dict[str, Any]]:
    """Grupa z uczestnikami (dwa segmenty) i bez zdarzeń; każde pytanie ma tezę (stanowiska liczą się tylko przy niej);
    zwraca też persony po imieniu.
    """
    project = project or create_project()
    young, old = segment(project, "młodzi", 0), segment(project, "starsi", 1)
    fg = FocusGroup.objects.create(
        project=project,
        name="Grupa",
        questions=[{"text": f"Pytanie {i + 1}?", "proposition": f"Teza {i + 1}."} for i in range(questions)],
        status=FocusGroup.Status.COMPLETED,
    )
    people = {}
    for i, name in enumerate(names):
        people[name] = create_persona(project=project, full_name=name, segment=young if i % 2 == 0 else old)
        Participant.objects.create(focus_group=fg, persona=people[name], position=i)
    return fg, people


def say(fg: FocusGroup, persona: Any, text: str, *, qi: int = 0, **refs: Any) -> Any:
    """Dopisuje wypowiedź z nazwanymi odniesieniami (addressed_to / agrees_with / disagrees_with jako persony)."""
    payload = {
        "text": text,
        "persona_name": persona.full_name,
        "addressed_to_id": str(refs["addressed_to"].id) if refs.get("addressed_to") else None,
        "agrees_with": [str(p.id) for p in refs.get("agrees_with", [])],
        "disagrees_with": [str(p.id) for p in refs.get("disagrees_with", [])],
    }
    event, _ = fg.append_event(
        "turn", key=f"q{qi}:turn:{fg.last_seq + 1}", payload=payload, persona_id=persona.id, question_index=qi
    )
    return event


def mention(event: Any, name: str, value: float, quote: str | None = None) -> ConceptMention:
    fg = event.focus_group
    concept, _ = Concept.objects.get_or_create(
        project=fg.project, key=concepts.concept_key(name), defaults={"name": name}
    )
    return ConceptMention.objects.create(
        event=event, concept=concept, focus_group=fg, stance=value, quote=quote or event.text[:20]
    )


def analysed_text(messages: list[Any]) -> str:
    return re.search(r"<<<TEXT\n(.*?)\nTEXT>>>", messages[-1].text if len(messages) == 2 else messages[1].text, re.S)[1]


# --- kanonizacja ------------------------------------------------------------------------------------------------------


def test_inflections_and_case_and_diacritics_fold_into_one_key():
    assert {concepts.concept_key(n) for n in ("cena", "Ceny", "cenie", "CENAMI", " cena. ")} == {"cen"}
    assert concepts.concept_key("Jakość obsługi") == concepts.concept_key("jakosc obslugi")
    assert concepts.concept_key("prices") == concepts.concept_key("price")
    assert concepts.concept_key("cena") != concepts.concept_key("dostawa")
    assert concepts.concept_key("!!!") == ""


def test_canonicaliser_merges_by_key_then_by_embedding_above_the_threshold():
    project = create_project()
    strict = concepts.Canonicaliser(project, threshold=1.01)  # nic nie jest dość podobne
    price = strict.resolve("cena")
    assert strict.resolve("Ceny") == price  # ten sam klucz
    assert strict.resolve("dostawa") != price
    loose = concepts.Canonicaliser(project, threshold=-1.0)  # każde nowe pojęcie łączy się z najbliższym
    merged = loose.resolve("wysyłka kurierem")
    assert merged in {price, strict.resolve("dostawa")}
    assert Concept.objects.filter(project=project).count() == 2
    other = concepts.Canonicaliser(create_project(), threshold=-1.0)
    assert other.resolve("cena") != price  # pojęcia nigdy nie przechodzą między projektami


def test_a_batch_of_names_is_canonicalised_in_order_like_single_calls():
    project = create_project()
    canon = concepts.Canonicaliser(project, threshold=1.01)
    resolved = canon.resolve_many(["Ceny", "dostawa", "cena", "!!!", "dostawy"])
    assert resolved["Ceny"] == resolved["cena"] and resolved["dostawa"] == resolved["dostawy"]
    assert resolved["!!!"] is None
    stored = Concept.objects.filter(project=project).order_by("key")
    assert [(c.key, c.name) for c in stored] == [("cen", "Ceny"), ("dostaw", "dostawa")]  # nazwa z pierwszej wzmianki
    assert set(ConceptAlias.objects.filter(project=project).values_list("key", flat=True)) == {"cen", "dostaw"}
    # drugi kanonizator tego projektu (kolejne zadanie) znajduje te same pojęcia po kluczu, bez nowych wierszy
    again = concepts.Canonicaliser(project, threshold=1.01).resolve_many(["cenie", "dostawą"])
    assert again["cenie"] == resolved["cena"] and Concept.objects.filter(project=project).count() == 2


# --- ekstrakcja -------------------------------------------------------------------------------------------------------


def test_extraction_with_the_fake_llm_stores_grounded_results_and_records_invalid_output_as_skipped(
    fake_llm, django_capture_on_commit_callbacks
):
    fg, p = discussion()
    first = say(fg, p["Anna"], "Cena jest za wysoka, ale jakość mnie cieszy.")
    second = say(fg, p["Bartek"], "Zgadzam się co do ceny. Dostawa była szybka.")
    third = say(fg, p["Celina"], "Nie mam zdania.")

    def answer(messages: list[Any]) -> dict[str, Any]:
        text = analysed_text(messages)
        if text.startswith("Cena"):
            return {
                "concepts": [
                    {"name": "cena", "stance": -0.8, "quote": "Cena jest za wysoka"},
                    {"name": "jakość", "stance": 0.6, "quote": "jakość mnie cieszy"},
                ],
                "emotions": ["frustration"],
                "relations": [],
            }
        if text.startswith("Zgadzam"):
            return {
                "concepts": [
                    {"name": "ceny", "stance": -0.5, "quote": "co do ceny"},
                    {"name": "dostawa", "stance": 0.7, "quote": "dostawa była SZYBKA"},
                ],
                "emotions": ["trust", "trust"],
                "relations": [{"turn": first.seq, "relation": "agree"}],
            }
        # cytat spoza wypowiedzi i numer spoza wcześniejszych — za każdym razem, także po ponownym pytaniu
        return {
            "concepts": [{"name": "zdanie", "stance": 0, "quote": "zmyślony cytat"}],
            "relations": [{"turn": 999, "relation": "agree"}],
        }

    fake_llm.script("concept_extraction", [answer] * 4)
    with django_capture_on_commit_callbacks(execute=True):
        job = concepts.start_extraction(fg, user=None)
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.result["done"], job.result["skipped"]) == (2, 1)
    skipped = TurnExtraction.objects.get(event=third)
    assert skipped.status == "skipped" and "verbatim" in skipped.reason and "999" in skipped.reason
    rows = ConceptMention.objects.filter(focus_group=fg).order_by("event__seq", "concept__name")
    assert [(m.event.seq, m.concept.name, m.stance) for m in rows] == [
        (first.seq, "cena", -0.8),
        (first.seq, "jakość", 0.6),
        (second.seq, "cena", -0.5),  # „ceny” to ta sama odmiana
        (second.seq, "dostawa", 0.7),
    ]
    assert all(concepts.same_text(m.quote) in concepts.same_text(m.event.text) for m in rows)
    assert [(r.event_id, r.target_id, r.relation) for r in TurnRelation.objects.filter(focus_group=fg)] == [
        (second.id, first.id, "agree")
    ]
    assert sorted(TurnEmotion.objects.filter(focus_group=fg).values_list("emotion", flat=True)) == [
        "frustration",
        "trust",
    ]
    # ponowny przebieg nic nie powtarza: wszystkie wypowiedzi mają zapisany wynik
    with django_capture_on_commit_callbacks(execute=True):
        again = concepts.start_extraction(fg, user=None)
    run_worker()
    again.refresh_from_db()
    assert again.result["analysed"] == 0 and ConceptMention.objects.filter(focus_group=fg).count() == 4
    assert len(fake_llm.scripted_calls("concept_extraction")) == 4


def test_the_offline_provider_produces_valid_grounded_extractions(settings, django_capture_on_commit_callbacks):
    settings.SIGHT_LLM_PROVIDER = "offline"
    fg, p = discussion()
    say(fg, p["Anna"], "Cena jest za wysoka. Jakość obsługi jest dobra!")
    say(fg, p["Bartek"], "Dostawa trwała tydzień, to za długo. Wolę sklep stacjonarny.")
    say(fg, p["Celina"], "Ja kupuję tylko w promocji. Reszta mnie nie obchodzi.")
    with django_capture_on_commit_callbacks(execute=True):
        job = concepts.start_extraction(fg, user=None)
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert (job.result["done"], job.result["skipped"]) == (3, 0)
    mentions = list(ConceptMention.objects.filter(focus_group=fg).select_related("event"))
    assert mentions and all(concepts.same_text(m.quote) in concepts.same_text(m.event.text) for m in mentions)
    assert all(-1 <= m.stance <= 1 for m in mentions)
    seqs = set(fg.events.values_list("id", flat=True))
    assert all(r.target_id in seqs and r.target.seq < r.event.seq for r in TurnRelation.objects.filter(focus_group=fg))


def test_extraction_fans_out_concurrently_but_never_past_the_roles_limit(
    settings, monkeypatch, django_capture_on_commit_callbacks
):
    from sight.llm.offline import OfflineChatModel

    settings.SIGHT_LLM_PROVIDER, settings.SIGHT_OFFLINE_LATENCY_MS = "offline", 20
    fg, p = discussion()
    for i in range(12):
        say(fg, p[("Anna", "Bartek", "Celina")[i % 3]], f"Cena numer {i} jest za wysoka, a jakość {i} dobra.")
    in_flight, peak, original = [0], [0], OfflineChatModel._agenerate

    async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        in_flight[0] += 1
        peak[0] = max(peak[0], in_flight[0])
        try:
            return await original(self, *args, **kwargs)
        finally:
            in_flight[0] -= 1

    monkeypatch.setattr(OfflineChatModel, "_agenerate", counted)
    with django_capture_on_commit_callbacks(execute=True):
        job = concepts.start_extraction(fg, user=None)
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.result["done"] == 12
    assert 1 < peak[0] <= config.load_models().role(concepts.ROLE).concurrency


def test_a_completed_run_enqueues_the_extraction(django_capture_on_commit_callbacks, settings):
    settings.SIGHT_LLM_PROVIDER = "offline"
    fg, p = discussion()
    say(fg, p["Anna"], "Cena jest za wysoka.")
    with django_capture_on_commit_callbacks(execute=True):
        job = concepts.extract_after_run(str(fg.id), user=None)
    assert job is not None and job.kind == concepts.JOB_KIND
    FocusGroup.objects.filter(pk=fg.pk).update(status=FocusGroup.Status.STOPPED)
    assert concepts.extract_after_run(str(fg.id), user=None) is None


# --- wnioski ----------------------------------------------------------------------------------------------------------


READINGS = (  # stanowisko przed i po pytaniu 1
    ("Anna", "oppose", "neutral"),
    ("Bartek", "support", "support"),
    ("Celina", "oppose", "oppose"),
    ("Dawid", "neutral", "neutral"),
)


def influence_story() -> tuple[FocusGroup, dict[str, Any], dict[str, Any]]:
    """Anna przechodzi od sprzeciwu do neutralności po tym, jak zgodziła się z Bartkiem (za) i odpowiedziała na jego
    wypowiedź; Celinę (przeciw, jak Anna przed pytaniem) tylko nazwała; Dawid nie zmienia zdania.
    """
    fg, p = discussion(names=("Anna", "Bartek", "Celina", "Dawid"), questions=2)
    for name, before, _after in READINGS:
        record_stance(fg, p[name], "before", before)
    t = {}
    t["b1"] = say(fg, p["Bartek"], "Aplikacja oszczędza mi czas.")
    t["a1"] = say(fg, p["Anna"], "Może masz rację, Bartku.", agrees_with=[p["Bartek"]])
    t["c1"] = say(fg, p["Celina"], "Aplikacja jest zbyt droga.")
    t["a2"] = say(fg, p["Anna"], "Celino, nie przesadzaj.", disagrees_with=[p["Celina"]])
    t["d1"] = say(fg, p["Dawid"], "Nie mam zdania.", addressed_to=p["Anna"])
    TurnRelation.objects.create(event=t["a2"], target=t["b1"], focus_group=fg, relation="builds_on")
    for name, _before, after in READINGS:
        record_stance(fg, p[name], "after", after)
    # pytanie 2: Anna rozmawia z Dawidem, ale tu nikt nie zmienia zdania
    for name in p:
        record_stance(fg, p[name], "before", "neutral", qi=1)
    t["a3"] = say(fg, p["Anna"], "Dawidzie, co myślisz?", qi=1, addressed_to=p["Dawid"])
    for name in p:
        record_stance(fg, p[name], "after", "neutral", qi=1)
    return fg, p, t


def test_influence_comes_only_from_recorded_stance_shifts_and_the_turns_between_them():
    fg, p, t = influence_story()
    result = insights.influence(insights.load(fg))
    assert result == [
        {
            "question_index": 0,
            "proposition": "Teza 1.",
            "persona_id": str(p["Anna"].id),
            "name": "Anna",
            "before": -1,
            "after": 0,
            "influencers": [
                {
                    "persona_id": str(p["Bartek"].id),
                    "name": "Bartek",
                    "stance": 1,
                    "turns": sorted([t["b1"].seq, t["a1"].seq, t["a2"].seq]),
                }
            ],
        }
    ]
    assert insights.influence(insights.load(fg), question=1) == []


def test_key_and_controversial_concepts_segments_emotions_and_network_from_the_evidence():
    fg, p, t = influence_story()
    mention(t["b1"], "aplikacja", 0.9, "Aplikacja oszczędza")
    mention(t["c1"], "aplikacja", -0.7, "Aplikacja jest zbyt droga")
    mention(t["c1"], "cena", -0.5, "zbyt droga")
    mention(t["a1"], "aplikacja", 0.1, "Może masz rację")
    TurnEmotion.objects.create(event=t["c1"], focus_group=fg, emotion="frustration")
    TurnEmotion.objects.create(event=t["b1"], focus_group=fg, emotion="joy")
    TurnEmotion.objects.create(event=t["a2"], focus_group=fg, emotion="frustration")
    data = insights.insights(fg, language="pl")
    app = data["key_concepts"][0]
    assert (app["name"], app["mentions"], app["participants"], app["reach_of"], app["reach"]) == (
        "aplikacja",
        3,
        3,
        4,
        0.75,
    )
    assert [q["seq"] for q in app["quotes"]] == [t["b1"].seq, t["a1"].seq, t["c1"].seq]
    [disputed] = data["controversial"]
    assert disputed["name"] == "aplikacja"
    assert [s["name"] for s in disputed["supporters"]] == ["Bartek"]  # Anna (0,1) jest neutralna
    assert [c["name"] for c in disputed["critics"]] == ["Celina"]
    assert disputed["critics"][0]["quote"] == "Aplikacja jest zbyt droga"
    by_segment = {s["segment"]: s for s in data["segments"][0]["segments"]}
    # Anna i Celina są „młodzi”, Bartek i Dawid „starsi”
    assert by_segment["młodzi"] == {
        "segment": "młodzi",
        "participants": 2,
        "raised": 2,
        "share": 1.0,
        "mentions": 2,
        "stance": -0.3,
    }
    assert (by_segment["starsi"]["raised"], by_segment["starsi"]["share"], by_segment["starsi"]["stance"]) == (
        1,
        0.5,
        0.9,
    )
    assert [(e["emotion"], e["label"], e["turns"], e["participants"]) for e in data["emotions"]] == [
        ("frustration", "frustracja", 2, 2),
        ("joy", "radość", 1, 1),
    ]
    edges = {(e["from_name"], e["to_name"], e["relation"]): e["turns"] for e in data["network"]}
    assert edges == {
        ("Anna", "Bartek", "agree"): [t["a1"].seq],
        ("Anna", "Celina", "disagree"): [t["a2"].seq],
        ("Anna", "Bartek", "builds_on"): [t["a2"].seq],
    }
    assert data["coverage"] == {"turns": 6, "analysed": 0, "skipped": 0, "participants": 4}
    assert insights.insights(fg, question=1)["key_concepts"] == []


def test_insights_use_a_constant_number_of_queries():
    small, p = discussion()
    say(small, p["Anna"], "Cena.")
    big, q = discussion()
    for i in range(30):
        event = say(big, q[("Anna", "Bartek", "Celina")[i % 3]], f"Cena {i} i jakość.")
        mention(event, "cena", 0.5, "Cena")
        TurnEmotion.objects.create(event=event, focus_group=big, emotion="joy")
    counts = []
    for fg in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            insights.insights(fg)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] == 6


# --- porównanie -------------------------------------------------------------------------------------------------------


def test_compare_two_discussions_with_known_differences():
    project = create_project()
    a, pa = discussion(project=project)
    b, pb = discussion(project=project, names=("Ewa", "Filip", "Grażyna"))
    mention(say(a, pa["Anna"], "Cena zła."), "cena", -1.0)
    mention(say(a, pa["Bartek"], "Cena fatalna.", disagrees_with=[pa["Anna"]]), "cena", -0.8)
    mention(say(a, pa["Celina"], "Jakość super."), "jakość", 0.9)
    mention(say(b, pb["Ewa"], "Cena dobra."), "ceny", 0.8)
    mention(say(b, pb["Filip"], "Dostawa wolna."), "dostawa", -0.4)
    record_stance(a, pa["Anna"], "before", "oppose")
    record_stance(a, pa["Anna"], "after", "support")
    result = insights.compare(a, b)
    whole = result["whole"]
    assert (whole["only_a"], whole["only_b"], whole["moved"]) == (["jakość"], ["dostawa"], ["cena"])
    assert whole["overlap"] == {"shared": 1, "union": 3, "jaccard": 0.333}
    assert result["top_overlap"]["jaccard"] == 0.333
    price = next(r for r in whole["rows"] if r["name"] == "cena")
    assert (price["a"]["mentions"], price["a"]["participants"], price["a"]["reach_of"], price["a"]["stance"]) == (
        2,
        2,
        3,
        -0.9,
    )
    assert (price["b"]["mentions"], price["b"]["reach"], price["b"]["stance"]) == (1, 0.333, 0.8)
    assert price["a"]["quote"]["name"] == "Anna"
    assert [q["only_a"] for q in result["questions"]] == [["jakość"]]
    assert result["a"]["turns"] == 3 and result["a"]["stance_shifts"] == 1
    assert result["a"]["stance_shifts_per_100_turns"] == 33.3
    assert (result["a"]["disagreements"], result["b"]["disagreements_per_100_turns"]) == (1, 0.0)
    assert result["groups_per_side"] == 1 and result["significance"] is None


def rerun(fg: FocusGroup, *, name: str = "Drugi przebieg") -> FocusGroup:
    """Drugi przebieg tego samego przewodnika z tymi samymi uczestnikami (inne ziarno: inny identyfikator grupy)."""
    other = FocusGroup.objects.create(
        project=fg.project, name=name, questions=fg.questions, status=FocusGroup.Status.COMPLETED
    )
    for link in fg.participant_links.all():
        Participant.objects.create(focus_group=other, persona=link.persona, position=link.position)
    return other


def seeded_pair() -> tuple[FocusGroup, FocusGroup]:
    """Dwa przebiegi jednego przewodnika: A porusza cenę, jakość i dostawę, B cenę, jakość i obsługę."""
    a, p = discussion()
    b = rerun(a)
    mention(say(a, p["Anna"], "Cena i jakość."), "cena", -0.5)
    mention(say(a, p["Bartek"], "Jakość."), "jakość", 0.5)
    mention(say(a, p["Celina"], "Dostawa."), "dostawa", 0.1)
    mention(say(b, p["Anna"], "Ceny."), "ceny", -0.4)
    mention(say(b, p["Celina"], "Jakość."), "jakość", 0.2)
    mention(say(b, p["Bartek"], "Obsługa."), "obsługa", 0.3)
    return a, b


def test_runs_of_one_guide_with_other_seeds_get_a_stability_line_with_its_counts():
    a, b = seeded_pair()
    line = insights.compare(a, b)["stability"]
    # po 3 kluczowe pojęcia; z A w B padły cena i jakość, z B w A też cena i jakość: 4 z 6
    assert line == {
        "applies": True,
        "reason": None,
        "top": 10,
        "a": {"key_concepts": 3, "recurring": 2},
        "b": {"key_concepts": 3, "recurring": 2},
        "key_concepts": 6,
        "recurring": 4,
        "share": 0.667,
        "percent": 66.7,
    }


def test_key_concepts_for_stability_are_the_ones_raised_by_the_most_participants():
    table = [
        {"key": "talked", "name": "talked", "mentions": 30, "participants": 1},
        *({"key": f"k{i}", "name": f"k{i}", "mentions": 2, "participants": 2} for i in range(10)),
    ]
    chosen = insights.key_concepts_by_reach(table)
    assert len(chosen) == 10 and "talked" not in {c["key"] for c in chosen}


def test_no_stability_line_without_the_same_guide_and_participants_and_the_reason_is_given():
    a, b = seeded_pair()
    assert insights.compare(a, a)["stability"] == {"applies": False, "reason": "same_run", "top": 10}
    other_guide = rerun(a, name="Inny przewodnik")
    other_guide.questions = [{"text": "Zupełnie inne pytanie?"}]
    other_guide.save()
    mention(say(other_guide, a.participants.first(), "Cena."), "cena", 0)
    assert insights.compare(a, other_guide)["stability"]["reason"] == "different_guide"
    other_panel, q = discussion(project=a.project, names=("Ewa", "Filip", "Grażyna"))
    mention(say(other_panel, q["Ewa"], "Cena."), "cena", 0)
    assert insights.compare(a, other_panel)["stability"]["reason"] == "different_participants"
    unanalysed = rerun(a, name="Bez analizy")
    assert insights.compare(a, unanalysed)["stability"] == {"applies": False, "reason": "not_analysed", "top": 10}


def test_the_compare_page_states_the_stability_line_with_denominators_in_the_viewers_language():
    user = create_user()
    a, b = seeded_pair()
    a.project.owner = user
    a.project.save()
    polish, english = Client(headers={"accept-language": "pl"}), Client(headers={"accept-language": "en"})
    for client in (polish, english):
        client.force_login(user)
    url = f"/focus-groups/{a.id}/compare/?with={b.id}"
    pl_page, en_page = polish.get(url).content.decode(), english.get(url).content.decode()
    assert "66,7 % kluczowych pojęć powtarza się między przebiegami" in pl_page
    assert "4 z 6: 2 z 3 kluczowych pojęć A padło w B, 2 z 3 pojęć B — w A" in pl_page
    assert "66.7 % of key concepts recur across seeds" in en_page
    assert "4 of 6: 2 of A's 3 key concepts came up in B, 2 of B's 3 in A" in en_page
    assert "no significance is claimed with fewer than 5 groups per side" in en_page
    assert "(2/4)" in en_page  # nakładanie się pojęć z mianownikiem: wspólne / wszystkie (Jaccard)
    other_panel, q = discussion(project=a.project, names=("Ewa",))
    mention(say(other_panel, q["Ewa"], "Cena."), "cena", 0)
    page = english.get(f"/focus-groups/{a.id}/compare/?with={other_panel.id}").content.decode()
    assert "recur across seeds" not in page and "the two runs have different participants" in page


def test_insights_and_compare_endpoints_keep_their_query_count_as_the_discussion_grows():
    user, token = create_token()
    small, p = discussion(project=create_project(owner=user))
    mention(say(small, p["Anna"], "Cena."), "cena", 0.5, "Cena")
    big = rerun(small, name="Duża")
    people, previous = list(p.values()), None
    for i in range(40):
        event = say(big, people[i % 3], f"Cena {i} i jakość.", agrees_with=[people[(i + 1) % 3]])
        mention(event, "cena", 0.5, "Cena")
        mention(event, "jakość", -0.5, "jakość")
        TurnEmotion.objects.create(event=event, focus_group=big, emotion="joy")
        if previous is not None:
            TurnRelation.objects.create(event=event, target=previous, focus_group=big, relation="agree")
        previous = event
    twin = rerun(small, name="Mała druga")
    mention(say(twin, p["Bartek"], "Cena."), "cena", 0.5, "Cena")
    client = api_client(token)
    client.get(f"/api/v1/focus-groups/{small.id}")  # pierwsze użycie tokenu zapisuje last_used_at
    counts = {}
    for name, url in (
        ("small", f"/api/v1/focus-groups/{small.id}/insights"),
        ("big", f"/api/v1/focus-groups/{big.id}/insights"),
        ("compare_small", f"/api/v1/focus-groups/{small.id}/compare/{twin.id}"),
        ("compare_big", f"/api/v1/focus-groups/{big.id}/compare/{small.id}"),
    ):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        counts[name] = len(ctx.captured_queries)
    assert counts["small"] == counts["big"] and counts["compare_small"] == counts["compare_big"]
    with CaptureQueriesContext(connection) as ctx:
        insights.insights(big)
    assert len(ctx.captured_queries) == 6


# --- API --------------------------------------------------------------------------------------------------------------


def test_insights_compare_and_extraction_endpoints_are_only_for_the_owner(django_capture_on_commit_callbacks):
    user, token = create_token()
    fg, p = discussion(project=create_project(owner=user))
    mention(say(fg, p["Anna"], "Cena zła."), "cena", -1.0)
    other, _ = discussion()
    mine = api_client(token)
    resp = mine.get(f"/api/v1/focus-groups/{fg.id}/insights")
    assert resp.status_code == 200
    assert resp.json()["key_concepts"][0]["name"] == "cena"
    assert mine.get(f"/api/v1/focus-groups/{fg.id}/insights?question=0").json()["question"] == 0
    assert mine.get(f"/api/v1/focus-groups/{fg.id}/compare/{fg.id}").status_code == 200
    assert mine.get(f"/api/v1/focus-groups/{other.id}/insights").status_code == 404
    assert mine.get(f"/api/v1/focus-groups/{fg.id}/compare/{other.id}").status_code == 404
    assert mine.get(f"/api/v1/focus-groups/{other.id}/compare/{fg.id}").status_code == 404
    assert mine.post(f"/api/v1/focus-groups/{other.id}/concepts").status_code == 404
    with django_capture_on_commit_callbacks(execute=False):
        resp = mine.post(f"/api/v1/focus-groups/{fg.id}/concepts?force=true")
    assert resp.status_code == 202
    assert Job.objects.get(pk=resp.json()["job_id"]).params == {"focus_group_id": str(fg.id), "force": True}
    empty, _ = discussion(project=fg.project)
    assert mine.post(f"/api/v1/focus-groups/{empty.id}/concepts").status_code == 409
    assert json.loads(mine.get("/api/v1/openapi.json").content)["paths"][
        "/api/v1/focus-groups/{focus_group_id}/insights"
    ]


def test_concepts_that_recur_across_the_projects_focus_groups_show_their_denominator():
    user, token = create_token()
    project = create_project(owner=user)
    a, pa = discussion(project=project)
    b, pb = discussion(project=project, names=("Ewa", "Filip"))
    discussion(project=project)  # bez analizy: nie liczy się do mianownika
    mention(say(a, pa["Anna"], "Cena."), "cena", -1)
    mention(say(a, pa["Bartek"], "Cena i jakość."), "jakość", 1)
    mention(say(b, pb["Ewa"], "Ceny."), "ceny", 0)
    result = insights.recurring_concepts(project)
    assert result["focus_groups"] == 2
    assert [
        (c["name"], c["focus_groups"], c["of_focus_groups"], c["in_all"], c["mentions"]) for c in result["concepts"]
    ] == [
        ("cena", 2, 2, True, 2),
        ("jakość", 1, 2, False, 1),
    ]
    client = api_client(token)
    assert client.get(f"/api/v1/projects/{project.id}/concepts").json() == json.loads(json.dumps(result))
    assert client.get(f"/api/v1/projects/{create_project().id}/concepts").status_code == 404
