"""Persony w grafie pojęć: przy odbudowie projektu z PostgreSQL każda nieusunięta persona staje się węzłem Persona."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from personas.models import Persona
from sight import graph
from sight.models import Project


def persona_rows(project: Project) -> Iterator[dict[str, Any]]:
    """Wiersze `graph.upsert_personas` z nieusuniętych person projektu (strumieniem, bez ładowania wszystkich)."""
    personas = Persona.objects.filter(project=project).active().order_by("id")
    for row in personas.values("id", "full_name", "segment__name", "demographics").iterator():
        yield {
            "id": row["id"],
            "name": row["full_name"],
            "segment": row["segment__name"] or "",
            "demographics": row["demographics"],
        }


@graph.rebuild_step
def write_personas(project: Project) -> None:
    """Krok odbudowy grafu: persony projektu."""
    graph.upsert_personas(project.id, persona_rows(project))
