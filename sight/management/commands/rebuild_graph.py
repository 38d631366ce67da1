"""Odbudowuje graf pojęć z PostgreSQL (cały albo jeden projekt) i wypisuje liczności."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sight import graph


class Command(BaseCommand):
    """`manage.py rebuild_graph [--project ID]`."""

    help = "Rebuild the concept graph (Neo4j/FalkorDB) from PostgreSQL, idempotently."

    def add_arguments(self, parser: CommandParser) -> None:
        """Opcjonalny identyfikator projektu."""
        parser.add_argument(
            "--project",
            metavar="ID",
            help="UUID of one project (default: all projects; graph projects missing from PostgreSQL are removed)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        """Woła graph.rebuild_from_database i drukuje sumy."""
        try:
            project_id = uuid.UUID(options["project"]) if options["project"] else None
        except ValueError as exc:
            raise CommandError(f"--project must be a project UUID, not {options['project']!r}") from exc
        try:
            totals = graph.rebuild_from_database(project_id)
        except graph.GraphUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(" ".join(f"{name}={value}" for name, value in totals.items()))
