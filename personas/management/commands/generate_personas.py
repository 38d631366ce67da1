"""`manage.py generate_personas PROJECT_ID N`: generuje panel person w tym procesie (z --enqueue tylko wstawia
zadanie).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from channels.layers import get_channel_layer
from django.core.management.base import BaseCommand, CommandError, CommandParser

from personas.generation import start_generation
from sight import jobs, live
from sight.errors import DomainError, in_english
from sight.models import Job, Project


class ProgressPrinter(threading.Thread):
    """Wypisuje zdarzenia zadania z warstwy kanałów (te same, które dostaje przeglądarka): postęp i nowe persony."""

    def __init__(self, job_id: uuid.UUID, write: Callable[[str], Any]) -> None:
        super().__init__(daemon=True, name=f"progress-{job_id}")
        self.group, self.write = live.job_group(job_id), write
        self.ready, self.stopped = threading.Event(), threading.Event()
        self.last: tuple[Any, ...] = ()

    def run(self) -> None:
        """Pętla zdarzeń wątku; błąd warstwy kanałów kończy tylko wypisywanie postępu."""
        try:
            asyncio.run(self.listen())
        except Exception as exc:  # noqa: BLE001 - bez Redisa nie ma postępu na żywo, ale generowanie trwa dalej
            self.write(f"(no live progress: {exc})")
        finally:
            self.ready.set()

    async def listen(self) -> None:
        """Słucha grupy zadania, aż polecenie skończy i zdarzenia przestaną napływać."""
        layer = get_channel_layer()
        if layer is None:
            return
        channel = await layer.new_channel()
        await layer.group_add(self.group, channel)
        self.ready.set()
        # Jedno oczekiwanie na raz, nieprzerywane co chwilę: anulowane `receive` potrafi zgubić już odebrane zdarzenie.
        pending: asyncio.Future[Any] | None = None
        try:
            while True:
                pending = pending or asyncio.ensure_future(layer.receive(channel))
                done, _ = await asyncio.wait({pending}, timeout=0.3)
                if not done:
                    if self.stopped.is_set():
                        return
                    continue
                event, pending = pending.result(), None
                self.show(event.get("payload", {}))
        finally:
            if pending is not None:
                pending.cancel()
            await layer.group_discard(self.group, channel)

    def show(self, payload: dict[str, Any]) -> None:
        """Jedna linia na nową personę albo zmianę postępu."""
        if payload.get("type") == "persona":
            card = payload["persona"]
            self.write(
                f"  + {card['full_name']} "
                f"({', '.join(str(v) for v in (card['age'], card['gender'], card['location'], card['segment']) if v)})"
            )
        elif payload.get("type") == "job":
            job = payload["job"]
            state = (job["status"], job["done"], job["total"], job["message"])
            if state != self.last:
                self.last = state
                self.write(
                    f"[{job['done']}/{job['total']}] {job['status']}"
                    + (f": {job['message']}" if job["message"] else "")
                )


class Command(BaseCommand):
    """Generowanie panelu person z wiersza poleceń."""

    help = (
        "Generate N personas for a project. By default the generation runs inline in this process; "
        "with --enqueue the job is only queued for a worker."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        """Projekt, liczba person i opcje przebiegu."""
        parser.add_argument("project_id", help="project UUID")
        parser.add_argument("num_personas", type=int, help="number of personas (1 to personas.max_per_run)")
        parser.add_argument("--seed", type=int, help="sampling seed (default: personas.default_seed)")
        parser.add_argument("--no-segments", action="store_true", help="do not group personas into segments")
        parser.add_argument("--no-rag", action="store_true", help="do not use the project's knowledge base")
        parser.add_argument("--trait-preset", default="", help="personality preset from features.yaml")
        parser.add_argument("--enqueue", action="store_true", help="only enqueue the job and print its id")

    def handle(self, *args: Any, **options: Any) -> None:
        """Planuje przebieg, a potem wykonuje zadanie tutaj (albo tylko je zgłasza) i drukuje wynik."""
        project = self.find_project(options["project_id"])
        try:
            run = start_generation(
                project,
                user=project.owner,
                num_personas=options["num_personas"],
                seed=options["seed"],
                segments=not options["no_segments"],
                use_rag=not options["no_rag"],
                trait_preset=options["trait_preset"],
            )
        except DomainError as exc:
            raise CommandError(in_english(exc)) from exc
        if options["enqueue"]:
            self.stdout.write(f"enqueued job {run.job_id} (run {run.id})")
            return
        self.stdout.write(
            f"generating {run.num_requested} personas for {project.name!r} (run {run.id}, job {run.job_id})"
        )
        job = self.execute_inline(run.job_id)
        run.refresh_from_db()
        if job.status != Job.Status.SUCCEEDED:
            raise CommandError(f"job {job.id} {job.status}: {job.error.splitlines()[0] if job.error else job.message}")
        self.stdout.write(
            f"created {job.result.get('created')} of {run.num_requested}, failed {len(run.failed)}; "
            f"validation: {run.validation.get('overall', 'n/a')}"
        )

    def find_project(self, value: str) -> Project:
        """Projekt po UUID; zły format albo brak projektu to CommandError."""
        try:
            project_id = uuid.UUID(value)
        except ValueError as exc:
            raise CommandError(f"PROJECT_ID must be a project UUID, not {value!r}") from exc
        project = Project.objects.select_related("owner").filter(pk=project_id).first()
        if project is None:
            raise CommandError(f"no project with id {project_id}")
        return project

    def execute_inline(self, job_id: uuid.UUID) -> Job:
        """Wykonuje zadanie w tym procesie; kopia z kolejki zastanie je zakończone (albo, gdy worker był szybszy,
        czekamy na niego).
        """
        printer = ProgressPrinter(job_id, self.stdout.write)
        printer.start()
        printer.ready.wait(5)
        try:
            jobs.execute(str(job_id))
            job = Job.objects.get(pk=job_id)
            if not job.is_final:
                self.stdout.write("a worker picked the job up first; waiting for it to finish")
            while not job.is_final:
                time.sleep(1)
                job.refresh_from_db()
        finally:
            printer.stopped.set()
            printer.join(10)
        return job
