"""Benchmark eksportów ankiety: 1000 respondentów × 20 pytań (wybór, wybór wielokrotny, skala SSR, tekst) do CSV,
XLSX i SPSS `.sav` — czas, rozmiar pliku i liczba zapytań.
"""

from __future__ import annotations

import random
import time

from bench.common import django_world, emit, summary_ms

RESPONDENTS, QUESTIONS, REPEATS = 1000, 20, 5


def _survey(project):  # noqa: ANN001, ANN202
    from personas.models import Persona
    from surveys.builder import SurveyIn, create_survey
    from surveys.models import Answer, Respondent

    people = Persona.objects.bulk_create(
        Persona(project=project, index=i, full_name=f"Respondent {i}", gender="female", age=30, background_story="-")
        for i in range(RESPONDENTS)
    )
    options = [{"label": f"Opcja {k}"} for k in range(1, 6)]
    kinds = [
        {"type": "single_choice", "text": "Wybór?", "options": options},
        {"type": "multiple_choice", "text": "Co jeszcze?", "options": options},
        {"type": "rating", "text": "Skala?", "construct": "agreement"},
        {"type": "open_text", "text": "Dlaczego?"},
    ]
    questions = [{**kinds[i % 4], "text": f"{kinds[i % 4]['text']} {i}"} for i in range(QUESTIONS)]
    survey = create_survey(project, SurveyIn(name="bench export", questions=questions))
    Respondent.objects.bulk_create(Respondent(survey=survey, persona=p, position=i) for i, p in enumerate(people))
    rng, rows = random.Random(7), []
    for q in survey.questions.all():
        for p in people:
            if q.type == "single_choice":
                value = f"o{rng.randint(1, 5)}"
                rows.append(Answer(survey=survey, question=q, persona=p, value=value, method="direct"))
            elif q.type == "multiple_choice":
                value = sorted(rng.sample([f"o{k}" for k in range(1, 6)], 2))
                rows.append(Answer(survey=survey, question=q, persona=p, value=value, method="direct"))
            elif q.type == "rating":
                draw = rng.randint(1, 5)
                rows.append(
                    Answer(
                        survey=survey, question=q, persona=p, value=draw, draw=draw, expected_value=3.2, method="ssr"
                    )
                )
            else:
                rows.append(Answer(survey=survey, question=q, persona=p, text="Bo tak. " * 10, method="direct"))
    Answer.objects.bulk_create(rows, batch_size=5000)
    return survey


def main() -> None:
    """Trzy formaty, jeden JSON."""
    with django_world():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext
        from django.utils import translation

        from sight.models import Project, User
        from surveys import exports

        user = User.objects.create_user(email="bench-export@example.com", password="x")
        survey = _survey(Project.objects.create(owner=user, name="bench export"))
        writers = {
            "csv": lambda: exports.spreadsheet_csv(*exports.respondent_rows(survey)).encode(),
            "xlsx": lambda: exports.xlsx_bytes(survey),
            "sav": lambda: exports.sav_bytes(survey),
        }
        result: dict = {"benchmark": "survey_exports", "respondents": RESPONDENTS, "questions": QUESTIONS}
        with translation.override("pl"):
            for name, write in writers.items():
                timings = []
                for _ in range(REPEATS):
                    with CaptureQueriesContext(connection) as captured:
                        started = time.perf_counter()
                        body = write()
                        timings.append(time.perf_counter() - started)
                result[name] = {**summary_ms(timings), "bytes": len(body), "queries": len(captured)}
        emit(result)


if __name__ == "__main__":
    main()
