"""Wspólne przygotowanie benchmarków: Django na świeżej bazie (usługi z `python -m sight.devstack bench`), wynik jako
JSON.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def django_world(**env: str) -> Iterator[None]:
    """Konfiguruje Django i tworzy tymczasową bazę (usuwaną na końcu)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sight.settings")
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def percentile(values: list[float], p: float) -> float:
    """Percentyl p (0–100) z interpolacją."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary_ms(values: list[float]) -> dict[str, float]:
    """p50/p95/max w milisekundach z sekund."""
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 2),
        "p95_ms": round(percentile(values, 95) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2),
    }


def emit(result: dict[str, Any]) -> None:
    """Drukuje wynik jako jedną linię JSON."""
    json.dump(result, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    sys.stdout.flush()


def flush_redis() -> None:
    """Czyści bazy Redisa kolejek, kanałów i cache (nie grafy)."""
    from django.conf import settings
    from redis import Redis

    for url in (settings.RQ_REDIS_URL, settings.CHANNELS_REDIS_URL, settings.CACHE_REDIS_URL):
        Redis.from_url(url).flushdb()
