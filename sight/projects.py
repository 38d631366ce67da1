"""Projekt jako węzeł: sekcje strony projektu rejestrowane przez aplikacje oraz usuwanie projektu (PostgreSQL i graf).

Rdzeń nie zna aplikacji: każda rejestruje swoją sekcję w `<app>/sections.py` (wczytywanym w `SightConfig.ready`)
dekoratorem `@project_section(nazwa, order=…, template=…)` na funkcji kontekstu.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from sight import graph
from sight.models import Project

log = logging.getLogger(__name__)

SectionContext = Callable[[HttpRequest, Project], dict[str, Any]]


@dataclass(frozen=True)
class ProjectSection:
    """Sekcja strony projektu: fragment szablonu, funkcja jego kontekstu, miejsce na stronie i skrypty strony."""

    name: str
    order: int
    template: str
    context: SectionContext
    scripts: tuple[str, ...] = ()


SECTIONS: dict[str, ProjectSection] = {}


def project_section(
    name: str, *, order: int, template: str, scripts: tuple[str, ...] = ()
) -> Callable[[SectionContext], SectionContext]:
    """Rejestruje sekcję strony projektu: `template` to fragment (`plik.html#fragment`), `order` — miejsce na stronie,
    `scripts` — pliki statyczne JS, których sekcja potrzebuje.
    """

    def register(func: SectionContext) -> SectionContext:
        SECTIONS[name] = ProjectSection(name=name, order=order, template=template, context=func, scripts=scripts)
        return func

    return register


def sections() -> list[ProjectSection]:
    """Zarejestrowane sekcje w kolejności na stronie."""
    return sorted(SECTIONS.values(), key=lambda section: (section.order, section.name))


def sections_context(request: HttpRequest, project: Project) -> dict[str, Any]:
    """Konteksty wszystkich sekcji scalone w jeden, z listą fragmentów i skryptów do dołączenia w kolejności."""
    ordered = sections()
    context: dict[str, Any] = {
        "project_sections": [section.template for section in ordered],
        "project_scripts": list(dict.fromkeys(script for section in ordered for script in section.scripts)),
    }
    for section in ordered:
        context |= section.context(request, project)
    return context


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
