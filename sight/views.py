"""Widoki HTML rdzenia: projekty, konto, tokeny API, stan usług."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site_context(request: HttpRequest) -> dict[str, Any]:
    """Kontekst każdej strony: czy działa tryb offline (baner „offline demo”)."""
    return {"llm_offline": settings.SIGHT_LLM_PROVIDER == "offline", "llm_provider": settings.SIGHT_LLM_PROVIDER}
