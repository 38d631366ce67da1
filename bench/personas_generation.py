"""Benchmark: 50 person z dostawcą offline (stałe 200 ms na wywołanie) przy współbieżności 10 vs ścieżka krytyczna."""

from __future__ import annotations

import math
import time

from bench.common import django_world, emit, flush_redis

LATENCY_MS, N = 200, 50


def main() -> None:
    """Mierzy czas zadania generowania (w procesie, bez kolejki) i porównuje z ideałem."""
    with django_world(SIGHT_LLM_PROVIDER="offline", SIGHT_OFFLINE_LATENCY_MS=str(LATENCY_MS)):
        import config
        from personas import generation
        from personas.models import Persona
        from sight import jobs
        from sight.demo import seed_demo
        from sight.models import Job

        flush_redis()
        user, project = seed_demo()
        concurrency = config.load_models().role("persona_generation").concurrency
        run = generation.start_generation(
            project, user=user, num_personas=N, seed=int(time.time()), segments=True, use_rag=False
        )
        started = time.perf_counter()
        jobs.execute(str(run.job_id))
        elapsed = time.perf_counter() - started
        job = Job.objects.get(pk=run.job_id)
        ideal = LATENCY_MS / 1000 * (1 + math.ceil(N / concurrency))
        emit(
            {
                "benchmark": "personas_generation",
                "personas": Persona.objects.filter(run=run).count(),
                "job_status": job.status,
                "concurrency": concurrency,
                "latency_ms": LATENCY_MS,
                "elapsed_s": round(elapsed, 3),
                "ideal_s": round(ideal, 3),
                "ratio": round(elapsed / ideal, 3),
                "target_ratio": 1.3,
                "ok": elapsed / ideal <= 1.3,
            }
        )


if __name__ == "__main__":
    main()
