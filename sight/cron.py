"""Harmonogram `manage.py rqcron sight.cron`: rekoncyliacja zadań co 15 sekund."""

from rq import cron

from sight.tasks import reconcile_job

cron.register(reconcile_job, queue_name="default", interval=15, name="reconcile-jobs")
