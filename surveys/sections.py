"""Sekcja „Ankiety” strony projektu: ostatnie ankiety i liczba wszystkich (najwyżej dwa zapytania, bez N+1)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from sight.models import Project
from sight.projects import project_section
from surveys.models import Survey

RECENT = 5


@project_section("surveys", order=30, template="surveys/_section.html#surveys_section")
def surveys_section(request: HttpRequest, project: Project) -> dict[str, Any]:
    """Ostatnie ankiety projektu (od najnowszych) i liczba wszystkich."""
    surveys = Survey.objects.filter(project=project).order_by("-created_at")
    recent = list(surveys[:RECENT])
    # Mniej niż RECENT to już wszystkie: liczenie osobnym zapytaniem tylko wtedy, gdy może być ich więcej.
    return {"recent_surveys": recent, "survey_count": len(recent) if len(recent) < RECENT else surveys.count()}
