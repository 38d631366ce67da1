"""Wykresy wyników ankiety: SVG z serwera z tytułem i opisem, etykiety opcji (nie klucze), liczby w języku oglądającego
(polski przecinek w tekście, kropka w geometrii), tabela danych obok, tekst użytkownika uciekany.
"""

from __future__ import annotations

import re

import pytest
from django.utils import translation

from surveys import charts
from surveys.builder import SurveyIn, create_survey
from surveys.models import Answer
from tests.factories import create_persona, create_project

pytestmark = pytest.mark.django_db

QUESTION = {
    "id": "q1",
    "number": 1,
    "type": "single_choice",
    "text": "Który bank?",
    "stats": {
        "base": 3,
        "options": [
            {"option": "pko", "label": "PKO", "count": 1, "percent": 100 / 3},
            {"option": "mbank", "label": "mBank", "count": 2, "percent": 200 / 3},
        ],
    },
}


def test_a_distribution_chart_has_bars_proportional_to_percent_and_labels_not_keys():
    with translation.override("pl"):
        chart = charts.distribution_chart(QUESTION)
    assert [bar["label"] for bar in chart["bars"]] == ["PKO", "mBank"]
    assert [bar["percent_text"] for bar in chart["bars"]] == ["33,3", "66,7"]
    widths = [float(bar["width"]) for bar in chart["bars"]]
    assert widths[1] == pytest.approx(2 * widths[0], abs=0.2) and widths[1] < float(chart["track"])
    assert "PKO: 33,3%" in chart["desc"] and "pko" not in chart["desc"]
    assert chart["title"].startswith("Pytanie 1") or chart["title"].startswith("Question 1")


def test_a_question_without_a_distribution_has_no_chart():
    assert charts.distribution_chart({**QUESTION, "type": "open_text", "stats": {"base": 2, "quotes": ["a"]}}) is None


@pytest.fixture
def fielded(user):
    project = create_project(owner=user, language="pl")
    choice = {
        "type": "single_choice",
        "text": "Bank <b>?</b>",
        "options": [{"label": "<script>x</script>"}, {"label": "Inny"}],
    }
    survey = create_survey(
        project,
        SurveyIn(name="Wykresy", questions=[choice, {"type": "rating", "text": "Skala?", "method": "direct"}]),
    )
    first, scale = survey.questions.order_by("order")
    for i in range(3):
        persona = create_persona(project=project, gender="female" if i else "male")
        Answer.objects.create(survey=survey, question=first, persona=persona, value="o1" if i else "o2")
        Answer.objects.create(survey=survey, question=scale, persona=persona, value=i + 2, method="direct")
    return survey


def test_the_results_page_draws_svg_charts_with_a_data_table_in_polish(logged_client, fielded):
    logged_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "pl"
    html = logged_client.get(f"/surveys/{fielded.id}/results/").content.decode()
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    # Dwa rozkłady i tabela krzyżowa pierwszego pytania.
    assert len(svgs) == 3 and all('role="img"' in svg and "<title" in svg and "<desc" in svg for svg in svgs)
    assert all("<script" not in svg for svg in svgs)
    assert "&lt;script&gt;x&lt;/script&gt;: 66,7%" in svgs[0] and "<script>x</script>" not in html
    assert "Bank &lt;b&gt;?&lt;/b&gt;" in svgs[0]
    geometry = re.findall(r' (?:x|y|width|height)="([^"]*)"', "".join(svgs))
    assert geometry and all(re.fullmatch(r"\d+(\.\d)?", value) for value in geometry)
    assert '<th scope="row">Inny</th><td class="num">1</td><td class="num">33,3%</td>' in html
    assert 'class="chart-legend"' in html and "(A)" in svgs[2] and "(B)" in svgs[2]
