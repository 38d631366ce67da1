"""Operacje na projektach, które wychodzą poza jeden wiersz (PostgreSQL i pochodny graf)."""

from __future__ import annotations

import logging

from django.db import transaction

from sight import graph
from sight.models import Project

log = logging.getLogger(__name__)


def delete_project(project: Project) -> None:
    """Usuwa projekt z danymi; po zatwierdzeniu usuwa go z grafu (graf niedostępny — naprawi `rebuild_graph`)."""
    project_id = project.pk
    with transaction.atomic():
        project.delete()
        transaction.on_commit(lambda: _forget_in_graph(project_id))


def _forget_in_graph(project_id: object) -> None:
    try:
        graph.delete_project(project_id)
    except graph.GraphUnavailable:
        log.warning("graph unavailable: project %s stays in the graph until `manage.py rebuild_graph`", project_id)
