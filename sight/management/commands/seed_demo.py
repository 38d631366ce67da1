"""`manage.py seed_demo`: konto demo i projekt demo (idempotentnie)."""

from typing import Any

from django.core.management.base import BaseCommand

from sight.demo import DEMO_EMAIL, DEMO_PASSWORD, seed_demo


class Command(BaseCommand):
    help = "Create (or keep) the demo account and the demo project."

    def handle(self, *args: Any, **options: Any) -> None:
        user, project = seed_demo()
        self.stdout.write(f"demo account {DEMO_EMAIL} / {DEMO_PASSWORD}; project {project.name!r} ({project.id})")
