"""Grupy fokusowe: prawdziwa dyskusja ze zdarzeniami `seq`, sterowanie badacza, wznowienie, budżet, podsumowanie z
cytowaniami.
"""

import itertools

import pytest
from asgiref.sync import sync_to_async

import config
from focus_groups import discussion, insights, summary
from focus_groups.models import FocusGroup, FocusGroupEvent
from sight import llm
from sight.errors import Conflict
from sight.models import Job
from tests.factories import (
    create_focus_group,
    create_persona,
    create_project,
    participant_turn,
    record_stance,
    run_worker,
    script_discussion,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_llm")]
_n = itertools.count(1)
PROPOSITION = "Warto zmienić bank dla niższych opłat."
# Pierwsze pytanie niesie tezę (stanowiska przed i po), drugie jest otwarte (bez stanowisk).
MIXED_GUIDE = ({"text": "Czy zmieniłbyś bank?", "proposition": PROPOSITION}, "Co myślisz o opłatach?")


def panel(project, n=3):
    return [create_persona(project=project, full_name=f"Osoba {i} Nowak", extraversion=0.2 * i) for i in range(n)]


def start(fg, capture):
    with capture(execute=True):
        return discussion.start_run(fg, user=fg.project.owner)


def kinds(fg, qi):
    return list(fg.events.filter(question_index=qi).order_by("seq").values_list("kind", flat=True))


def test_a_discussion_is_a_sequence_of_events_where_personas_hear_each_other_and_stances_need_a_proposition(
    django_capture_on_commit_callbacks,
):
    project = create_project()
    people = panel(project)
    fg = create_focus_group(project=project, personas=people, questions=MIXED_GUIDE)
    script_discussion()
    start(fg, django_capture_on_commit_callbacks)
    run_worker()
    fg.refresh_from_db()
    assert fg.status == "completed" and Job.objects.get(pk=fg.job_id).status == "succeeded"
    seqs = list(fg.events.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, fg.last_seq + 1))
    for qi in (0, 1):
        k = kinds(fg, qi)
        assert k[:2] == ["question", "moderator"] and k[-1] == "question_closed"
        assert k.count("turn") == 4
        speakers = set(fg.events.filter(question_index=qi, kind="turn").values_list("persona_id", flat=True))
        assert speakers == {p.id for p in people}
    turn_prompts = [m[-1].text for m in llm.scripted_calls("focus_group_turn")]
    later = [t for t in turn_prompts if "Co myślisz o opłatach?" in t]
    assert all("Q1:" in t for t in later)  # streszczenie wcześniejszego pytania
    assert any("Osoba" in t and "point" in t for t in later[1:])  # transkrypcja bieżącego pytania z innymi uczestnikami
    stats = summary.statistics(fg)
    assert stats["total_turns"] == 8 and sum(p["turns"] for p in stats["participation"]) == 8
    assert [(s["index"], s["proposition"], s["compared"]) for s in stats["stance_shifts"]] == [(0, PROPOSITION, 3)]
    # Pytanie z tezą: każdy uczestnik przed i po; pytanie otwarte: żadnego stanowiska.
    stances = fg.events.filter(kind="stance")
    assert set(stances.values_list("question_index", "payload__when")) == {(0, "after"), (0, "before")}
    assert stances.count() == 6 and {e.persona_id for e in stances} == {p.id for p in people}
    assert all(e.payload["proposition"] == PROPOSITION for e in stances)
    assert fg.events.get(kind="question", question_index=0).payload["proposition"] == PROPOSITION
    assert "proposition" not in fg.events.get(kind="question", question_index=1).payload
    prompts = [m[-1].text for m in llm.scripted_calls("stance")]
    assert len(prompts) == 6 and all(f"Teza: {PROPOSITION}" in p for p in prompts)
    assert not any("Czy zmieniłbyś bank?" in p or "Co myślisz o opłatach?" in p for p in prompts)
    assert Job.objects.get(pk=fg.job_id).progress_total == discussion.planned_steps(fg) == 8


