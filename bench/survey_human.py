"""Benchmark: próba ludzka o największym dozwolonym rozmiarze (20 000 wierszy × 12 kolumn) — przyjęcie pliku CSV,
XLSX i .sav (parser w procesie potomnym + zapis) oraz porównanie z 500 personami × 10 pytań, z segmentem.
"""

from __future__ import annotations

import io
import random
import tempfile
import time
from pathlib import Path

from bench.common import django_world, emit, summary_ms

ROWS, PERSONAS, RATINGS, REPEATS = 20_000, 500, 9, 20


def main() -> None:
    """Ankieta z odpowiedziami person, trzy pliki tych samych danych ludzi, czasy przyjęcia i porównania."""
    with django_world():
        import openpyxl
        import polars as pl
        import pyreadstat
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from personas.models import Persona
        from sight.models import Project, User
        from surveys import human
        from surveys.builder import SurveyIn, create_survey
        from surveys.models import Answer

        user = User.objects.create_user("bench@example.com", "x")
        project = Project.objects.create(owner=user, name="bench", target_demographics={"gender": {"female": 1.0}})
        questions = [{"type": "single_choice", "text": "Czy kupisz?", "options": [{"label": "Tak"}, {"label": "Nie"}]}]
        questions += [
            {"type": "rating", "text": f"Ocena numer {i}", "points": 5, "construct": "satisfaction"}
            for i in range(RATINGS)
        ]
        survey = create_survey(project, SurveyIn.model_validate({"name": "bench", "questions": questions}))
        qs = list(survey.questions.order_by("order"))
        rng = random.Random(1)
        personas = Persona.objects.bulk_create(
            Persona(project=project, index=i, full_name=f"P{i}", gender=rng.choice(["female", "male"]), age=30)
            for i in range(PERSONAS)
        )
        answers = []
        for p in personas:
            answers.append(
                Answer(survey=survey, question=qs[0], persona=p, value=rng.choice(["o1", "o2"]), method="direct")
            )
            for q in qs[1:]:
                pmf = [rng.random() for _ in range(5)]
                pmf = [x / sum(pmf) for x in pmf]
                answers.append(Answer(survey=survey, question=q, persona=p, value=3, pmf=pmf, method="ssr"))
        Answer.objects.bulk_create(answers)

        header = ["Płeć", "Czy kupisz?", *[f"Ocena numer {i}" for i in range(RATINGS)], "Wiek"]
        rows = [
            [
                rng.choice(["Kobieta", "Mężczyzna"]),
                rng.choice(["Tak", "Nie"]),
                *[str(rng.randint(1, 5)) for _ in range(RATINGS)],
                str(rng.randint(18, 80)),
            ]
            for _ in range(ROWS)
        ]
        csv_data = "\r\n".join(";".join(r) for r in [header, *rows]).encode("cp1250")
        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet()
        for r in [header, *rows]:
            sheet.append(r)
        buffer = io.BytesIO()
        workbook.save(buffer)
        frame = pl.DataFrame({f"v{i}": [r[i] for r in rows] for i in range(len(header))})
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.sav"
            pyreadstat.write_sav(frame, str(path), column_labels=header)
            sav_data = path.read_bytes()

        uploads = {}
        for name, data in (("bench.csv", csv_data), ("bench.xlsx", buffer.getvalue()), ("bench.sav", sav_data)):
            started = time.perf_counter()
            sample = human.accept_upload(survey, SimpleUploadedFile(name, data))
            uploads[name.rsplit(".", 1)[1]] = {
                "bytes": len(data),
                "seconds": round(time.perf_counter() - started, 3),
                "mapped_questions": len(sample.mapping["questions"]),
                "segment": bool(sample.mapping["segment"]),
            }

        sample.refresh_from_db()
        timings = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                fresh = type(sample).objects.select_related("survey").defer("data").get(pk=sample.pk)
                result = human.compare_sample(fresh)
            timings.append(time.perf_counter() - started)
        emit(
            {
                "benchmark": "survey_human",
                "human_rows": ROWS,
                "personas": PERSONAS,
                "questions": len(qs),
                "upload": uploads,
                "comparison": {**summary_ms(timings), "queries": len(queries), "compared": len(result["questions"])},
            }
        )


if __name__ == "__main__":
    main()
