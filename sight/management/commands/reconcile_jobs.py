"""`manage.py reconcile_jobs`: jednorazowa rekoncyliacja zadań bez heartbeatu (to samo robi rqcron co 15 s)."""

from typing import Any

from django.core.management.base import BaseCommand

from sight import jobs


class Command(BaseCommand):
    help = "Re-enqueue jobs whose worker stopped sending heartbeats."

    def handle(self, *args: Any, **options: Any) -> None:
        revived = jobs.reconcile()
        self.stdout.write(f"re-enqueued {len(revived)} job(s)")
