"""`manage.py generate_personas PROJECT_ID N`: generuje panel person w tym procesie i drukuje postęp z wiersza Job
(z --enqueue tylko wstawia zadanie).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from personas.generation import start_generation
from personas.models import Persona, PersonaRun
from sight import jobs
from sight.errors import DomainError, in_english
from sight.models import Job, Project


class Progress:
    """Postęp zadania (z wiersza Job) i imiona nowych person przebiegu; drukuje tylko to, co się zmieniło."""

    def __init__(self, run: PersonaRun, write: Callable[[str], Any]) -> None:
        self.run, self.write = run, write
        self.last: tuple[Any, ...] | None = None
        self.named: set[uuid.UUID] = set()

    def follow(self, stop: threading.Event) -> None:
        """Wątek obok zadania: `show` co pół sekundy, na koniec zamyka własne połączenie z bazą."""
        try:
            while not stop.wait(0.5):
                self.show()
        finally:
            connection.close()

    def show(self) -> None:
        """Linia `[zrobione/wszystkie] stan`, gdy się zmieniła, i po jednej linii na każdą nową personę."""
        fields = ("status", "progress_done", "progress_total", "message")
        state = Job.objects.filter(pk=self.run.job_id).values_list(*fields).first()
        if state is not None and state != self.last:
            self.last = status, done, total, message = state
            self.write(f"[{done}/{total}] {status}" + (f": {message}" if message else ""))
        new = Persona.objects.filter(run=self.run).exclude(pk__in=self.named).order_by("index")
        for pk, name in new.values_list("pk", "full_name"):
            self.named.add(pk)
            self.write(f"  + {name}")


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
        parser.add_argument("--seed", type=int, help="sampling seed (default: drawn at random, kept on the run)")
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
            self.stdout.write(f"enqueued job {run.job_id} (run {run.id}, seed {run.seed})")
            return
        self.stdout.write(
            f"generating {run.num_requested} personas for {project.name!r} "
            f"(run {run.id}, job {run.job_id}, seed {run.seed})"
        )
        job = self.execute_inline(run)
        if job.status != Job.Status.SUCCEEDED:
            raise CommandError(f"job {job.id} {job.status}: {job.error.splitlines()[0] if job.error else job.message}")
        if validation_job := job.result.get("validation_job_id"):
            jobs.execute(validation_job)  # raport trafności tutaj (worker, który był szybszy, już go liczy)
        run.refresh_from_db()
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

    def execute_inline(self, run: PersonaRun) -> Job:
        """Wykonuje zadanie w tym procesie, a wątek obok drukuje postęp; gdy worker był szybszy, czekamy na niego."""
        progress, stop = Progress(run, self.stdout.write), threading.Event()
        watcher = threading.Thread(target=progress.follow, args=(stop,), daemon=True, name=f"progress-{run.job_id}")
        watcher.start()
        try:
            jobs.execute(str(run.job_id))
            job = Job.objects.get(pk=run.job_id)
            if not job.is_final:
                self.stdout.write("a worker picked the job up first; waiting for it to finish")
            while not job.is_final:
                time.sleep(0.5)
                job.refresh_from_db()
        finally:
            stop.set()
            watcher.join(10)
        # Ostatni stan z połączenia tego wątku (drugi wątek nie widzi niezatwierdzonej transakcji, np. w testach).
        progress.show()
        return job
