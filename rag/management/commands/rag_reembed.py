"""Przelicza wektory fragmentów bazy wiedzy po zmianie modelu (albo wymiaru) roli embeddingów."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rag import ingest
from rag.models import Chunk
from sight.models import Project


class Command(BaseCommand):
    """`manage.py rag_reembed [--project ID]`."""

    help = "Re-embed knowledge-base chunks stored with another embedding model than the current one."

    def add_arguments(self, parser: CommandParser) -> None:
        """Opcjonalny identyfikator projektu."""
        parser.add_argument("--project", metavar="ID", help="UUID of one project (default: every project)")

    def handle(self, *args: Any, **options: Any) -> None:
        """Przelicza projekty z nieaktualnymi wektorami i drukuje liczby fragmentów."""
        model = ingest.current_embedding_model()
        projects = Project.objects.filter(
            pk__in=Chunk.objects.exclude(embedding_model=model).values("project_id")
        ).order_by("created_at")
        if options["project"]:
            try:
                projects = projects.filter(pk=uuid.UUID(options["project"]))
            except ValueError as exc:
                raise CommandError(f"--project must be a project UUID, not {options['project']!r}") from exc
        total = 0
        for project in projects:
            count = ingest.reembed_project(project)
            total += count
            self.stdout.write(f"{project.pk}: re-embedded {count} chunks")
        self.stdout.write(f"model={model} re-embedded={total}")
