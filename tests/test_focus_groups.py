"""Grupy fokusowe: prawdziwa dyskusja ze zdarzeniami `seq`, sterowanie badacza, wznowienie, budżet, podsumowanie z
cytowaniami.
"""

import itertools

import django_rq
import pytest
from asgiref.sync import sync_to_async
from rq import SimpleWorker

from focus_groups import discussion, summary
from focus_groups.models import FocusGroup, FocusGroupEvent
from focus_groups.setup import FocusGroupIn, create_focus_group
from sight import llm
from sight.errors import Conflict
from sight.models import Job
from tests.conftest import create_persona, create_project

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_llm")]
_n = itertools.count(1)


def moderator(messages):
    return {"text": f"Moderator line {next(_n)}: what do you think?"}


def turn(messages):
    return {
        "text": f"I think this matters to me, point {next(_n)}. Second sentence here.",
        "addressed_to": None,
        "agrees_with": [],
        "disagrees_with": [],
    }


def stance(messages):
    return {"stance": ["support", "neutral", "oppose"][next(_n) % 3], "reason": "Because of price and trust."}


def script_discussion(turn_fn=turn, n=400):
    llm.script("moderator", [moderator] * n)
    llm.script("focus_group_turn", [turn_fn] * n)
    llm.script("stance", [stance] * n)


def panel(project, n=3):
    return [create_persona(project=project, full_name=f"Osoba {i} Nowak", extraversion=0.2 * i) for i in range(n)]


def make_group(
    project, people, *, mode="discussion", turns=4, questions=("Czy zmieniłbyś bank?", "Co myślisz o opłatach?")
):
    data = FocusGroupIn(
        name="FG",
        mode=mode,
        turns_per_question=turns,
        questions=[{"text": q, "probes": []} for q in questions],
        participants={"persona_ids": [p.id for p in people]},
    )
    return create_focus_group(project, data)


def run_worker():
    SimpleWorker(
        [django_rq.get_queue("llm"), django_rq.get_queue("default")], connection=django_rq.get_connection("llm")
    ).work(burst=True)


def start(fg, capture):
    with capture(execute=True):
        return discussion.start_run(fg, user=fg.project.owner)


def kinds(fg, qi):
    return list(fg.events.filter(question_index=qi).order_by("seq").values_list("kind", flat=True))


def test_a_discussion_is_a_sequence_of_events_where_personas_hear_each_other(django_capture_on_commit_callbacks):
    project = create_project()
    people = panel(project)
    fg = make_group(project, people)
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
        assert k.count("turn") == 4 and k.count("stance") == 6
        speakers = set(fg.events.filter(question_index=qi, kind="turn").values_list("persona_id", flat=True))
        assert speakers == {p.id for p in people}
    turn_prompts = [m[-1].text for m in llm.scripted_calls("focus_group_turn")]
    later = [t for t in turn_prompts if "Co myślisz o opłatach?" in t]
    assert all("Q1:" in t for t in later)  # streszczenie wcześniejszego pytania
    assert any("Osoba" in t and "point" in t for t in later[1:])  # transkrypcja bieżącego pytania z innymi uczestnikami
    stats = summary.statistics(fg)
    assert stats["total_turns"] == 8 and sum(p["turns"] for p in stats["participation"]) == 8
    assert all(s["compared"] == 3 for s in stats["stance_shifts"])


def test_interviews_mode_asks_everyone_independently(django_capture_on_commit_callbacks):
    project = create_project()
    people = panel(project, 4)
    fg = make_group(project, people, mode="interviews")
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
    fg = make_group(project, panel(project))
    calls = itertools.count(1)

    async def pausing_turn(messages):
        if next(calls) == 3:
            await sync_to_async(FocusGroup.objects.filter(pk=fg.pk).update)(control="pause")
        return turn(messages)

    script_discussion(pausing_turn)
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


def test_stop_ends_the_run_before_the_next_turn(django_capture_on_commit_callbacks):
    project = create_project()
    fg = make_group(project, panel(project))

    async def stopping_turn(messages):
        await sync_to_async(FocusGroup.objects.filter(pk=fg.pk).update)(control="stop")
        return turn(messages)

    script_discussion(stopping_turn)
    start(fg, django_capture_on_commit_callbacks)
    run_worker()
    fg.refresh_from_db()
    assert fg.status == "stopped" and fg.events.filter(kind="turn").count() == 1
    with pytest.raises(Conflict):
        discussion.start_run(fg, user=project.owner)


def test_a_researcher_interjection_becomes_the_next_moderator_turn(django_capture_on_commit_callbacks):
    project = create_project()
    fg = make_group(project, panel(project), questions=("Pierwsze pytanie?",))
    calls = itertools.count(1)

    async def interjecting_turn(messages):
        if next(calls) == 2:
            await sync_to_async(discussion.interject)(fg, text="A co z aplikacją mobilną?", user=project.owner)
        return turn(messages)

    script_discussion(interjecting_turn)
    start(fg, django_capture_on_commit_callbacks)
    run_worker()
    interjection = fg.events.get(kind="interjection")
    answer = fg.events.get(kind="moderator", payload__interjection_seq=interjection.seq)
    # Wypowiedź, która trwała w chwili wtrącenia, kończy się; zaraz po niej moderator zadaje pytanie badacza.
    next_turns = list(fg.events.filter(seq__gt=interjection.seq, kind__in=("moderator", "turn")).order_by("seq"))
    assert next_turns[1] == answer and next_turns[0].kind == "turn"
    assert any("aplikacją mobilną" in m[-1].text for m in llm.scripted_calls("moderator"))


def test_a_failed_run_resumes_where_it_stopped(django_capture_on_commit_callbacks):
    project = create_project()
    fg = make_group(project, panel(project))
    calls = itertools.count(1)

    def crashing_turn(messages):
        if next(calls) == 5:
            raise RuntimeError("worker lost")
        return turn(messages)

    script_discussion(crashing_turn)
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
    fg = make_group(project, panel(project))
    script_discussion()
    start(fg, django_capture_on_commit_callbacks)
    run_worker()
    fg.refresh_from_db()
    assert fg.status == "budget_exceeded" and "budget" in fg.error.lower()
    assert project.tokens_used() <= 3000 + 2000


def test_summary_cites_only_existing_turns_and_invalid_citations_are_reasked(django_capture_on_commit_callbacks):
    project = create_project()
    fg = make_group(project, panel(project), questions=("Pytanie?",))
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
    fg = make_group(project, panel(project), turns=3)
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
    fg = make_group(project, panel(project))
    first, created = fg.append_event("turn", key="q0:turn:0", payload={"text": "a"})
    again, created_again = fg.append_event("turn", key="q0:turn:0", payload={"text": "b"})
    assert created and not created_again and again.pk == first.pk and FocusGroupEvent.objects.count() == 1
