"""Stan usług: baza, Redis, graf i dostawca LLM (stopka UI i `GET /api/v1/health`)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.db import connection
from redis import Redis

_cache: dict[str, Any] = {"at": 0.0, "value": None}


def check_database() -> dict[str, Any]:
    """Zapytanie SELECT 1 do PostgreSQL."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001 - stan usługi, nie błąd żądania
        return {"ok": False, "error": type(exc).__name__}


def check_redis() -> dict[str, Any]:
    """PING do Redisa kolejek i kanałów."""
    try:
        Redis.from_url(settings.RQ_REDIS_URL, socket_timeout=1, socket_connect_timeout=1).ping()
        return {"ok": True}
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "error": type(exc).__name__}


def check_graph() -> dict[str, Any]:
    """Zapytanie kontrolne do grafu (FalkorDB albo Neo4j)."""
    from sight import graph

    return {"backend": settings.GRAPH_BACKEND, **graph.health()}


def check_llm() -> dict[str, Any]:
    """Dostawca LLM z konfiguracji (bez wywołania sieci); offline to tryb demonstracyjny."""
    provider = settings.SIGHT_LLM_PROVIDER
    return {"ok": True, "provider": provider, "offline": provider == "offline"}


def status(*, max_age: float = 5.0) -> dict[str, Any]:
    """Stan wszystkich usług; wynik jest krótko pamiętany, by stopka nie obciążała usług."""
    now = time.monotonic()
    if _cache["value"] is None or now - _cache["at"] > max_age:
        _cache["value"] = {
            "database": check_database(),
            "redis": check_redis(),
            "graph": check_graph(),
            "llm": check_llm(),
        }
        _cache["at"] = now
    return _cache["value"]
