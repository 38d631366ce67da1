"""Kontekst z bazy wiedzy projektu (RAG) dla generowania person, dyskusji i ankiet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sight.models import Project


def persona_context(project: Project, profile: Mapping[str, Any]) -> str:
    """Fragmenty dokumentów projektu istotne dla profilu; pusty tekst, bo projekt nie ma jeszcze bazy wiedzy (moduł RAG
    nie istnieje).
    """
    return ""
