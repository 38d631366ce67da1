"""Wyniki ankiety agregowane w PostgreSQL: te same liczby, co prosty rachunek w Pythonie na każdej odpowiedzi (losowe
ankiety wszystkich typów, z nieudanymi odpowiedziami), i liczba zapytań niezależna od liczby respondentów.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.survey_results import QUESTIONS, random_answer
from surveys import crosstab as banner
from surveys import results, stats
from surveys.builder import SurveyIn, create_survey
from surveys.models import Answer, Question, Survey
from tests.factories import create_persona, create_project, create_segment

pytestmark = pytest.mark.django_db


def make_survey(n: int, *, seed: int) -> Survey:
    """Ankieta z 20 pytaniami wszystkich typów i n respondentami o różnych cechach (część w segmentach)."""
    project = create_project()
    segments = [create_segment(project=project, name=name, index=i) for i, name in enumerate(["Oszczędni", "Młodzi"])]
    rng = random.Random(seed)
    people = [
        create_persona(
            project=project,
            gender=rng.choice(["female", "male", ""]),
            age=rng.choice([None, 19, 30, 44, 52, 64, 70]),
            education=rng.choice(["primary", "secondary", "higher"]),
            income=rng.choice(["low", "medium", "high"]),
            location=rng.choice(["village", "city_100k_500k"]),
            segment=rng.choice([*segments, None]),
        )
        for _ in range(n)
    ]
    survey = create_survey(project, SurveyIn(name="losowa", questions=QUESTIONS))
    questions = list(survey.questions.order_by("order"))
    Answer.objects.bulk_create(
        [
            Answer(survey=survey, question=q, persona=p, method=q.method, **random_answer(q, rng))
            for p in people
            for q in questions
            if rng.random() > 0.1  # część respondentów pominęła pytanie (reguła pomijania)
        ]
    )
    return survey


def plain_results(survey: Survey) -> dict[str, Any]:
    """Wzorzec: każda odpowiedź z bazy do Pythona i statystyki z `describe_question` (tak liczyła pierwsza wersja)."""
    questions = list(survey.questions.order_by("order"))
    values, pmfs, texts = defaultdict(list), defaultdict(list), defaultdict(list)
    failed: dict[Any, int] = defaultdict(int)
    numbers: dict[Any, dict[Any, float]] = defaultdict(dict)
    for answer in Answer.objects.filter(survey=survey).order_by("id"):
        if answer.failed:
            failed[answer.question_id] += 1
            continue
        values[answer.question_id].append(answer.value)
        if answer.pmf is not None:
            pmfs[answer.question_id].append(answer.pmf)
        if answer.text:
            texts[answer.question_id].append(answer.text)
        if isinstance(answer.value, int | float) and not isinstance(answer.value, bool):
            numbers[answer.persona_id][answer.question_id] = float(answer.value)
    out = []
    for q in questions:
        # Cytaty tylko w pytaniach otwartych (tekst reakcji SSR to nie cytat).
        described = results.describe_question(q, values[q.id], pmfs[q.id], texts[q.id])
        out.append({"id": str(q.id), "failed": failed[q.id], "stats": described})
    prices = [q for q in questions if q.type == Question.Type.NUMERIC]
    complete = [row for row in numbers.values() if all(q.id in row for q in prices)]
    vw = stats.van_westendorp(*[[row[q.id] for row in complete] for q in prices])
    return {"questions": out, "van_westendorp": vw}


def plain_crosstab(survey: Survey, question: Question, by: str) -> list[list[float]]:
    """Wzorzec tabeli: liczności (albo sumy rozkładów SSR) z odpowiedzi respondentów jedna po drugiej."""
    rows = Answer.objects.filter(survey=survey, question=question, failed=False).select_related("persona__segment")
    answers, pmfs, groups = [], [], []
    for a in rows:
        p = a.persona
        raw = {"age_group": p.age, "segment": p.segment.name if p.segment else None}.get(by, getattr(p, by, None))
        answers.append(a.value)
        pmfs.append(a.pmf)
        groups.append(results._group(by, raw))
    columns = sorted(set(groups))
    if question.method == Question.Method.SSR:
        return banner.pmf_table(pmfs, groups, columns=columns).tolist()
    if question.type == Question.Type.NPS:
        kinds = [results._nps_group(v) for v in answers]
        return banner.count_table(kinds, groups, rows=["detractors", "passives", "promoters"], columns=columns).tolist()
    keys = [o["id"] for o in question.options] or list(range(1, question.points + 1))
    return banner.count_table(answers, groups, rows=keys, columns=columns).tolist()


def assert_same(ours: Any, plain: Any, path: str = "") -> None:
    """Równość struktur z tolerancją na ostatnie bity liczb zmiennoprzecinkowych (sumy w innej kolejności)."""
    if isinstance(plain, dict):
        assert set(ours) == set(plain), path
        for key in plain:
            assert_same(ours[key], plain[key], f"{path}.{key}")
    elif isinstance(plain, list | tuple):
        assert len(ours) == len(plain), path
        for i, (a, b) in enumerate(zip(ours, plain, strict=True)):
            assert_same(a, b, f"{path}[{i}]")
    elif isinstance(plain, float) and not math.isnan(plain):
        assert ours == pytest.approx(plain, rel=1e-9, abs=1e-9), path
    else:
        assert ours == plain, path


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_results_aggregated_in_sql_equal_a_plain_python_computation(seed):
    survey = make_survey(40, seed=seed)
    ours, plain = results.survey_results(survey), plain_results(survey)
    assert [q["failed"] for q in ours["questions"]] == [q["failed"] for q in plain["questions"]]
    assert sum(q["failed"] for q in ours["questions"]) > 0
    for mine, reference in zip(ours["questions"], plain["questions"], strict=True):
        assert_same(mine["stats"], reference["stats"], mine["id"])
    assert_same(ours["van_westendorp"], {"questions": [5, 6, 7, 8], **plain["van_westendorp"]})
    assert ours["van_westendorp"]["base"] > 0


@pytest.mark.parametrize("by", results.CATEGORIES)
def test_crosstabs_aggregated_in_sql_equal_a_plain_python_computation(by):
    survey = make_survey(60, seed=11)
    crossable = [q for q in survey.questions.order_by("order") if q.type in results.CROSSTAB_TYPES]
    assert {q.type for q in crossable} == set(results.CROSSTAB_TYPES)
    for question in crossable:
        table = results.survey_crosstab(survey, question, by)
        counts = [[cell["count"] for cell in row["cells"]] for row in table["rows"]]
        assert_same(counts, plain_crosstab(survey, question, by), f"{question.type} by {by}")


def query_counts(survey: Survey) -> tuple[int, int]:
    question = survey.questions.get(order=1)
    with CaptureQueriesContext(connection) as whole:
        results.survey_results(survey)
    with CaptureQueriesContext(connection) as table:
        results.survey_crosstab(survey, question, "segment")
    return len(whole), len(table)


def test_results_and_crosstab_take_the_same_number_of_queries_for_10_and_200_respondents():
    small, large = make_survey(10, seed=5), make_survey(200, seed=6)
    assert Answer.objects.filter(survey=large).count() > 15 * Answer.objects.filter(survey=small).count()
    # Pytania, wartości z sumami rozkładów, liczby (Van Westendorp), cytaty; tabela krzyżowa jednym zapytaniem.
    assert query_counts(small) == query_counts(large) == (4, 1)


def test_an_empty_survey_has_zero_bases_and_no_crosstab_columns():
    survey = make_survey(0, seed=1)
    ours = results.survey_results(survey)
    assert all(q["stats"]["base"] == 0 and q["failed"] == 0 for q in ours["questions"])
    assert ours["van_westendorp"]["base"] == 0
    assert results.survey_crosstab(survey, survey.questions.get(order=1), "gender")["columns"] == []