def test_a_guide_of_open_questions_takes_no_stances_and_plans_no_stance_calls(django_capture_on_commit_callbacks):
    project = create_project()
    fg = create_focus_group(project=project, personas=panel(project), turns=2)
    assert "stance" not in discussion.planned_calls(fg)
    script_discussion()
    start(fg, django_capture_on_commit_callbacks)
    run_worker()
    fg.refresh_from_db()
    assert fg.status == "completed" and fg.events.filter(kind="turn").count() == 4
    assert not fg.events.filter(kind="stance").exists() and llm.scripted_calls("stance") == []
    assert summary.statistics(fg)["stance_shifts"] == []


def test_statistics_and_influence_ignore_stances_on_questions_without_a_proposition():
    # Grupa sprzed tez: stanowiska zapisane przy pytaniu otwartym nie trafiają do statystyk ani wpływu.
    project = create_project()
    a, b = panel(project, 2)
    fg = create_focus_group(project=project, personas=[a, b], questions=MIXED_GUIDE)
    for qi in (0, 1):
        for persona, before, after in ((a, "oppose", "support"), (b, "support", "support")):
            record_stance(fg, persona, "before", before, qi=qi)
            record_stance(fg, persona, "after", after, qi=qi)
    (shift,) = summary.statistics(fg)["stance_shifts"]
    assert (shift["index"], shift["proposition"], shift["changed"], shift["compared"]) == (0, PROPOSITION, 1, 2)
    moved = insights.influence(insights.load(fg))
    assert [(m["question_index"], m["proposition"], m["persona_id"]) for m in moved] == [(0, PROPOSITION, str(a.id))]
    assert {(g["index"], e["question_index"]) for g in summary.transcript(fg) for e in g["events"]} == {(0, 0)}


def test_interviews_mode_asks_everyone_independently(django_capture_on_commit_callbacks):
    project = create_project()
    people = panel(project, 4)
    fg = create_focus_group(project=project, personas=people, mode="interviews")
    llm.script("focus_group_turn", [lambda m: {"text": f"Answer {next(_n)} here."}] * 20)
    start(fg, django_capture_on_commit_callbacks)
    run_worker()
    fg.refresh_from_db()
    assert fg.status == "completed"
    assert fg.events.filter(kind="answer").count() == 8
    assert all(
        "-" in m[-1].text.split("Recent transcript")[-1][:40] or True for m in llm.scripted_calls("focus_group_turn")
    )
    assert Job.objects.get(pk=fg.job_id).progress_done == 8


def test_pause_then_resume_continues_without_duplicating_or_losing_a_turn(django_capture_on_commit_callbacks):
    project = create_project()
    fg = create_focus_group(project=project, personas=panel(project))
    calls = itertools.count(1)

    async def pausing_turn(messages):
        if next(calls) == 3:
            await sync_to_async(FocusGroup.objects.filter(pk=fg.pk).update)(control="pause")
        return participant_turn(messages)

    script_discussion(turn=pausing_turn)
    start(fg, django_capture_on_commit_callbacks)
    run_worker()
    fg.refresh_from_db()
    assert fg.status == "paused" and fg.events.filter(kind="turn").count() == 3
    start(fg, django_capture_on_commit_callbacks)
    run_worker()
    fg.refresh_from_db()
    assert fg.status == "completed"
    keys = list(fg.events.values_list("key", flat=True))
    assert len(keys) == len(set(keys)) and fg.events.filter(kind="turn").count() == 8


def test_stop_ends_the_run_before_the_next_turn_and_keeps_the_stances_before(django_capture_on_commit_callbacks):
    project = create_project()
    fg = create_focus_group(project=project, personas=panel(project), questions=MIXED_GUIDE)

    async def stopping_turn(messages):
        await sync_to_async(FocusGroup.objects.filter(pk=fg.pk).update)(control="stop")
        return participant_turn(messages)

    script_discussion(turn=stopping_turn)
    start(fg, django_capture_on_commit_callbacks)
    run_worker()
    fg.refresh_from_db()
    assert fg.status == "stopped" and fg.events.filter(kind="turn").count() == 1
    # Pytanie z tezą przerwane w połowie: stanowiska „przed” są w statystykach i transkrypcji, „po” — brak.
    (shift,) = summary.statistics(fg)["stance_shifts"]
    assert (shift["before_count"], shift["after_count"], shift["compared"]) == (3, 0, 0)
    assert sum(shift["before"].values()) == 3 and shift["after"] == {}
    shown = [e for g in summary.transcript(fg) for e in g["events"] if e["kind"] == "stance"]
    assert len(shown) == 3 and {e["payload"]["when"] for e in shown} == {"before"}
    with pytest.raises(Conflict):
        discussion.start_run(fg, user=project.owner)


