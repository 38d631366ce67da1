"""Sekcja „Baza wiedzy” strony projektu: liczba dokumentów według stanu i odnośnik do dokumentów."""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.http import HttpRequest

from rag.models import Document
from sight.models import Project
from sight.projects import project_section


@project_section("knowledge", order=40, template="rag/_section.html#knowledge_section")
def knowledge_section(request: HttpRequest, project: Project) -> dict[str, Any]:
    """Karta bazy wiedzy na stronie projektu."""
    counts = dict(
        Document.objects.filter(project=project)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {
        "project": project,
        "document_count": sum(counts.values()),
        "document_status": [(label, counts[value]) for value, label in Document.Status.choices if counts.get(value)],
    }
