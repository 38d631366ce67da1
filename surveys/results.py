"""Wyniki ankiety: statystyki per pytanie (`surveys/stats.py`) i tabele krzyżowe (`surveys/crosstab.py`).

Agregacja w PostgreSQL, stała liczba zapytań niezależnie od liczby respondentów: pytania; liczności par (pytanie,
wartość) z dokładnymi sumami rozkładów SSR; odpowiedzi liczbowe jako wiersz na respondenta (gdy są pytania liczbowe);
pierwsze cytaty pytań otwartych (gdy są). Pary (wartość, liczność) trafiają do tych samych funkcji `surveys/stats.py`,
co pełna lista odpowiedzi, więc wynik się nie zmienia. Tabela krzyżowa to jedno zapytanie grupujące po cesze persony.
"""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import numpy as np
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    F,
    FloatField,
    Func,
    JSONField,
    Max,
    Q,
    QuerySet,
    Sum,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from numpy.typing import NDArray

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
    numeric = [q for q in questions if q.type == Type.NUMERIC]
    tally = _tally(survey, questions)
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
                "failed": tally.failed[q.id],
                "stats": _question_stats(q, tally, numeric),
                "themes": themes_view(q),
            }
            for q in questions
        ],
        "van_westendorp": None,
    }
    if len(numeric) == 4:
        complete = [row for row in tally.numbers if None not in row]
        curves = [[row[i] for row in complete] for i in range(4)]
        result["van_westendorp"] = {"questions": [q.number for q in numeric], **stats.van_westendorp(*curves)}
    return result


@dataclass
class _Tally:
    """Zliczenia z bazy: (wartość, liczność) per pytanie, nieudane, udane, sumy rozkładów SSR i cytaty."""

    values: dict[Any, list[tuple[Any, int]]] = field(default_factory=lambda: defaultdict(list))
    failed: dict[Any, int] = field(default_factory=lambda: defaultdict(int))
    answered: dict[Any, int] = field(default_factory=lambda: defaultdict(int))
    pmf_sums: dict[Any, PmfSum] = field(default_factory=lambda: defaultdict(PmfSum))
    texts: dict[Any, int] = field(default_factory=lambda: defaultdict(int))
    quotes: dict[Any, list[str]] = field(default_factory=dict)
    numbers: list[tuple[float | None, ...]] = field(default_factory=list)


@dataclass
class PmfSum:
    """Suma rozkładów SSR grupy: liczba rozkładów i dokładne sumy po punktach skali."""

    n: int = 0
    sums: list[Decimal] = field(default_factory=list)

    def add(self, n: int, sums: list[Decimal | None]) -> None:
        """Dolicza grupę z bazy (brak sumy w punkcie, którego skala nie ma, to zero)."""
        self.n += n
        values = [x or Decimal(0) for x in sums]
        self.sums = [x + y for x, y in zip(self.sums, values, strict=True)] if self.sums else values

    def counts(self, points: int) -> NDArray[np.float64]:
        """Liczności ułamkowe punktów 1…points."""
        return np.asarray([float(x) for x in (self.sums or [Decimal(0)] * points)[:points]], dtype=np.float64)


def _grouped(answers: QuerySet[Answer], fields: list[str], points: int) -> list[tuple[Any, ...]]:
    """Grupy odpowiedzi po polach z liczbą odpowiedzi, liczbą niepustych tekstów, liczbą rozkładów SSR i sumami
    rozkładów po `points` punktach skali — w `numeric`, więc dokładnie i niezależnie od kolejności wierszy.
    """
    sums = {f"p{i}": Sum(Cast(KT(f"pmf__{i}"), DecimalField())) for i in range(points)}
    counts = {"n": Count("*"), "texts": Count("id", filter=~Q(text="")), "pmfs": Count("pmf")}
    rows = answers.order_by().values(*fields).annotate(**counts, **sums)
    return list(rows.values_list(*fields, *counts, *sums))