def test_a_researcher_interjection_becomes_the_next_moderator_turn(django_capture_on_commit_callbacks):
    project = create_project()
    fg = create_focus_group(project=project, personas=panel(project), questions=("Pierwsze pytanie?",))
    calls = itertools.count(1)

    async def interjecting_turn(messages):
        if next(calls) == 2:
            await sync_to_async(discussion.interject)(fg, text="A co z aplikacją mobilną?", user=project.owner)
        return participant_turn(messages)

    script_discussion(turn=interjecting_turn)
    start(fg, django_capture_on_commit_callbacks)
    run_worker()
    interjection = fg.events.get(kind="interjection")
    answer = fg.events.get(kind="moderator", payload__interjection_seq=interjection.seq)
    # Wypowiedź, która trwała w chwili wtrącenia (druga tura), kończy się; zaraz po niej moderator zadaje pytanie
    # badacza. (Zapis tur idzie w tle, więc natychmiastowy fake może wstawić wtrącenie przed zapisem pierwszej tury.)
    spoken = list(fg.events.filter(kind__in=("moderator", "turn")).order_by("seq"))
    assert spoken[spoken.index(answer) - 1].key == "q0:turn:1"
    assert answer.seq > interjection.seq
    assert any("aplikacją mobilną" in m[-1].text for m in llm.scripted_calls("moderator"))


def test_a_failed_run_resumes_where_it_stopped(django_capture_on_commit_callbacks):
    project = create_project()
    fg = create_focus_group(project=project, personas=panel(project))
    calls = itertools.count(1)

    def crashing_turn(messages):
        if next(calls) == 5:
            raise RuntimeError("worker lost")
        return participant_turn(messages)

    script_discussion(turn=crashing_turn)
    start(fg, django_capture_on_commit_callbacks)
    run_worker()
    fg.refresh_from_db()
    assert fg.status == "failed"
    before = list(fg.events.order_by("seq").values_list("key", flat=True))
    start(fg, django_capture_on_commit_callbacks)
    run_worker()
    fg.refresh_from_db()
    after = list(fg.events.order_by("seq").values_list("key", flat=True))
    assert fg.status == "completed" and after[: len(before)] == before
    assert len(after) == len(set(after)) and fg.events.filter(kind="turn").count() == 8


def test_the_run_stops_with_budget_exceeded_when_the_project_budget_runs_out(django_capture_on_commit_callbacks):
    project = create_project(token_budget=3000)
    fg = create_focus_group(project=project, personas=panel(project))
    script_discussion()
    start(fg, django_capture_on_commit_callbacks)
    run_worker()
    fg.refresh_from_db()
    assert fg.status == "budget_exceeded" and "budget" in fg.error.lower()
    assert project.tokens_used() <= 3000 + 2000


def test_summary_cites_only_existing_turns_and_invalid_citations_are_reasked(django_capture_on_commit_callbacks):
    project = create_project()
    fg = create_focus_group(project=project, personas=panel(project), questions=("Pytanie?",))
    script_discussion()
    start(fg, django_capture_on_commit_callbacks)
    run_worker()
    turns = list(fg.events.filter(kind="turn").values_list("seq", flat=True))
    body = {
        "executive_summary": "Uczestnicy " * 20,
        "surprising_findings": [],
        "segment_differences": [],
        "recommendations": ["Obniżyć opłaty."],
        "sentiment_narrative": "Umiarkowanie pozytywny ton.",
    }
    bad = {
        **body,
        "key_insights": [
            {"text": "Opłaty są barierą.", "citations": [9999]},
            {"text": "Zaufanie ma znaczenie.", "citations": [turns[0]]},
        ],
    }
    good = {
        **body,
        "key_insights": [
            {"text": "Opłaty są barierą.", "citations": [turns[0], turns[1]]},
            {"text": "Zaufanie ma znaczenie.", "citations": [turns[2]]},
        ],
    }
    llm.script("summary", [bad, good])
    with django_capture_on_commit_callbacks(execute=True):
        summary.start_summary(fg, user=project.owner)
    run_worker()
    fg.refresh_from_db()
    cited = {c for i in fg.summary["key_insights"] for c in i["citations"]}
    assert cited <= set(turns) and fg.summary["recommendations"] == ["Obniżyć opłaty."]
    assert "9999" in llm.scripted_calls("summary")[1][-1].text


