"""Benchmark: API listy person nad 10 000 personami — p95 czasu odpowiedzi (cel ≤ 50 ms) i stała liczba zapytań."""

from __future__ import annotations

import random
import time

from bench.common import django_world, emit, summary_ms

N, REQUESTS, TARGET_P95_MS = 10_000, 200, 50


def main() -> None:
    """10 000 person w bazie, 200 żądań z różnymi stronami i filtrami przez pełny stos Django (klient testowy)."""
    with django_world():
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        from personas.models import Persona
        from sight.models import ApiToken, Project, User

        user = User.objects.create_user("bench@example.com", "x")
        project = Project.objects.create(
            owner=user, name="bench", target_demographics={"gender": {"female": 0.5, "male": 0.5}}
        )
        rng = random.Random(1)
        Persona.objects.bulk_create(
            [
                Persona(
                    project=project,
                    index=i,
                    full_name=f"Persona {i}",
                    gender=rng.choice(["female", "male"]),
                    age=rng.randint(18, 80),
                    location=rng.choice(["city", "village"]),
                    occupation=rng.choice(["nurse", "driver", "teacher"]),
                    background_story="x " * 200,
                    values=["a", "b"],
                    interests=["c"],
                    concerns=["d"],
                    demographics={"gender": "female"},
                )
                for i in range(N)
            ],
            batch_size=2000,
        )
        with connection.cursor() as cursor:  # statystyki i mapa widoczności jak po autovacuum na żywej bazie
            cursor.execute("VACUUM ANALYZE personas_persona")
        _, raw = ApiToken.issue(user=user, name="bench")
        client = Client(headers={"authorization": f"Bearer {raw}"})
        urls = [
            f"/api/v1/projects/{project.id}/personas?page={rng.randint(1, N // 25)}"
            + rng.choice(["", "&gender=female", "&age_min=30&age_max=50", "&q=Persona 1", "&occupation=nurse"])
            for _ in range(REQUESTS)
        ]
        client.get(urls[0])  # rozgrzewka
        timings = []
        for url in urls:
            started = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200
        counts = []
        for url in (urls[0], f"/api/v1/projects/{project.id}/personas?page={N // 60}&gender=female"):
            with CaptureQueriesContext(connection) as queries:
                client.get(url)
            counts.append(len(queries))
        stats = summary_ms(timings)
        emit(
            {
                "benchmark": "persona_list_api",
                "personas": N,
                "requests": REQUESTS,
                **stats,
                "queries_per_request": counts,  # pierwsza strona i ostatnia z filtrem: ta sama liczba
                "target_p95_ms": TARGET_P95_MS,
                "ok": stats["p95_ms"] <= TARGET_P95_MS and len(set(counts)) == 1,
            }
        )


if __name__ == "__main__":
    main()
