"""Sekcja „Grupy fokusowe” strony projektu: ostatnie grupy i liczba wszystkich (najwyżej dwa zapytania, bez N+1)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from focus_groups.models import FocusGroup
from sight.models import Project
from sight.projects import project_section

RECENT = 5


@project_section("focus_groups", order=20, template="focus_groups/_section.html#focus_groups_section")
def focus_groups_section(request: HttpRequest, project: Project) -> dict[str, Any]:
    """Ostatnie grupy projektu (od najnowszych) i liczba wszystkich."""
    groups = FocusGroup.objects.filter(project=project).order_by("-created_at")
    recent = list(groups[:RECENT])
    # Mniej niż RECENT to już wszystkie: liczenie osobnym zapytaniem tylko wtedy, gdy może być ich więcej.
    return {"recent_focus_groups": recent, "focus_group_count": len(recent) if len(recent) < RECENT else groups.count()}
