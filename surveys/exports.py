"""Eksport odpowiedzi: CSV (wiersz na respondenta, kolumny z etykietami, bezpieczny dla arkuszy) i JSON."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

from sight.demographics import bucket_label
from sight.text import spreadsheet_csv
from surveys.models import Answer, Question, Survey

FORMATS = ("csv", "json")


def _cell(q: Question, answer: Answer | None) -> Any:
    """Komórka: etykiety opcji, punkt skali (przy SSR losowanie z ziarnem), liczba albo tekst; pusta przy braku."""
    if answer is None or answer.failed:
        return ""
    labels = q.option_labels()
    if q.type == Question.Type.OPEN_TEXT:
        return answer.text
    if q.type == Question.Type.RANKING:
        return " > ".join(labels.get(v, v) for v in answer.value)
    if isinstance(answer.value, list):
        return "; ".join(labels.get(v, v) for v in answer.value)
    return labels.get(answer.value, answer.value) if isinstance(answer.value, str) else answer.value


def respondent_rows(survey: Survey) -> tuple[list[str], list[list[Any]]]:
    """Nagłówki i wiersze: respondent, cechy persony, po kolumnie na pytanie (+ wartość oczekiwana przy SSR)."""
    questions = list(survey.questions.order_by("order"))
    people = [r.persona for r in survey.respondents.select_related("persona", "persona__segment").order_by("position")]
    answers = {(a.persona_id, a.question_id): a for a in Answer.objects.filter(survey=survey)}
    header = ["respondent", "name", "gender", "age", "education", "income", "location", "segment"]
    for q in questions:
        header.append(f"Q{q.number} {q.text}")
        if q.method == Question.Method.SSR:
            header.append(f"Q{q.number} expected value")
    rows = []
    for i, p in enumerate(people, start=1):
        row: list[Any] = [
            i,
            p.full_name,
            bucket_label("gender", p.gender),
            p.age,
            bucket_label("education", p.education),
            bucket_label("income", p.income),
            bucket_label("location", p.location),
        ]
        row.append(p.segment.name if p.segment else "")
        for q in questions:
            answer = answers.get((p.id, q.id))
            row.append(_cell(q, answer))
            if q.method == Question.Method.SSR:
                row.append("" if answer is None or answer.expected_value is None else round(answer.expected_value, 4))
        rows.append(row)
    return header, rows


def export(survey: Survey, fmt: str) -> HttpResponse:
    """Plik do pobrania: CSV albo JSON (ankieta, pytania i respondenci z odpowiedziami)."""
    header, rows = respondent_rows(survey)
    if fmt == "json":
        body = {
            "survey": {"id": str(survey.id), "name": survey.name, "language": survey.language, "seed": survey.seed},
            "questions": [q.as_dict() for q in survey.questions.order_by("order")],
            "respondents": [dict(zip(header, row, strict=True)) for row in rows],
        }
        response = HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/json")
    else:
        response = HttpResponse(spreadsheet_csv(header, rows), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="survey-{survey.id}-{stamp}.{fmt}"'
    return response
