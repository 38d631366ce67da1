"""API kreatora ankiet: tworzenie, lista, zmiana szkicu, 422 z nazwą pola, 409 po wystawieniu, kopia, szablony, 404
dla cudzej ankiety.
"""

import json

import pytest

from surveys import builder
from surveys.models import Survey
from tests.factories import api_client, create_persona, create_project, create_token

pytestmark = pytest.mark.django_db

CHOICE = {"type": "single_choice", "text": "Który bank?", "options": [{"label": "PKO"}, {"label": "mBank"}]}
RATING = {"type": "rating", "text": "Kupisz?", "points": 5, "construct": "purchase_intent"}


def send(client, method, url, body=None):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json")


def owner_client(**project_values):
    user, token = create_token()
    project = create_project(owner=user, **project_values)
    return api_client(token), project


def create(client, project, questions, **extra):
    return send(
        client, "post", f"/api/v1/projects/{project.id}/surveys", {"name": "S", "questions": questions, **extra}
    )


def error_field(resp):
    assert resp.status_code == 422, resp.content
    loc = [str(p) for p in resp.json()["detail"][0]["loc"][1:]]
    # Schemat (ninja) dokłada nazwę ciała „payload”; błąd domeny nazywa pole wprost.
    return ".".join(loc[1:] if loc[:1] == ["payload"] else loc)


def test_a_survey_is_created_in_the_project_language_with_stable_option_ids_and_listed_paginated():
    client, project = owner_client(language="en")
    resp = create(client, project, [CHOICE, RATING, {"type": "open_text", "text": "Why {Q1}?"}])
    assert resp.status_code == 201, resp.content
    survey = resp.json()
    assert survey["language"] == "en" and survey["status"] == "draft"
    assert [o["id"] for o in survey["questions"][0]["options"]] == ["o1", "o2"]
    assert survey["questions"][1]["settings"] == {
        "points": 5,
        "construct": "purchase_intent",
        "low_label": "",
        "high_label": "",
        "method": "ssr",
    }
    listing = client.get(f"/api/v1/projects/{project.id}/surveys").json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == survey["id"]


@pytest.mark.parametrize(
    ("questions", "field"),
    [
        ([], "questions"),
        ([{**CHOICE, "options": [{"label": "PKO"}, {"label": "pko"}]}], "questions.0.options"),
        ([{**CHOICE, "type": "multiple_choice", "min_picks": 2, "max_picks": 1}], "questions.0.min_picks"),
        ([{**RATING, "points": 11}], "questions.0.points"),
        ([{"type": "numeric", "text": "Cena?", "min": 10, "max": 1}], "questions.0.min"),
        ([{**CHOICE, "show_if": {"question": 2, "values": ["o1"]}}, CHOICE], "questions.0.show_if"),
        ([CHOICE, {**RATING, "show_if": {"question": 1, "values": ["o9"]}}], "questions.1.show_if"),
        ([{"type": "open_text", "text": "Dlaczego {Q2}?"}, CHOICE], "questions.0.text"),
        ([CHOICE] * 41, "questions"),
        ([{**CHOICE, "options": [{"label": f"o{i}"} for i in range(21)]}], "questions.0.options"),
    ],
)
def test_bad_questionnaires_get_a_422_naming_the_field(questions, field):
    client, project = owner_client()
    assert error_field(create(client, project, questions)) == field
    assert not Survey.objects.exists()


def test_a_draft_is_editable_and_a_fielded_survey_is_read_only_until_copied():
    client, project = owner_client()
    survey = create(client, project, [CHOICE]).json()
    url = f"/api/v1/surveys/{survey['id']}"
    resp = send(client, "patch", url, {"name": "Nowa", "questions": [CHOICE, RATING]})
    assert resp.status_code == 200 and resp.json()["name"] == "Nowa" and len(resp.json()["questions"]) == 2
    Survey.objects.filter(pk=survey["id"]).update(status=Survey.Status.COMPLETED)
    assert send(client, "patch", url, {"name": "Inna"}).status_code == 409
    copy = send(client, "post", f"{url}/copy")
    assert copy.status_code == 201 and copy.json()["status"] == "draft"
    assert [q["text"] for q in copy.json()["questions"]] == ["Który bank?", "Kupisz?"]
    assert send(client, "patch", f"/api/v1/surveys/{copy.json()['id']}", {"name": "Inna"}).status_code == 200


def test_every_template_builds_a_valid_survey_in_both_languages():
    for language in ("pl", "en"):
        for item in builder.template_list(language):
            body = builder.template_survey(item["id"], language)
            assert builder.clean_questions(body.questions)


def test_templates_are_listed_and_fill_a_new_survey_in_the_project_language():
    client, project = owner_client(language="pl")
    templates = client.get("/api/v1/survey-templates?language=en").json()
    assert {t["id"] for t in templates} == {"concept_test", "nps", "van_westendorp", "brand_perception"}
    resp = send(client, "post", f"/api/v1/projects/{project.id}/surveys/from-template", {"template": "van_westendorp"})
    assert resp.status_code == 201
    assert [q["type"] for q in resp.json()["questions"]] == ["numeric"] * 4
    assert resp.json()["questions"][0]["settings"]["unit"] == "zł"
    bad = send(client, "post", f"/api/v1/projects/{project.id}/surveys/from-template", {"template": "nope"})
    assert error_field(bad) == "template"


def test_another_users_survey_is_a_404_on_every_endpoint():
    client, project = owner_client()
    survey = create(client, project, [CHOICE]).json()
    stranger, _ = owner_client()
    sid = survey["id"]
    qid = survey["questions"][0]["id"]
    for method, url in [
        ("get", f"/api/v1/surveys/{sid}"),
        ("patch", f"/api/v1/surveys/{sid}"),
        ("delete", f"/api/v1/surveys/{sid}"),
        ("post", f"/api/v1/surveys/{sid}/copy"),
        ("post", f"/api/v1/surveys/{sid}/run"),
        ("get", f"/api/v1/surveys/{sid}/estimate"),
        ("get", f"/api/v1/surveys/{sid}/results"),
        ("get", f"/api/v1/surveys/{sid}/crosstab?question={qid}&by=gender"),
        ("get", f"/api/v1/projects/{project.id}/surveys"),
        ("post", f"/api/v1/projects/{project.id}/surveys"),
    ]:
        assert send(stranger, method, url, {"name": "x", "questions": [CHOICE]}).status_code == 404, (method, url)
    assert Survey.objects.filter(pk=sid, name="S").exists()


def test_the_estimate_counts_respondents_times_questions_and_checks_the_budget():
    client, project = owner_client(token_budget=100)
    for _ in range(3):
        create_persona(project=project)
    survey = create(client, project, [CHOICE, RATING]).json()
    estimate = client.get(f"/api/v1/surveys/{survey['id']}/estimate").json()
    assert estimate["respondents"] == 3 and estimate["calls"] == 6 and estimate["fits_budget"] is False


def test_a_survey_cannot_be_deleted_while_fielding_but_can_afterwards():
    client, project = owner_client()
    survey = create(client, project, [CHOICE]).json()
    Survey.objects.filter(pk=survey["id"]).update(status=Survey.Status.FIELDING)
    assert send(client, "delete", f"/api/v1/surveys/{survey['id']}").status_code == 409
    Survey.objects.filter(pk=survey["id"]).update(status=Survey.Status.FAILED)
    assert send(client, "delete", f"/api/v1/surveys/{survey['id']}").status_code == 204
