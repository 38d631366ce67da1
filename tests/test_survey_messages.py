"""Komunikaty odmów kreatora i badania ankiety w języku użytkownika: strony po polsku (z nazwą pola dla ludzi),
API po angielsku jak walidacja schematu.
"""

import json

import pytest

from surveys.models import Survey
from tests.factories import api_client, create_project, create_token

pytestmark = pytest.mark.usefixtures("fake_llm")


@pytest.fixture
def client(logged_client):
    logged_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "pl"
    return logged_client


@pytest.fixture
def survey(client, user):
    project = create_project(owner=user, language="pl")
    resp = client.post(f"/projects/{project.id}/surveys/new/", {"template": "brand_perception", "name": "Marka"})
    assert resp.status_code == 302, resp.content
    return Survey.objects.get(project=project)


def test_a_polish_user_gets_a_polish_422_naming_the_question_and_field(client, survey):
    post = {f"q{q.order}-text": q.text for q in survey.questions.all()}
    resp = client.post(f"/surveys/{survey.id}/edit/", {**post, "q0-options": "Tak\ntak"})
    assert resp.status_code == 422
    assert "Pytanie 1, opcje: powtórzone etykiety opcji: Tak, tak" in resp.content.decode()
    Survey.objects.filter(pk=survey.pk).update(status=Survey.Status.COMPLETED)
    resp = client.post(f"/surveys/{survey.id}/edit/", post)
    assert resp.status_code == 422
    assert "przeprowadzonej ankiety nie można zmieniać; skopiuj ją" in resp.content.decode()


def test_fielding_without_a_panel_says_why_in_polish(client, survey):
    page = client.post(f"/surveys/{survey.id}/run/", follow=True).content.decode()
    assert "żadna persona z panelu nie pasuje; najpierw wygeneruj persony" in page


@pytest.mark.django_db
def test_the_api_keeps_answering_domain_errors_in_english_whatever_the_language():
    user, token = create_token()
    project = create_project(owner=user, language="pl")
    client = api_client(token)
    question = {"type": "single_choice", "text": "Bank?", "options": [{"label": "PKO"}, {"label": "pko"}]}
    resp = client.post(
        f"/api/v1/projects/{project.id}/surveys",
        data=json.dumps({"name": "S", "questions": [question]}),
        content_type="application/json",
        headers={"accept-language": "pl"},
    )
    assert resp.status_code == 422
    assert resp.json()["detail"][0]["msg"] == "duplicate option labels: PKO, pko"
