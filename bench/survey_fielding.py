"""Benchmark ankiet: badanie 100 person × 10 pytań (offline, 200 ms na wywołanie) wobec ścieżki krytycznej przy limicie
współbieżności roli. Wyniki i tabele krzyżowe mierzy `bench/survey_results.py`.
"""

from __future__ import annotations

import math
import os
import time

from bench.common import django_world, emit, flush_redis

LATENCY_MS = 200


def _people(project, n):  # noqa: ANN001, ANN202
    from personas.models import Persona

    return Persona.objects.bulk_create(
        [
            Persona(
                project=project,
                index=i,
                full_name=f"Respondent {i} Nowak",
                gender="female" if i % 2 else "male",
                age=18 + i % 60,
                background_story="Historia. " * 20,
            )
            for i in range(n)
        ]
    )


def fielding(user, project) -> dict:  # noqa: ANN001
    """100 person × 10 pytań (wybory, skale SSR i wprost, NPS, liczba, tekst): czas wobec ścieżki krytycznej."""
    from sight import jobs, llm
    from surveys import fielding as engine
    from surveys.builder import SurveyIn, create_survey

    _people(project, 100)
    choice = {"type": "single_choice", "text": "Bank?", "options": [{"label": "A"}, {"label": "B"}, {"label": "C"}]}
    questions = [
        choice,
        {"type": "rating", "text": "Kupisz?", "construct": "purchase_intent"},
        {"type": "rating", "text": "Zgoda?", "method": "direct", "points": 7},
        {"type": "nps", "text": "Polecisz?"},
        {"type": "numeric", "text": "Cena?", "min": 1, "max": 100},
        {**choice, "type": "multiple_choice", "text": "Co jeszcze?"},
        {**choice, "type": "ranking", "text": "Kolejność?"},
        {"type": "rating", "text": "Zadowolenie?", "construct": "satisfaction"},
        {"type": "open_text", "text": "Dlaczego {Q1}?"},
        {**choice, "text": "Drugi bank?"},
    ]
    survey = create_survey(project, SurveyIn(name="bench", questions=questions))
    job = engine.start_run(survey, user=user)
    started = time.perf_counter()
    jobs.execute(str(job.id))
    elapsed = time.perf_counter() - started
    survey.refresh_from_db()
    concurrency = llm.resolve(engine.ROLE).cfg.concurrency
    critical = math.ceil(100 / concurrency) * 10 * LATENCY_MS / 1000
    return {
        "status": survey.status,
        "answers": survey.answers.filter(failed=False).count(),
        "failed": survey.answers.filter(failed=True).count(),
        "concurrency": concurrency,
        "elapsed_s": round(elapsed, 3),
        "critical_path_s": critical,
        "ratio": round(elapsed / critical, 3),
        "target_ratio": 1.3,
        "ok": elapsed <= 1.3 * critical,
    }


def main() -> None:
    """Jeden pomiar, jeden JSON."""
    with django_world(
        SIGHT_LLM_PROVIDER="offline", SIGHT_OFFLINE_LATENCY_MS=str(LATENCY_MS), DJANGO_ALLOW_ASYNC_UNSAFE="true"
    ):
        from sight.demo import seed_demo

        flush_redis()
        user, demo = seed_demo()
        from sight.models import Project

        # Świeży projekt: panel demo nie miesza się z respondentami pomiaru.
        demographics = demo.target_demographics
        project = Project.objects.create(owner=user, name="bench fielding", target_demographics=demographics)
        result = {"benchmark": "surveys", "latency_ms": LATENCY_MS, "fielding_100x10": fielding(user, project)}
        result["ok"] = result["fielding_100x10"]["ok"]
        result["load_average_1m"] = round(os.getloadavg()[0], 2)
        emit(result)


if __name__ == "__main__":
    main()
