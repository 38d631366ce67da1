"""Benchmark ankiet: badanie 100 person × 10 pytań (offline, 200 ms na wywołanie) wobec ścieżki krytycznej przy limicie
współbieżności roli; wyniki i tabela krzyżowa dla 1000 respondentów × 20 pytań (p95 i liczba zapytań).
"""

from __future__ import annotations

import math
import random
import time

from bench.common import django_world, emit, flush_redis, summary_ms

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


def reading(project) -> dict:  # noqa: ANN001
    """1000 respondentów × 20 pytań zapisanych wprost: wyniki i tabela krzyżowa, p95 i stała liczba zapytań."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from surveys import results
    from surveys.builder import SurveyIn, create_survey
    from surveys.models import Answer

    people = _people(project, 1000)
    rng = random.Random(7)
    choice = {"type": "single_choice", "text": "Wybór?", "options": [{"label": "A"}, {"label": "B"}, {"label": "C"}]}
    questions = [
        choice if i % 2 else {"type": "rating", "text": f"Skala {i}?", "construct": "agreement"} for i in range(20)
    ]
    survey = create_survey(project, SurveyIn(name="bench read", questions=questions))
    rows = []
    for q in survey.questions.all():
        for p in people:
            if q.type == "rating":
                pmf = [rng.random() for _ in range(5)]
                pmf = [x / sum(pmf) for x in pmf]
                rows.append(Answer(survey=survey, question=q, persona=p, value=3, pmf=pmf, method="ssr"))
            else:
                rows.append(Answer(survey=survey, question=q, persona=p, value=rng.choice(["o1", "o2", "o3"])))
    Answer.objects.bulk_create(rows, batch_size=5000)
    rating = survey.questions.get(order=0)
    timings: dict[str, list[float]] = {"results": [], "crosstab": []}
    queries: dict[str, int] = {}
    for _ in range(20):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            results.survey_results(survey)
            timings["results"].append(time.perf_counter() - started)
        queries["results"] = len(captured)
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            results.survey_crosstab(survey, rating, "gender")
            timings["crosstab"].append(time.perf_counter() - started)
        queries["crosstab"] = len(captured)
    stats = {name: summary_ms(values) for name, values in timings.items()}
    return {
        "respondents": 1000,
        "questions": 20,
        **stats,
        "queries": queries,
        "target_p95_ms": 100,
        "ok": all(s["p95_ms"] <= 100 for s in stats.values()),
    }


def main() -> None:
    """Dwa pomiary, jeden JSON."""
    with django_world(
        SIGHT_LLM_PROVIDER="offline", SIGHT_OFFLINE_LATENCY_MS=str(LATENCY_MS), DJANGO_ALLOW_ASYNC_UNSAFE="true"
    ):
        from sight.demo import seed_demo

        flush_redis()
        user, demo = seed_demo()
        from sight.models import Project

        # Świeże projekty: panel demo nie miesza się z respondentami pomiaru.
        first, second = (
            Project.objects.create(owner=user, name=name, target_demographics=demo.target_demographics)
            for name in ("bench fielding", "bench read")
        )
        result = {
            "benchmark": "surveys",
            "latency_ms": LATENCY_MS,
            "fielding_100x10": fielding(user, first),
            "results_1000x20": reading(second),
        }
        result["ok"] = all(v["ok"] for v in result.values() if isinstance(v, dict))
        emit(result)


if __name__ == "__main__":
    main()
