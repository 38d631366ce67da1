"""Czysty tekst: jeden typ dla schematów i parametrów zapytań, jedna funkcja sprawdzająca NUL."""

import json

import pydantic
import pytest

from personas.generation import PersonaProfile
from sight.text import CleanText, ModelText, has_nul
from tests.factories import api_client, create_persona, create_project, create_token


def test_clean_text_strips_edges_and_refuses_nul_while_model_text_drops_it():
    clean = pydantic.TypeAdapter(CleanText)
    assert clean.validate_python("  Warszawa \n") == "Warszawa"
    with pytest.raises(pydantic.ValidationError, match="NUL"):
        clean.validate_python("Wars\x00zawa")
    assert pydantic.TypeAdapter(ModelText).validate_python(" Ala\x00 ") == "Ala"
    assert has_nul("a\x00") and not has_nul("a") and not has_nul(None)


def test_the_openapi_schema_says_text_may_not_contain_nul():
    assert pydantic.TypeAdapter(CleanText).json_schema()["pattern"] == "^[^\\x00]*$"
    # Schemat dla dostawcy LLM nie dostaje wzorca (nie każdy dostawca go przyjmuje).
    assert "pattern" not in PersonaProfile.model_json_schema()["properties"]["full_name"]


@pytest.mark.django_db
@pytest.mark.parametrize("param", ["location", "gender", "occupation", "q"])
def test_a_nul_in_a_persona_filter_is_a_422_not_a_server_error(param):
    user, token = create_token()
    project = create_project(owner=user)
    create_persona(project=project, location="Warszawa")
    resp = api_client(token).get(f"/api/v1/projects/{project.id}/personas", {param: "Wars\x00zawa"})
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["query", param]


@pytest.mark.django_db
def test_a_nul_anywhere_in_focus_group_text_is_a_422_at_its_field():
    user, token = create_token()
    project = create_project(owner=user)
    people = [create_persona(project=project) for _ in range(2)]
    body = {
        "name": "Grupa",
        "questions": [{"text": "Czy?", "probes": ["a\x00"]}],
        "participants": {"persona_ids": [str(p.id) for p in people]},
    }
    resp = api_client(token).post(
        f"/api/v1/projects/{project.id}/focus-groups", data=json.dumps(body), content_type="application/json"
    )
    loc = resp.json()["detail"][0]["loc"]
    assert resp.status_code == 422 and loc[2:4] == ["questions", 0] and loc[-2:] == ["probes", 0]
    body["questions"][0]["probes"] = ["  Dlaczego?  "]
    resp = api_client(token).post(
        f"/api/v1/projects/{project.id}/focus-groups", data=json.dumps(body), content_type="application/json"
    )
    assert resp.status_code == 201 and resp.json()["questions"] == [
        {"text": "Czy?", "probes": ["Dlaczego?"], "proposition": ""}
    ]