def _tally(survey: Survey, questions: list[Question]) -> _Tally:
    """Agregacja w PostgreSQL: liczności wartości i sumy rozkładów SSR jednym zapytaniem; liczby i cytaty — gdy
    ankieta ma takie pytania — po jednym zapytaniu więcej.
    """
    tally = _Tally()
    points = max((q.points for q in questions if q.method == Question.Method.SSR), default=0)
    numeric = [q for q in questions if q.type == Type.NUMERIC]
    # Odpowiedzi nieudane i tekst otwarty mają wartość NULL, więc jedna grupa na pytanie; liczby czyta `_numbers`.
    answers = Answer.objects.filter(survey=survey).annotate(
        key=Case(When(question__in=numeric, then=None), default=F("value"), output_field=JSONField())
        if numeric
        else F("value")
    )
    for question_id, is_failed, value, n, texts, pmfs, *sums in _grouped(
        answers, ["question_id", "failed", "key"], points
    ):
        if is_failed:
            tally.failed[question_id] += n
            continue
        tally.answered[question_id] += n
        tally.texts[question_id] += texts
        tally.values[question_id].append((value, n))
        if pmfs:
            tally.pmf_sums[question_id].add(pmfs, sums)
    if numeric:
        tally.numbers = _numbers(survey, numeric)
    if open_questions := [q for q in questions if q.type == Type.OPEN_TEXT]:
        tally.quotes = _quotes(survey, open_questions)
    return tally


def _quotes(survey: Survey, questions: list[Question]) -> dict[Any, list[str]]:
    """Pierwsze niepuste odpowiedzi pytań otwartych: po podzapytaniu z limitem na pytanie (pierwsze zapisane),
    złączone w jedno zapytanie; cytaty w kolejności zapisu.
    """
    parts = [
        Answer.objects.filter(survey=survey, question=q, failed=False)
        .exclude(text="")
        .order_by("id")  # pierwsze zapisane (bez porządku PostgreSQL może zwrócić dowolne pięć)
        .values_list("id", "question_id", "text")[:QUOTES]
        for q in questions
    ]
    quotes: dict[Any, list[str]] = defaultdict(list)
    # Jedno pytanie: `union()` bez innych zwraca ten sam (pocięty) queryset, któremu nie wolno już zmienić porządku.
    rows = parts[0] if len(parts) == 1 else parts[0].union(*parts[1:], all=True).order_by()
    for _id, question_id, text in sorted(rows):
        quotes[question_id].append(text)
    return quotes


def _numbers(survey: Survey, numeric: list[Question]) -> list[tuple[float | None, ...]]:
    """Odpowiedzi liczbowe jako wiersz na respondenta (kolumna na pytanie, brak odpowiedzi to None): z nich statystyki
    pytań liczbowych i — przy czterech — Van Westendorp z kompletnych wierszy.
    """
    answers = Answer.objects.filter(survey=survey, question__in=numeric, failed=False).alias(
        kind=Func(F("value"), function="jsonb_typeof", output_field=CharField())
    )
    columns = {
        f"v{i}": Max(Cast("value", FloatField()), filter=Q(question=q, kind="number")) for i, q in enumerate(numeric)
    }
    return list(answers.order_by().values("persona_id").annotate(**columns).values_list(*columns))


def _expanded(pairs: list[tuple[Any, int]]) -> list[Any]:
    """Lista odpowiedzi z par (wartość, liczność) — dla funkcji statystyk z `surveys/stats.py`."""
    return list(itertools.chain.from_iterable(itertools.repeat(value, n) for value, n in pairs))


def _question_stats(q: Question, tally: _Tally, numeric: list[Question]) -> dict[str, Any]:
    """Statystyki pytania ze zliczeń; to samo, co `describe_question` na pełnej liście odpowiedzi."""
    if q.type == Type.OPEN_TEXT:
        return {"base": tally.texts[q.id], "quotes": tally.quotes.get(q.id, [])}
    if q.method == Question.Method.SSR:
        if not tally.answered[q.id]:
            return {"base": 0, "method": q.method}
        pmf = tally.pmf_sums[q.id]
        return {"method": "ssr", **stats.describe_scale(pmf.counts(q.points)), "base": pmf.n}
    if q.type == Type.NUMERIC:
        column = numeric.index(q)
        return describe_question(q, [row[column] for row in tally.numbers if row[column] is not None], [], [])
    return describe_question(q, _expanded(tally.values[q.id]), [], [])


