"""Benchmark: 50 person przy współbieżności 10 vs ścieżka krytyczna — offline (stałe 200 ms na wywołanie) i przez HTTP
(dostawca `openai` na lokalnym serwerze odpowiadającym po 200 ms).
"""

from __future__ import annotations

import math
import time
from typing import Any

from bench.common import django_world, emit, flush_redis, http_provider

LATENCY_MS, N = 200, 50


def measure(path: str, server: Any = None) -> dict[str, Any]:
    """Czas zadania generowania (w procesie, bez kolejki) wobec segmentów i ⌈N/współbieżność⌉ fal."""
    from django.db.models import Sum

    import config
    from personas import generation
    from personas.models import Persona
    from sight import jobs
    from sight.demo import seed_demo
    from sight.models import Job, LLMCall

    flush_redis()
    user, project = seed_demo()
    concurrency = config.load_models().role("persona_generation").concurrency
    run = generation.start_generation(
        project, user=user, num_personas=N, seed=int(time.time()), segments=True, use_rag=False
    )
    if server is not None:
        server.reset()
    started, cpu = time.perf_counter(), time.process_time()
    jobs.execute(str(run.job_id))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    job = Job.objects.get(pk=run.job_id)
    # Żądania naprawdę wysłane (z ponownymi pytaniami, gdy odpowiedź nie przeszła walidacji Sight): każda runda
    # ponownych pytań to jeszcze jeden krok po kolei na ścieżce krytycznej.
    requests = LLMCall.objects.filter(job=job).aggregate(n=Sum("attempts"))["n"] or 0
    reasks = max(0, requests - (N + 1))
    ideal = LATENCY_MS / 1000 * (1 + math.ceil(N / concurrency) + (1 if reasks else 0))
    result = {
        "benchmark": "personas_generation",
        "path": path,
        "personas": Persona.objects.filter(run=run).count(),
        "job_status": job.status,
        "concurrency": concurrency,
        "latency_ms": LATENCY_MS,
        "llm_requests": requests,
        "reasks": reasks,
        "elapsed_s": round(elapsed, 3),
        "worker_cpu_s": round(cpu, 3),  # CPU procesu zadania (wszystkie wątki): na bezczynnej maszynie ≈ narzut
        "critical_path_s": round(ideal, 3),
        "ratio": round(elapsed / ideal, 3),
        "target_ratio": 1.3,
        "ok": elapsed / ideal <= 1.3 and job.status == Job.Status.SUCCEEDED,
    }
    if server is not None:
        result |= server.stats()
    return result


def main() -> None:
    """Offline, potem ścieżka HTTP; po jednej linii JSON."""
    with django_world(SIGHT_LLM_PROVIDER="offline", SIGHT_OFFLINE_LATENCY_MS=str(LATENCY_MS)):
        emit(measure("offline"))
        with http_provider(LATENCY_MS) as server:
            emit(measure("http", server))


if __name__ == "__main__":
    main()
