"""Eksport ankiety do XLSX i SPSS `.sav`: odczyt zwrotny (openpyxl, pyreadstat) z etykietami zmiennych i wartości dla
każdego typu pytania, komórki tekstowe bez formuł, etykiety stałych części w języku widza, 404 dla cudzej ankiety.
"""

import io
import json

import pyreadstat
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from sight.models import Job
from surveys import exports
from surveys.models import Answer, Survey
from tests.factories import api_client, create_persona, create_project, create_token, run_worker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_llm")]

QUESTIONS = [
    {"type": "single_choice", "text": "Który bank?", "options": [{"id": "pko", "label": "PKO"}, {"label": "mBank"}]},
    {
        "type": "multiple_choice",
        "text": "Z czego korzystasz?",
        "options": [{"label": "Aplikacja"}, {"label": "Oddział"}, {"label": "Infolinia"}],
    },
    {"type": "ranking", "text": "Co najważniejsze?", "options": [{"label": "Cena"}, {"label": "Jakość"}]},
    {
        "type": "rating",
        "text": "Kupisz?",
        "points": 5,
        "construct": "purchase_intent",
        "low_label": "Na pewno nie",
        "high_label": "Na pewno tak",
    },
    {"type": "rating", "text": "Zgoda?", "points": 7, "method": "direct"},
    {"type": "nps", "text": "Polecisz?"},
    {"type": "numeric", "text": "Ile zapłacisz?", "min": 1, "max": 500, "unit": "zł"},
    {"type": "open_text", "text": "Dlaczego?"},
]
ANSWERS = {
    "Który bank?": {"choice": "o2"},
    "Z czego korzystasz?": {"choices": ["o1", "o3"]},
    "Co najważniejsze?": {"ranking": ["o2", "o1"]},
    "Kupisz?": {"reaction": "Brzmi dobrze.", "intent": "Raczej to kupię."},
    "Zgoda?": {"rating": 6},
    "Polecisz?": {"score": 9},
    "Ile zapłacisz?": {"value": 49.9},
    "Dlaczego?": {"text": '=HYPERLINK("http://x") bo tak'},
}


def _respond(messages):
    text = messages[-1].content
    question = text.split("Pytanie: ", 1)[1].split("\n", 1)[0]
    return ANSWERS[question]


def fielded_survey(language: str = "en"):
    user, token = create_token()
    project = create_project(owner=user)
    for _ in range(2):
        create_persona(project=project)
    client = api_client(token)
    resp = client.post(
        f"/api/v1/projects/{project.id}/surveys",
        data=json.dumps({"name": "Bank", "questions": QUESTIONS}),
        content_type="application/json",
    )
    survey = Survey.objects.get(pk=resp.json()["id"])
    return client, survey


@pytest.fixture
def fielded(fake_llm, django_capture_on_commit_callbacks):
    client, survey = fielded_survey()
    fake_llm.script("survey_answer", [_respond] * 16)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"/api/v1/surveys/{survey.id}/run")
    run_worker()
    assert Job.objects.get(pk=resp.json()["job_id"]).status == "succeeded"
    # Drugi respondent: odpowiedź na wybór nieudana (po ponownych pytaniach) — w eksporcie brak danych, nie kod opcji.
    second = survey.respondents.order_by("position")[1].persona
    Answer.objects.filter(persona=second, question__order=0).update(failed=True, value=None, reason="invalid")
    return client, survey


def test_the_sav_export_round_trips_variable_labels_value_labels_and_values_for_every_type(fielded, tmp_path):
    client, survey = fielded
    resp = client.get(f"/api/v1/surveys/{survey.id}/export?format=sav")
    assert resp.status_code == 200 and resp["Content-Disposition"].endswith('.sav"')
    path = tmp_path / "survey.sav"
    path.write_bytes(resp.content)
    data, meta = pyreadstat.read_sav(path, output_format="dict")
    labels, values = meta.column_names_to_labels, meta.variable_value_labels
    assert list(data)[:8] == ["respondent", "name", "gender", "age", "education", "income", "location", "segment"]
    assert labels["gender"] == "Gender" and labels["q1"] == "Który bank?"
    assert values["q1"] == {1.0: "PKO", 2.0: "mBank"}
    assert labels["q2_3"] == "Z czego korzystasz?: Infolinia" and values["q2_1"] == {
        0.0: "not selected",
        1.0: "selected",
    }
    assert labels["q3_1"] == "Co najważniejsze?: Cena"
    assert values["q4"] == {1.0: "Na pewno nie", 2.0: "2", 3.0: "3", 4.0: "4", 5.0: "Na pewno tak"}
    assert labels["q4_ev"] == "Kupisz? (expected value)"
    assert values["q6"][0.0] == "Not at all likely" and values["q6"][10.0] == "Extremely likely"
    assert labels["q7"] == "Ile zapłacisz? [zł]" and "q8_1" not in data
    assert meta.variable_measure["q1"] == "nominal" and meta.variable_measure["q4_ev"] == "scale"
    assert meta.readstat_variable_types["q8"] == "string"
    first = survey.respondents.order_by("position").first().persona
    assert data["respondent"] == [1.0, 2.0] and data["name"][0] == first.full_name
    i = 0
    assert data["q1"][i] == 2.0
    assert [data["q2_1"][i], data["q2_2"][i], data["q2_3"][i]] == [1.0, 0.0, 1.0]
    assert [data["q3_1"][i], data["q3_2"][i]] == [2.0, 1.0]
    rating = Answer.objects.get(persona=first, question__text="Kupisz?")
    assert data["q4"][i] == rating.draw and data["q4_ev"][i] == pytest.approx(rating.expected_value, abs=1e-4)
    assert [data["q5"][i], data["q6"][i], data["q7"][i]] == [6.0, 9.0, 49.9]
    assert data["q8"][i] == '=HYPERLINK("http://x") bo tak'
    # Nieudana odpowiedź drugiego respondenta to brak danych, nie kod opcji.
    assert data["q1"][1] is None and data["q5"][1] == 6.0


