"""Prawdziwy proces workera RQ zabity SIGKILL w trakcie zadania: rekoncyliacja wstawia zadanie ponownie, nowy worker
kończy bez duplikatów.
"""

import subprocess
import time

import pytest

from focus_groups import discussion
from focus_groups.models import FocusGroup
from focus_groups.setup import FocusGroupIn, create_focus_group
from personas import generation
from personas.models import Persona
from sight import jobs
from sight.models import Job
from tests.factories import create_persona, create_project, create_user, kill_tree, start_worker, wait_for, worker_env

pytestmark = pytest.mark.django_db(transaction=True)


def kill_and_recover(job: Job, env: dict[str, str], worker: subprocess.Popen, settings_fixture) -> Job:
    """SIGKILL workera i jego „konia roboczego” (RQ uruchamia go w osobnej sesji), przeterminowany heartbeat,
    rekoncyliacja, nowy worker.
    """
    kill_tree(worker)
    job.refresh_from_db()
    assert job.status == "running", "the job must still look running after the kill"
    settings_fixture.SIGHT_JOB_STALE_SECONDS = 2
    time.sleep(2.5)
    assert [j.id for j in jobs.reconcile()] == [job.id]
    rescue = start_worker(env, burst=True)
    assert rescue.wait(120) == 0
    job.refresh_from_db()
    return job


def test_killed_worker_smoke_job_is_reenqueued_and_finished_once_a_worker_is_back(settings):
    env = worker_env(300)
    user = create_user()
    job = jobs.start_job(kind="llm.smoke", user=user, params={"calls": 8}, total=8)
    worker = start_worker(env)
    try:
        wait_for(lambda: Job.objects.get(pk=job.pk).progress_done >= 2)
        job = kill_and_recover(job, env, worker, settings)
    finally:
        if worker.poll() is None:
            kill_tree(worker)
    assert job.status == "succeeded" and job.attempts == 2
    assert job.result["smoke_done"] == list(range(8)) and job.progress_done == 8


def test_killed_persona_generation_resumes_without_duplicates(settings):
    env = worker_env(1500)
    project = create_project(
        target_demographics={"gender": {"female": 0.5, "male": 0.5}, "age_group": {"18-34": 0.5, "35-54": 0.5}}
    )
    run = generation.start_generation(
        project, user=project.owner, num_personas=12, seed=3, segments=False, use_rag=False
    )
    worker = start_worker(env)
    try:
        wait_for(lambda: Persona.objects.filter(run=run).count() >= 1)
        job = kill_and_recover(Job.objects.get(pk=run.job_id), env, worker, settings)
    finally:
        if worker.poll() is None:
            kill_tree(worker)
    indexes = sorted(Persona.objects.filter(run=run).values_list("index", flat=True))
    assert job.status == "succeeded" and indexes == list(range(12))


def test_killed_focus_group_resumes_with_no_duplicated_and_no_lost_turn(settings):
    env = worker_env(400)
    project = create_project()
    people = [create_persona(project=project) for _ in range(3)]
    fg = create_focus_group(
        project,
        FocusGroupIn(
            name="K",
            turns_per_question=5,
            questions=[{"text": "Czy zmieniłbyś bank?"}],
            participants={"persona_ids": [p.id for p in people]},
        ),
    )
    job = discussion.start_run(fg, user=project.owner)
    worker = start_worker(env)
    try:
        wait_for(lambda: fg.events.filter(kind="turn").count() >= 2)
        job = kill_and_recover(job, env, worker, settings)
    finally:
        if worker.poll() is None:
            kill_tree(worker)
    fg.refresh_from_db()
    keys = list(fg.events.order_by("seq").values_list("key", flat=True))
    assert job.status == "succeeded" and fg.status == FocusGroup.Status.COMPLETED
    assert len(keys) == len(set(keys)) and list(fg.events.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, fg.last_seq + 1)
    )
    assert sorted(fg.events.filter(kind="turn").values_list("payload__turn", flat=True)) == [0, 1, 2, 3, 4]


def test_killed_survey_fielding_resumes_with_exactly_one_answer_per_persona_and_question(settings):
    from surveys import fielding
    from surveys.builder import SurveyIn, create_survey
    from surveys.models import Answer, Survey

    env = worker_env(400)
    project = create_project()
    people = [create_persona(project=project) for _ in range(6)]
    choice = {"type": "single_choice", "text": "Który bank?", "options": [{"label": "PKO"}, {"label": "mBank"}]}
    questions = [
        choice,
        {"type": "nps", "text": "Polecisz?"},
        {"type": "numeric", "text": "Ile zapłacisz?", "min": 1, "max": 100},
        {"type": "open_text", "text": "Dlaczego {Q1}?"},
    ]
    survey = create_survey(project, SurveyIn(name="K", questions=questions))
    job = fielding.start_run(survey, user=project.owner)
    worker = start_worker(env)
    try:
        # Zabity w połowie: część person ma już odpowiedzi, żadna nie ma jeszcze wszystkich.
        wait_for(lambda: Answer.objects.filter(survey=survey).count() >= 3)
        assert Answer.objects.filter(survey=survey).count() < len(people) * len(questions)
        job = kill_and_recover(job, env, worker, settings)
    finally:
        if worker.poll() is None:
            kill_tree(worker)
    survey.refresh_from_db()
    pairs = list(Answer.objects.filter(survey=survey).values_list("persona_id", "question_id"))
    assert job.status == "succeeded" and job.attempts == 2 and survey.status == Survey.Status.COMPLETED
    assert len(pairs) == len(set(pairs)) == len(people) * len(questions)
    assert set(pairs) == {(p.id, q.id) for p in people for q in survey.questions.all()}
    assert not Answer.objects.filter(survey=survey, failed=True).exists()
