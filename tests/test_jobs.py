"""Cykl życia zadań: kolejka po commicie, postęp, błąd, anulowanie, rekoncyliacja, powtórne doręczenie."""

from datetime import timedelta

import django_rq
import pytest
from django.utils import timezone
from rq import SimpleWorker
from rq.job import Job as RQJob

from sight import jobs
from sight.models import Job
from tests.factories import api_client, create_project, create_token, create_user

pytestmark = pytest.mark.django_db

CALLS: list[str] = []


@jobs.job_handler("test.steps")
def _steps(job: Job) -> dict:
    """Trzy kroki; krok zrobiony wcześniej (result.steps) jest pomijany — jak w prawdziwych zadaniach."""
    done = list(job.result.get("steps", []))
    for step in range(3):
        if step in done:
            continue
        if job.params.get("fail_at") == step:
            raise RuntimeError(f"step {step} exploded")
        if job.params.get("cancel_at") == step:
            Job.objects.filter(pk=job.pk).update(cancel_requested=True)
        CALLS.append(f"{job.id}:{step}")
        done.append(step)
        jobs.report_progress(job, done=len(done), total=3, message=f"step {step}", result={"steps": done})
    return {"finished": True}


@pytest.fixture(autouse=True)
def _reset_calls():
    CALLS.clear()


def _work(queue: str = "default") -> None:
    SimpleWorker([django_rq.get_queue(queue)], connection=django_rq.get_connection(queue)).work(burst=True)


def _start(django_capture_on_commit_callbacks, **params) -> Job:
    user = create_user()
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start_job(kind="test.steps", user=user, project=create_project(owner=user), params=params, total=3)
    return job


def test_job_is_enqueued_after_commit_and_runs_to_success(django_capture_on_commit_callbacks):
    job = _start(django_capture_on_commit_callbacks)
    assert django_rq.get_queue("default").count == 1
    _work()
    job.refresh_from_db()
    assert job.status == "succeeded" and job.percent == 100
    assert (job.progress_done, job.progress_total, job.attempts) == (3, 3, 1)
    assert job.result == {"steps": [0, 1, 2], "finished": True}
    assert job.started_at and job.finished_at and job.heartbeat_at


def test_unknown_job_kind_is_refused():
    with pytest.raises(KeyError):
        jobs.start_job(kind="no.such.kind")


def test_a_failing_job_records_its_error_and_keeps_its_progress(django_capture_on_commit_callbacks):
    job = _start(django_capture_on_commit_callbacks, fail_at=1)
    _work()
    job.refresh_from_db()
    assert job.status == "failed"
    assert "step 1 exploded" in job.error
    assert job.progress_done == 1


def test_cancelling_a_queued_job_ends_it_and_the_worker_does_nothing(django_capture_on_commit_callbacks):
    job = _start(django_capture_on_commit_callbacks)
    jobs.cancel(job)
    assert job.status == "cancelled"
    _work()
    job.refresh_from_db()
    assert job.status == "cancelled" and CALLS == []


def test_cancelling_a_running_job_stops_it_at_the_next_progress_report(django_capture_on_commit_callbacks):
    job = _start(django_capture_on_commit_callbacks, cancel_at=1)
    _work()
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert job.progress_done == 2 and len(CALLS) == 2


def test_a_second_delivery_of_a_finished_job_does_not_run_it_again(django_capture_on_commit_callbacks):
    job = _start(django_capture_on_commit_callbacks)
    _work()
    jobs.execute(str(job.id))
    assert len(CALLS) == 3


def test_a_running_job_with_a_fresh_heartbeat_is_not_taken_over(django_capture_on_commit_callbacks):
    job = _start(django_capture_on_commit_callbacks)
    Job.objects.filter(pk=job.pk).update(status="running", heartbeat_at=timezone.now())
    jobs.execute(str(job.id))
    assert CALLS == []
    assert jobs.reconcile() == []


def test_reconciler_reenqueues_a_job_whose_worker_died_and_it_resumes_without_repeating_steps(
    django_capture_on_commit_callbacks,
):
    job = _start(django_capture_on_commit_callbacks)
    django_rq.get_queue("default").empty()
    # Worker zginął po pierwszym kroku: stan „running”, krok 0 zapisany, heartbeat stary.
    stale = timezone.now() - timedelta(minutes=5)
    Job.objects.filter(pk=job.pk).update(
        status="running", attempts=1, heartbeat_at=stale, result={"steps": [0]}, progress_done=1
    )
    with django_capture_on_commit_callbacks(execute=True):
        revived = jobs.reconcile()
    assert [j.id for j in revived] == [job.id]
    assert django_rq.get_queue("default").count == 1
    _work()
    job.refresh_from_db()
    assert job.status == "succeeded" and job.attempts == 2
    assert CALLS == [f"{job.id}:1", f"{job.id}:2"]


def test_reconciler_reenqueues_queued_jobs_lost_with_redis_but_leaves_waiting_ones(django_capture_on_commit_callbacks):
    lost = _start(django_capture_on_commit_callbacks)
    waiting = _start(django_capture_on_commit_callbacks)
    old = timezone.now() - timedelta(minutes=5)
    Job.objects.filter(pk__in=[lost.pk, waiting.pk]).update(created_at=old)
    lost.refresh_from_db()
    # Redis zgubił jedno zadanie (np. FLUSHALL): nie ma go ani w kolejce, ani w ogóle.
    django_rq.get_queue("default").remove(lost.rq_id)
    RQJob.fetch(lost.rq_id, connection=django_rq.get_connection("default")).delete()
    with django_capture_on_commit_callbacks(execute=True):
        revived = jobs.reconcile()
    assert [j.id for j in revived] == [lost.id]
    _work()
    assert Job.objects.filter(status="succeeded").count() == 2


def test_a_job_abandoned_too_many_times_is_marked_failed(settings, django_capture_on_commit_callbacks):
    job = _start(django_capture_on_commit_callbacks)
    Job.objects.filter(pk=job.pk).update(
        status="running", attempts=settings.SIGHT_JOB_MAX_ATTEMPTS, heartbeat_at=timezone.now() - timedelta(hours=1)
    )
    assert jobs.reconcile() == []
    job.refresh_from_db()
    assert job.status == "failed" and "abandoned" in job.error


def test_job_api_reports_progress_and_cancels_and_hides_other_users_jobs(django_capture_on_commit_callbacks):
    user, token = create_token()
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start_job(kind="test.steps", user=user, total=3)
    client = api_client(token)
    body = client.get(f"/api/v1/jobs/{job.id}").json()
    assert (body["status"], body["done"], body["total"]) == ("queued", 0, 3)
    assert client.post(f"/api/v1/jobs/{job.id}/cancel").json()["status"] == "cancelled"
    _, other_token = create_token()
    assert api_client(other_token).get(f"/api/v1/jobs/{job.id}").status_code == 404
    assert api_client(other_token).post(f"/api/v1/jobs/{job.id}/cancel").status_code == 404
