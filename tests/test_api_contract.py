"""Kontrakt API: schemat OpenAPI wymienia każdy kod, jaki operacja zwraca, i mówi to, co serwer sprawdza."""

import json

import pytest
from django.test import Client

import config
from tests.conftest import api_client, create_project, create_token

pytestmark = pytest.mark.django_db


def openapi():
    return Client().get("/api/v1/openapi.json").json()


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_every_operation_documents_the_errors_it_can_return_with_the_shared_shape():
    schema = openapi()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            expected = {"503"}
            expected |= {"401"} if operation.get("security") else set()
            expected |= {"404"} if "{" in path else set()
            expected |= {"422"} if operation.get("parameters") or operation.get("requestBody") else set()
            expected |= {"400"} if operation.get("requestBody") else set()
            assert expected <= codes, (method, path, codes)
            for code in expected:
                ref = operation["responses"][code]["content"]["application/json"]["schema"]["$ref"]
                assert ref == "#/components/schemas/ErrorOut"
    run = schema["paths"]["/api/v1/focus-groups/{focus_group_id}/run"]["post"]["responses"]
    assert {"202", "409"} <= set(run)


def test_bodies_accept_only_known_fields_in_a_json_object():
    schema = openapi()["components"]["schemas"]
    assert all(schema[name]["additionalProperties"] is False for name in ("ProjectIn", "FocusGroupIn", "GenerateIn"))
    _, token = create_token()
    client = api_client(token)
    body = {"name": "X", "target_demographics": {"age": {"a": 1.0}}}
    assert post(client, "/api/v1/projects", {**body, "owner": 1}).status_code == 422
    assert post(client, "/api/v1/projects", [body]).status_code == 422
    assert post(client, "/api/v1/projects", {**body, "target_sample_size": "20"}).status_code == 422
    assert post(client, "/api/v1/projects", {**body, "target_sample_size": 20.0}).status_code == 201


def test_demographic_weights_are_relative_and_come_back_as_shares():
    _, token = create_token()
    resp = post(api_client(token), "/api/v1/projects", {"name": "X", "target_demographics": {"age": {"a": 1, "b": 3}}})
    assert resp.status_code == 201 and resp.json()["target_demographics"] == {"age": {"a": 0.25, "b": 0.75}}
    demographics = openapi()["components"]["schemas"]["ProjectIn"]["properties"]["target_demographics"]
    assert demographics["maxProperties"] == 12 and "pattern" in demographics["propertyNames"]
    assert demographics["additionalProperties"]["additionalProperties"]["exclusiveMinimum"] == 0


def test_a_patch_may_omit_but_not_null_a_required_field():
    user, token = create_token()
    project = create_project(owner=user)
    url = f"/api/v1/projects/{project.id}"
    patch = openapi()["components"]["schemas"]["ProjectPatch"]["properties"]
    assert patch["name"]["type"] == "string" and "default" not in patch["name"]
    client = api_client(token)
    for field in ("name", "language", "target_demographics", "target_sample_size"):
        resp = client.patch(url, data=json.dumps({field: None}), content_type="application/json")
        assert resp.status_code == 422 and resp.json()["detail"][0]["loc"][-1] == field
    resp = client.patch(url, data=json.dumps({"token_budget": None}), content_type="application/json")
    assert resp.status_code == 200


def test_limits_from_the_configuration_are_stated_in_the_schema():
    features = config.load_features()
    schema = openapi()["components"]["schemas"]
    generate = schema["GenerateIn"]["properties"]
    assert generate["num_personas"]["maximum"] == features.personas.max_per_run
    assert generate["trait_preset"]["enum"] == ["", *sorted(features.personas.trait_presets)]
    assert schema["FocusGroupIn"]["properties"]["questions"]["maxItems"] == features.focus_groups.max_questions
