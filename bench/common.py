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
    from sight.worker import prepare_parent

    prepare_parent()  # proces benchmarku jak proces zadania: rodzic workera przygotował go przed rozwidleniem
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


class RemoteLLMServer:
    """`bench.llm_server` w osobnym procesie (jego CPU nie konkuruje z mierzonym zadaniem o GIL); liczniki po HTTP."""

    def __init__(self, latency_ms: int) -> None:
        self.latency_ms = latency_ms

    def __enter__(self) -> RemoteLLMServer:
        import re
        import subprocess

        command = [sys.executable, "-m", "bench.llm_server", "--port", "0", "--latency-ms", str(self.latency_ms)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline() if self.process.stdout else ""
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        if match is None:
            self.process.kill()
            raise RuntimeError(f"llm_server did not start: {line!r}")
        self.url = match.group(0)
        return self

    def _get(self, path: str) -> dict[str, int]:
        from urllib.request import urlopen

        with urlopen(f"{self.url}{path}", timeout=5) as response:  # noqa: S310 - własny serwer na pętli zwrotnej
            return json.load(response)

    def reset(self) -> None:
        """Zeruje liczniki serwera."""
        self._get("/reset")

    def stats(self) -> dict[str, int]:
        """Żądania od resetu i najwięcej żądań naraz."""
        return self._get("/stats")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@contextmanager
def http_provider(latency_ms: int) -> Iterator[RemoteLLMServer]:
    """Dostawca `openai` przez HTTP na lokalnym serwerze (`bench.llm_server`) o stałym opóźnieniu; bez cache LLM."""
    from django.test import override_settings

    import config

    features = config.load_features
    config.load_features = lambda: features().model_copy(update={"llm_cache": False})  # type: ignore[method-assign]
    try:
        with (
            RemoteLLMServer(latency_ms) as server,
            override_settings(
                SIGHT_LLM_PROVIDER="openai",
                SIGHT_LLM_BASE_URL=f"{server.url}/v1",
                SIGHT_LLM_MODEL="local-model",
                SIGHT_LLM_API_KEY="bench",
            ),
        ):
            from sight.worker import prepare_parent

            prepare_parent()  # jak worker przed rozwidleniem zadania
            yield server
    finally:
        config.load_features = features  # type: ignore[method-assign]