def test_the_xlsx_export_has_labelled_columns_label_cells_no_formulas_and_a_codebook(fielded):
    client, survey = fielded
    resp = client.get(f"/api/v1/surveys/{survey.id}/export?format=xlsx")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(resp.content))
    assert book.sheetnames == ["Responses", "Codebook"]
    rows = list(book["Responses"].iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("Respondent", "Full name", "Gender") and "Który bank?" in header
    assert "Z czego korzystasz?: Aplikacja" in header and "Kupisz? (expected value)" in header
    first = survey.respondents.order_by("position").first().persona
    row = dict(zip(header, rows[1], strict=True))
    assert row["Full name"] == first.full_name and rows[2][header.index("Który bank?")] is None
    assert row["Który bank?"] == "mBank" and row["Z czego korzystasz?: Oddział"] == 0
    assert row["Polecisz?"] == 9 and row["Dlaczego?"] == '=HYPERLINK("http://x") bo tak'
    cells = [c for line in book["Responses"].iter_rows() for c in line]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    formula = next(c for c in cells if isinstance(c.value, str) and c.value.startswith("=HYPERLINK"))
    assert formula.data_type == "s" and formula.quotePrefix
    codebook = {r[0]: r for r in book["Codebook"].iter_rows(min_row=2, values_only=True)}
    assert codebook["q1"][1:] == ("Który bank?", "nominal", "1 = PKO; 2 = mBank")
    assert codebook["q2_2"][3] == "0 = not selected; 1 = selected"
    assert codebook["q8"][1:3] == ("Dlaczego?", "nominal")


def test_fixed_labels_follow_the_viewers_language(fielded):
    client, survey = fielded
    resp = client.get(f"/api/v1/surveys/{survey.id}/export?format=xlsx", headers={"accept-language": "pl"})
    book = load_workbook(io.BytesIO(resp.content))
    assert book.sheetnames == ["Odpowiedzi", "Księga kodów"]
    header = next(book["Odpowiedzi"].iter_rows(max_row=1, values_only=True))
    assert header[:3] == ("Respondent", "Imię i nazwisko", "Płeć") and "Kupisz? (wartość oczekiwana)" in header


def test_export_formats_are_validated_and_another_users_survey_is_a_404(fielded):
    client, survey = fielded
    assert client.get(f"/api/v1/surveys/{survey.id}/export?format=exe").status_code == 422
    _user, token = create_token()
    stranger = api_client(token)
    for fmt in ("csv", "json", "xlsx", "sav"):
        assert stranger.get(f"/api/v1/surveys/{survey.id}/export?format={fmt}").status_code == 404


def test_the_survey_page_links_every_export_format(fielded):
    client, survey = fielded
    from django.test import Client

    page = Client()
    page.force_login(survey.project.owner)
    html = page.get(f"/surveys/{survey.id}/").content.decode()
    for fmt in ("csv", "xlsx", "sav", "json"):
        assert f"/api/v1/surveys/{survey.id}/export?format={fmt}" in html


def test_the_codebook_exports_read_the_survey_in_a_constant_number_of_queries(fielded):
    _client, survey = fielded
    with CaptureQueriesContext(connection) as small:
        exports.sav_bytes(survey)
    for i in range(3):
        # Więcej respondentów z kompletem odpowiedzi: liczba zapytań się nie zmienia.
        persona = create_persona(project=survey.project)
        survey.respondents.create(persona=persona, position=10 + i)
        for q in survey.questions.all():
            Answer.objects.create(survey=survey, question=q, persona=persona, method="direct", text="x", value=None)
    with CaptureQueriesContext(connection) as large:
        exports.xlsx_bytes(survey)
    assert len(small) == len(large) == 3


def test_a_survey_without_respondents_exports_empty_files_with_the_codebook(fake_llm):
    client, survey = fielded_survey()
    resp = client.get(f"/api/v1/surveys/{survey.id}/export?format=xlsx")
    book = load_workbook(io.BytesIO(resp.content))
    assert len(list(book["Responses"].iter_rows())) == 1 and book["Codebook"].max_row > 8
    assert client.get(f"/api/v1/surveys/{survey.id}/export?format=sav").status_code == 200
