"""Prawdziwy proces workera RQ zabity SIGKILL w trakcie zadania: rekoncyliacja wstawia zadanie ponownie, nowy worker
kończy bez duplikatów.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import pytest
from django.conf import settings

from focus_groups import discussion
from focus_groups.models import FocusGroup
from focus_groups.setup import FocusGroupIn, create_focus_group
from personas import generation
from personas.models import Persona
from sight import jobs
from sight.models import Job
from tests.factories import create_persona, create_project, create_user

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parent.parent


def worker_env(latency_ms: int) -> dict[str, str]:
    """Środowisko workera: ta sama testowa baza, dostawca offline ze stałym opóźnieniem, częsty heartbeat."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    url = urlunsplit((parts.scheme, parts.netloc, "/" + settings.DATABASES["default"]["NAME"], parts.query, ""))
    return {
        **os.environ,
        "DATABASE_URL": url,
        "SIGHT_LLM_PROVIDER": "offline",
        "SIGHT_OFFLINE_LATENCY_MS": str(latency_ms),
        "SIGHT_JOB_HEARTBEAT_SECONDS": "1",
    }


def start_worker(env: dict[str, str], *, burst: bool = False) -> subprocess.Popen:
    args = [sys.executable, str(ROOT / "manage.py"), "rqworker", "llm", "default", *(["--burst"] if burst else [])]
    return subprocess.Popen(
        args, env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def kill_tree(worker: subprocess.Popen) -> None:
    """SIGKILL procesu i wszystkich potomków."""
    parent = psutil.Process(worker.pid)
    for proc in [*parent.children(recursive=True), parent]:
        with contextlib.suppress(psutil.NoSuchProcess):
            proc.send_signal(signal.SIGKILL)
    worker.wait(10)


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


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
