"""Słownik błędów: domena zgłasza Conflict (409) i InvalidInput (422 z polem); API i widoki tłumaczą je raz."""

import json

import pytest
from django.test import Client

from focus_groups import discussion, summary
from focus_groups.models import FocusGroup
from focus_groups.setup import FocusGroupIn, create_focus_group
from personas.generation import start_generation
from sight.errors import Conflict, InvalidInput
from tests.conftest import api_client, create_persona, create_project, create_token, create_user


def make_group(project):
    people = [create_persona(project=project) for _ in range(2)]
    data = FocusGroupIn(
        name="FG", questions=[{"text": "Czy?", "probes": []}], participants={"persona_ids": [p.id for p in people]}
    )
    return create_focus_group(project, data)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("size", "preset", "field"), [(0, "", "num_personas"), (10**6, "", "num_personas"), (2, "x", "trait_preset")]
)
def test_start_generation_names_the_bad_field(size, preset, field):
    project = create_project()
    with pytest.raises(InvalidInput) as caught:
        start_generation(project, user=None, num_personas=size, trait_preset=preset)
    assert caught.value.field == field and not project.persona_runs.exists()


@pytest.mark.django_db
def test_focus_group_state_refusals_are_conflicts_not_value_errors():
    fg = make_group(create_project())
    with pytest.raises(Conflict):
        discussion.resume_run(fg, user=None)
    with pytest.raises(Conflict):
        discussion.request_control(fg, FocusGroup.Control.PAUSE)
    with pytest.raises(Conflict):
        summary.start_summary(fg, user=None)
    fg.set_status(FocusGroup.Status.COMPLETED)
    with pytest.raises(Conflict):
        discussion.start_run(fg, user=None)


@pytest.mark.django_db
def test_the_api_answers_a_conflict_in_english_whatever_the_language():
    user, token = create_token()
    fg = make_group(create_project(owner=user))
    client = Client(headers={"authorization": f"Bearer {token}", "accept-language": "pl"})
    resp = client.post(f"/api/v1/focus-groups/{fg.id}/resume", content_type="application/json")
    assert resp.status_code == 409 and resp.json()["detail"].startswith("Only a paused, failed or over-budget")


@pytest.mark.django_db
def test_the_api_puts_a_domain_field_error_in_loc():
    user, token = create_token()
    project = create_project(owner=user)
    resp = api_client(token).post(
        f"/api/v1/projects/{project.id}/personas/generate",
        data=json.dumps({"num_personas": 10**6}),
        content_type="application/json",
    )
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "num_personas"]


@pytest.mark.django_db
def test_a_page_shows_a_conflict_in_the_users_language():
    user = create_user()
    fg = make_group(create_project(owner=user))
    client = Client(headers={"accept-language": "pl"})
    client.force_login(user)
    resp = client.post(f"/focus-groups/{fg.id}/resume/", follow=True)
    assert "Wznowić można tylko" in resp.content.decode()