def category_choices() -> list[tuple[str, str]]:
    """Kategorie banera jako (klucz, etykieta w bieżącym języku)."""
    return [(key, str(label)) for key, label in CATEGORY_LABELS.items()]


# Pole persony, po którym grupuje baza; przedziały wieku składa Python z lat (mniej niż sto grup).
GROUP_FIELDS = {
    "gender": "persona__gender",
    "age_group": "persona__age",
    "education": "persona__education",
    "income": "persona__income",
    "location": "persona__location",
    "segment": "persona__segment__name",
}


def _group(category: str, raw: Any) -> str:
    """Kolumna banera respondenta z pola persony: cecha, przedział wieku albo nazwa segmentu."""
    if category == "age_group":
        bucket = next(((low, high) for low, high in AGE_GROUPS if raw and low <= raw <= high), None)
        return "" if bucket is None else f"{bucket[0]}+" if bucket[1] >= 200 else f"{bucket[0]}–{bucket[1]}"
    return raw or ""


def _nps_group(score: int) -> str:
    return "detractors" if score <= 6 else "passives" if score <= 8 else "promoters"


def _crosstab_table(
    question: Question, by: str, answers: QuerySet[Answer]
) -> tuple[list[Any], list[str], list[str], NDArray[np.float64]]:
    """Liczności (albo sumy rozkładów SSR) wierszy × kolumn zgrupowane w bazie: klucze, etykiety, kolumny, tabela."""
    group_field = GROUP_FIELDS[by]
    if question.method == Question.Method.SSR:
        keys: list[Any] = list(range(1, question.points + 1))
        totals: dict[str, PmfSum] = defaultdict(PmfSum)
        for raw, _n, _texts, pmfs, *sums in _grouped(answers, [group_field], question.points):
            if pmfs:
                totals[_group(by, raw)].add(pmfs, sums)
        columns = sorted(totals)
        table = np.column_stack([totals[c].counts(question.points) for c in columns]) if columns else np.zeros((0, 0))
        return keys, [str(k) for k in keys], columns, table
    rows = answers.order_by().values_list(group_field, "value").annotate(n=Count("*"))
    cells = [(_group(by, raw), value, n) for raw, value, n in rows]
    if question.type == Type.SINGLE_CHOICE:
        keys, labels = [o["id"] for o in question.options], [o["label"] for o in question.options]
    elif question.type == Type.NPS:
        keys, labels = ["detractors", "passives", "promoters"], ["0–6", "7–8", "9–10"]
        cells = [(column, _nps_group(value), n) for column, value, n in cells]
    else:
        keys = list(range(1, question.points + 1))
        labels = [str(k) for k in keys]
    columns = sorted({column for column, _value, _n in cells})
    table = banner.count_table(
        [value for _c, value, _n in cells],
        [column for column, _v, _n in cells],
        rows=keys,
        columns=columns,
        weights=[n for _c, _v, n in cells],
    )
    return keys, labels, columns, table


def survey_crosstab(survey: Survey, question: Question, by: str) -> dict[str, Any]:
    """Tabela banerowa pytania według kategorii; nieznana kategoria albo pytanie bez kategorii odpowiedzi to
    InvalidInput.
    """
    if by not in CATEGORIES:
        raise InvalidInput("by", f"unknown category; choose one of: {', '.join(CATEGORIES)}")
    if question.type not in CROSSTAB_TYPES:
        raise InvalidInput("question", "crosstabs are available for single choice, rating and NPS questions")
    answers = Answer.objects.filter(survey=survey, question=question, failed=False)
    keys, labels, columns, table = _crosstab_table(question, by, answers)
    head = {"question": {"id": str(question.id), "number": question.number, "text": question.text}, "by": by}
    if not columns:
        return {**head, "columns": [], "rows": [], "warnings": [banner.SYNTHETIC_WARNING]}
    out = banner.banner_table(table, rows=keys, columns=columns)
    for row, label in zip(out["rows"], labels, strict=True):
        row["label"] = label
    for column in out["columns"]:
        # Koszyki demograficzne to klucze danych (`city_100k_500k`); przedziały wieku i segmenty są już tekstem.
        column["label"] = column["key"] if by in ("age_group", "segment") else bucket_label(by, column["key"])
    return {**head, **out}
