"""Wyniki ankiety: statystyki per pytanie (`surveys/stats.py`) i tabele krzyżowe (`surveys/crosstab.py`).

Stała liczba zapytań niezależnie od liczby pytań i respondentów: pytania jednym zapytaniem, odpowiedzi drugim
(wartości i rozkłady, bez obiektów modelu), tabela krzyżowa dokłada do odpowiedzi cechy persony w tym samym zapytaniu.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import Any, Literal

from django.utils.translation import gettext_lazy as _

from sight.demographics import bucket_label
from sight.errors import InvalidInput
from surveys import crosstab as banner
from surveys import stats
from surveys.models import Answer, Question, Survey
from surveys.themes import themes_view

Type = Question.Type
CATEGORY_LABELS = {
    "gender": _("Gender"),
    "age_group": _("Age group"),
    "education": _("Education"),
    "income": _("Income"),
    "location": _("Location"),
    "segment": _("Segment"),
}
CATEGORIES = tuple(CATEGORY_LABELS)
Category = Literal["gender", "age_group", "education", "income", "location", "segment"]
CROSSTAB_TYPES = frozenset({Question.Type.SINGLE_CHOICE, Question.Type.RATING, Question.Type.NPS})
AGE_GROUPS = ((18, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 200))
QUOTES = 5


def _labelled(rows: list[dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]]:
    return [{**row, "label": labels.get(row["option"], row["option"])} for row in rows]


def describe_question(q: Question, values: list[Any], pmfs: list[list[float]], texts: list[str]) -> dict[str, Any]:
    """Statystyki jednego pytania z udanych odpowiedzi."""
    ids, labels = [o["id"] for o in q.options], q.option_labels()
    if q.type == Type.SINGLE_CHOICE:
        out = stats.describe_single_choice(values, ids)
        return {**out, "options": _labelled(out["options"], labels)}
    if q.type == Type.MULTIPLE_CHOICE:
        out = stats.describe_multiple_choice(values, ids)
        return {**out, "options": _labelled(out["options"], labels)}
    if q.type == Type.RANKING:
        out = stats.describe_ranking(values, ids)
        return {**out, "options": _labelled(out["options"], labels)}
    if q.type == Type.RATING:
        if not values:
            return {"base": 0, "method": q.method}
        if q.method == Question.Method.SSR:
            return stats.describe_rating(q.points, pmfs=pmfs)
        return stats.describe_rating(q.points, picks=values)
    if q.type == Type.NPS:
        return stats.net_promoter_score(values)
    if q.type == Type.NUMERIC:
        numbers = [float(v) for v in values]
        return {
            "base": len(numbers),
            "unit": q.settings.get("unit", ""),
            "mean": statistics.fmean(numbers) if numbers else None,
            "median": statistics.median(numbers) if numbers else None,
            "sd": statistics.stdev(numbers) if len(numbers) > 1 else None,
            "min": min(numbers, default=None),
            "max": max(numbers, default=None),
        }
    return {"base": len(texts), "quotes": texts[:QUOTES]}


def survey_results(survey: Survey) -> dict[str, Any]:
    """Wyniki ankiety: per pytanie baza, liczba nieudanych odpowiedzi i statystyki; Van Westendorp przy 4 cenach."""
    questions = list(survey.questions.order_by("order"))
    values: dict[Any, list[Any]] = defaultdict(list)
    pmfs: dict[Any, list[list[float]]] = defaultdict(list)
    texts: dict[Any, list[str]] = defaultdict(list)
    failed: dict[Any, int] = defaultdict(int)
    numeric_by_persona: dict[Any, dict[Any, float]] = defaultdict(dict)
    # Bez domyślnego sortowania modelu: złączenie z pytaniem i sort wszystkich odpowiedzi przy każdym odczycie.
    rows = (
        Answer.objects.filter(survey=survey)
        .order_by()
        .values_list("question_id", "persona_id", "value", "pmf", "text", "failed")
    )
    for question_id, persona_id, value, pmf, text, is_failed in rows:
        if is_failed:
            failed[question_id] += 1
            continue
        values[question_id].append(value)
        if pmf is not None:
            pmfs[question_id].append(pmf)
        if text:
            texts[question_id].append(text)
        if isinstance(value, int | float) and not isinstance(value, bool):
            numeric_by_persona[persona_id][question_id] = float(value)
    result = {
        "survey_id": str(survey.id),
        "status": survey.status,
        "questions": [
            {
                "id": str(q.id),
                "number": q.number,
                "type": q.type,
                "text": q.text,
                "method": q.method,
                "failed": failed[q.id],
                "stats": describe_question(q, values[q.id], pmfs[q.id], texts[q.id]),
                "themes": themes_view(q),
            }
            for q in questions
        ],
        "van_westendorp": None,
    }
    prices = [q for q in questions if q.type == Type.NUMERIC]
    if len(prices) == 4:
        complete = [row for row in numeric_by_persona.values() if all(q.id in row for q in prices)]
        curves = [[row[q.id] for row in complete] for q in prices]
        result["van_westendorp"] = {"questions": [q.number for q in prices], **stats.van_westendorp(*curves)}
    return result


def category_choices() -> list[tuple[str, str]]:
    """Kategorie banera jako (klucz, etykieta w bieżącym języku)."""
    return [(key, str(label)) for key, label in CATEGORY_LABELS.items()]


def _group(category: str, persona: dict[str, Any]) -> str:
    """Kolumna banera respondenta: cecha persony, przedział wieku albo segment."""
    if category == "age_group":
        age = persona["age"]
        bucket = next(((low, high) for low, high in AGE_GROUPS if age and low <= age <= high), None)
        return "" if bucket is None else f"{bucket[0]}+" if bucket[1] >= 200 else f"{bucket[0]}–{bucket[1]}"
    if category == "segment":
        return persona["segment"] or ""
    return persona[category] or ""


def survey_crosstab(survey: Survey, question: Question, by: str) -> dict[str, Any]:
    """Tabela banerowa pytania według kategorii; nieznana kategoria albo pytanie bez kategorii odpowiedzi to
    InvalidInput.
    """
    if by not in CATEGORIES:
        raise InvalidInput("by", f"unknown category; choose one of: {', '.join(CATEGORIES)}")
    if question.type not in CROSSTAB_TYPES:
        raise InvalidInput("question", "crosstabs are available for single choice, rating and NPS questions")
    rows = (
        Answer.objects.filter(survey=survey, question=question, failed=False)
        .order_by()
        .values_list(
            "value",
            "pmf",
            "persona__gender",
            "persona__age",
            "persona__education",
            "persona__income",
            "persona__location",
            "persona__segment__name",
        )
    )
    answers, pmfs, groups = [], [], []
    for value, pmf, gender, age, education, income, location, segment in rows:
        persona = {
            "gender": gender,
            "age": age,
            "education": education,
            "income": income,
            "location": location,
            "segment": segment,
        }
        answers.append(value)
        pmfs.append(pmf)
        groups.append(_group(by, persona))
    columns = sorted(set(groups))
    head = {"question": {"id": str(question.id), "number": question.number, "text": question.text}, "by": by}
    if not answers:
        return {**head, "columns": [], "rows": [], "warnings": [banner.SYNTHETIC_WARNING]}
    if question.type == Type.SINGLE_CHOICE:
        keys = [o["id"] for o in question.options]
        labels = [o["label"] for o in question.options]
        table = banner.count_table(answers, groups, rows=keys, columns=columns)
    elif question.type == Type.NPS:
        keys = ["detractors", "passives", "promoters"]
        labels = ["0–6", "7–8", "9–10"]
        kinds = ["detractors" if v <= 6 else "passives" if v <= 8 else "promoters" for v in answers]
        table = banner.count_table(kinds, groups, rows=keys, columns=columns)
    else:
        keys = list(range(1, question.points + 1))
        labels = [str(k) for k in keys]
        if question.method == Question.Method.SSR and answers:
            table = banner.pmf_table(pmfs, groups, columns=columns)
        else:
            table = banner.count_table(answers, groups, rows=keys, columns=columns)
    out = banner.banner_table(table, rows=keys, columns=columns)
    for row, label in zip(out["rows"], labels, strict=True):
        row["label"] = label
    for column in out["columns"]:
        # Koszyki demograficzne to klucze danych (`city_100k_500k`); przedziały wieku i segmenty są już tekstem.
        column["label"] = column["key"] if by in ("age_group", "segment") else bucket_label(by, column["key"])
    return {**head, **out}
