"""Benchmark wyników ankiety: 1000 respondentów × 20 pytań wszystkich typów (wybory, skale SSR z rozkładami i wprost,
NPS, liczby — cztery ceny Van Westendorpa —, ranking, tekst). Mierzy wyniki całej ankiety i tabelę krzyżową (p95 i
liczbę zapytań); cel: p95 ≤ 100 ms każde, liczba zapytań niezależna od liczby respondentów.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from bench.common import django_world, emit, summary_ms

RESPONDENTS = 1000
RUNS = 30
CHOICE = [{"label": "A"}, {"label": "B"}, {"label": "C"}, {"label": "D"}]
QUESTIONS: list[dict[str, Any]] = [
    {"type": "single_choice", "text": "Bank?", "options": CHOICE},
    {"type": "rating", "text": "Kupisz?", "construct": "purchase_intent"},
    {"type": "multiple_choice", "text": "Co jeszcze?", "options": CHOICE, "max_picks": 3},
    {"type": "nps", "text": "Polecisz?"},
    {"type": "numeric", "text": "Za tanio?", "min": 1, "max": 100, "unit": "zł"},
    {"type": "numeric", "text": "Tanio?", "min": 1, "max": 100, "unit": "zł"},
    {"type": "numeric", "text": "Drogo?", "min": 1, "max": 100, "unit": "zł"},
    {"type": "numeric", "text": "Za drogo?", "min": 1, "max": 100, "unit": "zł"},
    {"type": "open_text", "text": "Dlaczego?"},
    {"type": "rating", "text": "Zgoda?", "construct": "agreement", "points": 7},
    {"type": "rating", "text": "Wprost?", "method": "direct", "points": 7},
    {"type": "ranking", "text": "Kolejność?", "options": CHOICE},
    {"type": "single_choice", "text": "Sklep?", "options": CHOICE[:3]},
    {"type": "rating", "text": "Zadowolenie?", "construct": "satisfaction"},
    {"type": "multiple_choice", "text": "Kanały?", "options": CHOICE, "min_picks": 1, "max_picks": 2},
    {"type": "nps", "text": "Polecisz znajomym?"},
    {"type": "open_text", "text": "Co zmienić?"},
    {"type": "rating", "text": "Ważność?", "construct": "importance"},
    {"type": "single_choice", "text": "Marka?", "options": CHOICE},
    {"type": "rating", "text": "Szansa?", "construct": "likelihood"},
]


def people(project: Any, n: int) -> list[Any]:
    """n person o różnej płci, wieku i wykształceniu."""
    from personas.models import Persona

    return Persona.objects.bulk_create(
        [
            Persona(
                project=project,
                index=i,
                full_name=f"Respondent {i} Nowak",
                gender="female" if i % 2 else "male",
                age=18 + i % 60,
                education=("primary", "secondary", "higher")[i % 3],
                background_story="Historia.",
            )
            for i in range(n)
        ]
    )


def random_answer(q: Any, rng: random.Random) -> dict[str, Any]:
    """Pola odpowiedzi jak po badaniu (co trzydziesta nieudana z powodem)."""
    ids = [o["id"] for o in q.options]
    if rng.random() < 1 / 30:
        return {"failed": True, "reason": "LLMOutputError: bench"}
    if q.type == "single_choice":
        return {"value": rng.choice(ids)}
    if q.type == "multiple_choice":
        return {"value": rng.sample(ids, rng.randint(q.settings["min_picks"], q.settings["max_picks"]))}
    if q.type == "ranking":
        return {"value": rng.sample(ids, len(ids))}
    if q.type == "rating" and q.method == "ssr":
        raw = [rng.random() for _ in range(q.points)]
        pmf = [round(x / sum(raw), 6) for x in raw]
        expected = sum((i + 1) * p for i, p in enumerate(pmf))
        draw = rng.randint(1, q.points)
        return {"value": draw, "draw": draw, "pmf": pmf, "expected_value": expected, "text": "Reakcja. " * 8}
    if q.type == "rating":
        return {"value": rng.randint(1, q.points)}
    if q.type == "nps":
        return {"value": rng.randint(0, 10)}
    if q.type == "numeric":
        base = {"Za tanio?": 5, "Tanio?": 15, "Drogo?": 35, "Za drogo?": 60}[q.text]
        return {"value": round(base + rng.random() * 20, 2) if rng.random() < 0.5 else base + rng.randint(0, 20)}
    return {"text": f"Odpowiedź otwarta {rng.randint(0, 10**6)}. " + "Bo tak uważam. " * 6}


def fill(survey: Any, respondents: list[Any], seed: int = 7) -> int:
    """Zapisuje odpowiedzi wszystkich respondentów na wszystkie pytania."""
    from surveys.models import Answer

    rng = random.Random(seed)
    # Persona po personie, jak przy badaniu (respondenci odpowiadają po kolei na pytania).
    questions = list(survey.questions.order_by("order"))
    rows = [
        Answer(survey=survey, question=q, persona=p, method=q.method, **random_answer(q, rng))
        for p in respondents
        for q in questions
    ]
    Answer.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def measure(survey: Any) -> tuple[dict[str, Any], dict[str, int]]:
    """p50/p95 wyników i tabeli krzyżowej (skala SSR według płci, jednokrotny wybór według wieku) oraz zapytania."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from surveys import results

    rating = survey.questions.get(order=1)
    choice = survey.questions.get(order=0)
    calls = {
        "results": lambda: results.survey_results(survey),
        "crosstab_ssr_by_gender": lambda: results.survey_crosstab(survey, rating, "gender"),
        "crosstab_choice_by_age": lambda: results.survey_crosstab(survey, choice, "age_group"),
    }
    timings: dict[str, list[float]] = {name: [] for name in calls}
    queries: dict[str, int] = {}
    for _ in range(RUNS):
        for name, call in calls.items():
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                call()
                timings[name].append(time.perf_counter() - started)
            queries[name] = len(captured)
    return {name: summary_ms(values) for name, values in timings.items()}, queries


def main() -> None:
    """Jeden pomiar, jeden JSON."""
    with django_world():
        from django.db import connection

        from sight.models import Project, User
        from surveys.builder import SurveyIn, create_survey

        project = Project.objects.create(owner=User.objects.create_user("bench@example.com", "x"), name="bench results")
        survey = create_survey(project, SurveyIn(name="bench read", questions=QUESTIONS))
        answers = fill(survey, people(project, RESPONDENTS))
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        stats, queries = measure(survey)
        emit(
            {
                "benchmark": "survey_results",
                "respondents": RESPONDENTS,
                "questions": len(QUESTIONS),
                "answers": answers,
                **stats,
                "queries": queries,
                "target_p95_ms": 100,
                "ok": all(s["p95_ms"] <= 100 for s in stats.values()),
                # Maszyna deweloperska ma 2 rdzenie dzielone z innymi; obciążenie mówi, ile z nich dostał pomiar.
                "load_average_1m": round(os.getloadavg()[0], 2),
            }
        )


if __name__ == "__main__":
    main()
