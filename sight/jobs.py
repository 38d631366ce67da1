"""Zadania w tle: start po commicie, wykonanie w workerze RQ z heartbeatem, postęp, anulowanie i rekoncyliacja.

Każda długa operacja to wiersz `Job` w PostgreSQL i funkcja obsługi zarejestrowana przez
`@job_handler("rodzaj", label=…)` w `<app>/tasks.py`. Funkcja obsługi musi być idempotentna: po ponownym uruchomieniu
kontynuuje, nie powtarza.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

import django_rq
from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_noop
from rq.job import Job as RQJob

from sight import live
from sight.models import Job, Project, User

log = logging.getLogger(__name__)

Handler = Callable[[Job], dict[str, Any] | None]
HANDLERS: dict[str, Handler] = {}
LABELS: dict[str, str | Promise] = {}


class JobCancelled(Exception):
    """Badacz anulował zadanie; obsługa przerywa pracę przy najbliższym raporcie postępu."""


def job_handler(kind: str, *, label: str | Promise | None = None) -> Callable[[Handler], Handler]:
    """Rejestruje funkcję obsługi rodzaju zadania i jego nazwę dla ludzi (leniwy gettext, tłumaczony przy
    wyświetleniu).
    """

    def register(func: Handler) -> Handler:
        HANDLERS[kind] = func
        if label is not None:
            LABELS[kind] = label
        return func

    return register


def job_label(kind: str) -> str:
    """Nazwa rodzaju zadania w bieżącym języku; rodzaj bez nazwy — sam identyfikator."""
    return str(LABELS.get(kind, kind))


def start_job(
    *,
    kind: str,
    user: User | None = None,
    project: Project | None = None,
    params: dict[str, Any] | None = None,
    queue: str = "default",
    total: int = 0,
) -> Job:
    """Tworzy zadanie i wstawia je do kolejki RQ po zatwierdzeniu transakcji."""
    if kind not in HANDLERS:
        raise KeyError(f"unknown job kind {kind!r}")
    job = Job(kind=kind, queue=queue, user=user, project=project, params=params or {}, progress_total=total)
    job.rq_id = _rq_id(job)
    job.save(force_insert=True)
    transaction.on_commit(lambda: enqueue(job, rq_id=job.rq_id))
    return job


def _rq_id(job: Job) -> str:
    return f"{job.id}-{uuid.uuid4().hex[:8]}"


def enqueue(job: Job, *, rq_id: str | None = None) -> None:
    """Wstawia zadanie do kolejki RQ pod nowym identyfikatorem RQ (ponowienie nie koliduje ze starym); `rq_id`:
    identyfikator zapisany już w wierszu (nowe zadanie)."""
    if rq_id is None:
        rq_id = _rq_id(job)
        Job.objects.filter(pk=job.pk).update(rq_id=rq_id)
    django_rq.get_queue(job.queue).enqueue(
        "sight.tasks.process_job", str(job.id), job_id=rq_id, result_ttl=3600, failure_ttl=7 * 86400
    )


def _publish(job: Job) -> None:
    live.publish(live.job_group(job.id), {"type": "job", "job": job.as_dict()})


def _claim(job_id: str) -> Job | None:
    """Przejmuje zadanie: tylko z kolejki albo gdy poprzedni wykonawca przestał dawać znak życia."""
    now = timezone.now()
    stale = now - timezone.timedelta(seconds=settings.SIGHT_JOB_STALE_SECONDS)
    claimable = Q(status=Job.Status.QUEUED) | Q(status=Job.Status.RUNNING, heartbeat_at__lt=stale)
    updated = Job.objects.filter(claimable, pk=job_id, cancel_requested=False).update(
        status=Job.Status.RUNNING,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        error="",
        started_at=Coalesce(F("started_at"), Value(now)),
    )
    if not updated:
        return None
    return Job.objects.select_related("project", "user").get(pk=job_id)


class _Heartbeat(threading.Thread):
    """Wątek odświeżający heartbeat, dopóki proces workera żyje (SIGKILL go zatrzymuje)."""

    def __init__(self, job_id: uuid.UUID) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.job_id, self.stopped = job_id, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(settings.SIGHT_JOB_HEARTBEAT_SECONDS):
            try:
                Job.objects.filter(pk=self.job_id, status=Job.Status.RUNNING).update(heartbeat_at=timezone.now())
            except Exception:  # noqa: BLE001 - chwilowy brak bazy: następne uderzenie spróbuje znowu
                log.warning("heartbeat for job %s failed", self.job_id, exc_info=True)
            finally:
                close_old_connections()


def execute(job_id: str) -> None:
    """Wykonuje zadanie w workerze: przejęcie, obsługa, zapis wyniku albo błędu; bezpieczne do powtórzenia."""
    job = _claim(job_id)
    if job is None:
        cancel_if_requested(job_id)  # zadanie w kolejce, które badacz anulował, kończy się jako anulowane
        return
    _publish(job)
    beat = _Heartbeat(job.id)
    beat.start()
    try:
        result = HANDLERS[job.kind](job)
    except JobCancelled:
        _finish(job, Job.Status.CANCELLED, message=gettext_noop("cancelled"))
    except Exception as exc:  # noqa: BLE001 - każdy błąd trafia do wiersza zadania, nie znika w logu workera
        log.exception("job %s (%s) failed", job.id, job.kind)
        _finish(job, Job.Status.FAILED, error=f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"[:20000])
    else:
        _finish(job, Job.Status.SUCCEEDED, result=result)
    finally:
        beat.stopped.set()


def _finish(
    job: Job, status: str, *, result: dict[str, Any] | None = None, error: str = "", message: str | None = None
) -> None:
    # Postęp z obiektu w pamięci: obsługa dostaje ten sam obiekt, a `report_progress` zmienia go zawsze (także
    # raporty zdławione, które do bazy nie trafiły), więc jest co najmniej tak świeży jak wiersz.
    job.status, job.finished_at, job.error = status, timezone.now(), error
    if result is not None:
        job.result = {**job.result, **result}
    if message is not None:
        job.message, job.message_params = message, {}
    fields = [
        "status",
        "finished_at",
        "error",
        "result",
        "message",
        "message_params",
        "progress_done",
        "progress_total",
    ]
    job.save(update_fields=fields)
    _publish(job)


def report_progress(
    job: Job,
    *,
    done: int | None = None,
    total: int | None = None,
    message: str | None = None,
    params: dict[str, Any] | None = None,
    result: dict[str, Any] | None = None,
    throttle: float = 0.0,
) -> None:
    """Zapisuje postęp (i heartbeat), publikuje go na żywo; podnosi JobCancelled, gdy badacz anulował.

    `message` to angielski msgid oznaczony `gettext_noop` (z `params` do wstawienia) albo zwykły tekst, np. imię
    persony: tłumaczy go dopiero wyświetlenie (`Job.render_message`), więc strona i API mówią językiem widza, nie
    workera. `throttle` (sekundy): częstsze raporty bez wyniku tylko aktualizują obiekt w pamięci — ostatni krok
    zawsze trafia do bazy.
    """
    now = time.monotonic()
    last = getattr(job, "_reported_at", 0.0)
    final = done is not None and (total if total is not None else job.progress_total) == done
    if message is not None:
        job.message, job.message_params = str(message)[:500], params or {}
    if throttle and result is None and not final and now - last < throttle:
        job.progress_done = done if done is not None else job.progress_done
        return
    job._reported_at = now  # type: ignore[attr-defined]
    if done is not None:
        job.progress_done = done
    if total is not None:
        job.progress_total = total
    if result is not None:
        job.result = {**job.result, **result}
    job.heartbeat_at = timezone.now()
    # Zapis i sprawdzenie anulowania jednym UPDATE; gdy badacz anulował, postęp i tak zostaje zapisany (drugie UPDATE).
    values = {
        f: getattr(job, f)
        for f in ("progress_done", "progress_total", "message", "message_params", "result", "heartbeat_at")
    }
    if not Job.objects.filter(pk=job.pk, cancel_requested=False).update(**values):
        Job.objects.filter(pk=job.pk).update(**values)
        _publish(job)
        raise JobCancelled
    _publish(job)


def cancel_if_requested(job_id: str) -> None:
    """Zadanie w kolejce z żądaniem anulowania kończy się od razu jako anulowane."""
    updated = Job.objects.filter(pk=job_id, status=Job.Status.QUEUED, cancel_requested=True).update(
        status=Job.Status.CANCELLED, finished_at=timezone.now(), message=gettext_noop("cancelled"), message_params={}
    )
    if updated:
        _publish(Job.objects.get(pk=job_id))


def cancel(job: Job) -> Job:
    """Żąda anulowania; zadanie w kolejce kończy się od razu, trwające przy najbliższym raporcie postępu."""
    if not job.is_final:
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)
        cancel_if_requested(str(job.id))
    job.refresh_from_db()
    return job


def reconcile(*, now: Any = None) -> list[Job]:
    """Wstawia ponownie zadania bez znaku życia (zabity worker, wyczyszczony Redis); po limicie prób — błąd."""
    revived: list[Job] = []
    with transaction.atomic():
        for job in Job.objects.stale(now=now).select_for_update(skip_locked=True):
            if job.status == Job.Status.QUEUED and job.rq_id and _rq_job_waiting(job):
                continue
            if job.attempts >= settings.SIGHT_JOB_MAX_ATTEMPTS:
                job.status, job.finished_at = Job.Status.FAILED, timezone.now()
                job.error = f"abandoned after {job.attempts} attempts without a heartbeat"
                job.save(update_fields=["status", "finished_at", "error"])
                transaction.on_commit(lambda j=job: _publish(j))
                continue
            job.status, job.heartbeat_at = Job.Status.QUEUED, timezone.now()
            job.message, job.message_params = gettext_noop("Re-enqueued after the worker stopped responding"), {}
            job.save(update_fields=["status", "heartbeat_at", "message", "message_params"])
            transaction.on_commit(lambda j=job: enqueue(j))
            revived.append(job)
    if revived:
        log.warning("re-enqueued %d stale job(s): %s", len(revived), ", ".join(str(j.id) for j in revived))
    return revived


def _rq_job_waiting(job: Job) -> bool:
    """Czy RQ wciąż ma to zadanie w kolejce (wtedy czeka na wolnego workera, nie jest zgubione)."""
    try:
        rq_job = RQJob.fetch(job.rq_id, connection=django_rq.get_connection(job.queue))
    except Exception:  # noqa: BLE001 - brak zadania w Redisie = zgubione
        return False
    return rq_job.get_status(refresh=False) in {"queued", "scheduled", "deferred"}