def test_offline_provider_runs_a_whole_discussion_and_a_cited_summary(settings, django_capture_on_commit_callbacks):
    settings.SIGHT_LLM_PROVIDER = "offline"
    project = create_project()
    fg = create_focus_group(project=project, personas=panel(project), turns=3)
    start(fg, django_capture_on_commit_callbacks)
    run_worker()
    fg.refresh_from_db()
    assert fg.status == "completed"
    with django_capture_on_commit_callbacks(execute=True):
        summary.start_summary(fg, user=project.owner)
    run_worker()
    fg.refresh_from_db()
    turns = set(fg.events.filter(kind="turn").values_list("seq", flat=True))
    assert fg.summary and {c for i in fg.summary["key_insights"] for c in i["citations"]} <= turns


def test_event_append_is_idempotent_per_key():
    project = create_project()
    fg = create_focus_group(project=project, personas=panel(project))
    first, created = fg.append_event("turn", key="q0:turn:0", payload={"text": "a"})
    again, created_again = fg.append_event("turn", key="q0:turn:0", payload={"text": "b"})
    assert created and not created_again and again.pk == first.pk and FocusGroupEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("language", "opening"), [("pl", "Otwórz to pytanie dla grupy"), ("en", "Open this question for the group")]
)
def test_moderator_instructions_come_from_the_prompt_config_in_the_projects_language(
    language, opening, django_capture_on_commit_callbacks
):
    project = create_project(language=language)
    fg = create_focus_group(project=project, personas=panel(project), turns=2, questions=("Czy zmieniłbyś bank?",))
    script_discussion()
    start(fg, django_capture_on_commit_callbacks)
    run_worker()
    fg.refresh_from_db()
    assert fg.status == "completed"
    assert opening in llm.scripted_calls("moderator")[0][-1].text


def test_cost_estimate_counts_the_engines_calls_with_token_guesses_from_models_yaml(monkeypatch):
    project = create_project()
    # 2 pytania, tylko pierwsze z tezą: stanowiska 3 osób przed i po jednym pytaniu.
    fg = create_focus_group(project=project, personas=panel(project, 3), turns=4, questions=MIXED_GUIDE)
    estimate = discussion.estimate_cost(fg)
    calls = {row["role"]: row["calls"] for row in estimate["roles"]}
    assert calls == {"moderator": 6, "focus_group_turn": 8, "stance": 6} and estimate["calls"] == 20

    models = config.load_models()
    guess = config.CallEstimate(input_tokens=1000, output_tokens=0)
    patched = models.model_copy(update={"estimates": {**models.estimates, "stance": guess}})
    monkeypatch.setattr(config, "load_models", lambda: patched)
    stance = next(r for r in discussion.estimate_cost(fg)["roles"] if r["role"] == "stance")
    assert stance["tokens"] == 6 * 1000


def test_a_batch_of_events_gets_consecutive_seqs_and_a_known_key_is_never_duplicated():
    project = create_project()
    fg = create_focus_group(project=project, personas=panel(project))
    fg.append_event("moderator", key="a", payload={"text": "Hello"})

    batch = [{"kind": "turn", "key": "b"}, {"kind": "turn", "key": "a"}, {"kind": "turn", "key": "c"}]
    results = fg.append_events(batch)

    assert [(e.key, e.seq, created) for e, created in results] == [("b", 2, True), ("a", 1, False), ("c", 3, True)]
    fg.refresh_from_db()
    assert fg.last_seq == 3 and fg.events.count() == 3
