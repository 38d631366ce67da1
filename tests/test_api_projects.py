"""API projektów: CRUD z tokenem, walidacja 422 przy polach, izolacja użytkowników, sesja z CSRF."""

import json
import math

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client

from sight.models import ApiToken, Project
from tests.conftest import DEMOGRAPHICS, api_client, create_project, create_token, create_user

pytestmark = pytest.mark.django_db


def _post(client: Client, url: str, body: object, method: str = "post"):
    return getattr(client, method)(url, data=json.dumps(body, allow_nan=True), content_type="application/json")


def test_token_client_can_create_list_read_update_and_delete_a_project():
    _, token = create_token()
    client = api_client(token)
    created = _post(
        client,
        "/api/v1/projects",
        {"name": "Kawa", "language": "en", "target_demographics": DEMOGRAPHICS, "target_sample_size": 30},
    )
    assert created.status_code == 201, created.content
    project_id = created.json()["id"]
    assert client.get("/api/v1/projects").json()["count"] == 1
    assert client.get(f"/api/v1/projects/{project_id}").json()["name"] == "Kawa"
    patched = _post(client, f"/api/v1/projects/{project_id}", {"notes": "po wywiadach"}, method="patch")
    assert patched.status_code == 200 and patched.json()["notes"] == "po wywiadach" and patched.json()["name"] == "Kawa"
    replaced = _post(
        client,
        f"/api/v1/projects/{project_id}",
        {"name": "Herbata", "target_demographics": {"gender": {"f": 1.0}}},
        method="put",
    )
    assert replaced.json()["name"] == "Herbata" and replaced.json()["target_demographics"] == {"gender": {"f": 1.0}}
    assert client.delete(f"/api/v1/projects/{project_id}").status_code == 204
    assert client.get(f"/api/v1/projects/{project_id}").status_code == 404
    assert not Project.objects.exists()


@pytest.mark.parametrize(
    ("demographics", "needle"),
    [
        ({"age": {"a": -0.5, "b": 1.5}}, "greater than 0"),
        ({"age": {"a": 0, "b": 1}}, "greater than 0"),
        ({"age": {"a": 2e6}}, "less than or equal"),
        ({}, "at least 1 item"),
        ({"age": {}}, "at least 1 item"),
        ({"age": {"a": "0.5", "b": 0.5}}, "valid number"),
        ({"age": {"a": True}}, "valid number"),
        ({f"c{i}": {"a": 1.0} for i in range(13)}, "at most 12 items"),
        ({"age": {f"b{i}": 1 / 41 for i in range(41)}}, "at most 40 items"),
        ({"x" * 65: {"a": 1.0}}, "at most 64 characters"),
        ({"age\x00": {"a": 1.0}}, "pattern"),
        ({" ": {"a": 1.0}}, "pattern"),
    ],
)
def test_invalid_demographics_are_rejected_with_a_field_level_422(demographics, needle):
    _, token = create_token()
    resp = _post(api_client(token), "/api/v1/projects", {"name": "X", "target_demographics": demographics})
    assert resp.status_code == 422, resp.content
    detail = resp.json()["detail"]
    assert detail[0]["loc"][2] == "target_demographics"
    assert needle.lower() in detail[0]["msg"].lower()


@pytest.mark.parametrize("weight", [math.nan, math.inf])
def test_weights_that_are_not_finite_numbers_are_rejected(weight):
    _, token = create_token()
    body = '{"name": "X", "target_demographics": {"age": {"a": %s}}}' % ("NaN" if math.isnan(weight) else "Infinity")
    resp = api_client(token).post("/api/v1/projects", data=body, content_type="application/json")
    assert resp.status_code in (400, 422), resp.content


def test_weights_within_a_millionth_of_one_are_accepted():
    _, token = create_token()
    resp = _post(
        api_client(token),
        "/api/v1/projects",
        {"name": "X", "target_demographics": {"age": {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3 + 5e-7}}},
    )
    assert resp.status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "x" * 256),
        ("name", ""),
        ("name", "a\x00b"),
        ("description", "d" * 2001),
        ("language", "de"),
        ("target_sample_size", 0),
        ("target_sample_size", 1001),
        ("token_budget", -1),
    ],
)
def test_bad_project_fields_give_422_naming_the_field(field, value):
    _, token = create_token()
    body = {"name": "ok", "target_demographics": DEMOGRAPHICS, field: value}
    resp = _post(api_client(token), "/api/v1/projects", body)
    assert resp.status_code == 422
    assert field in resp.json()["detail"][0]["loc"]


def test_malformed_json_is_a_client_error_not_a_500():
    _, token = create_token()
    resp = api_client(token).post("/api/v1/projects", data="{not json", content_type="application/json")
    assert 400 <= resp.status_code < 500


def test_another_users_project_is_404_for_read_update_and_delete():
    project = create_project()
    _, token = create_token()
    client = api_client(token)
    url = f"/api/v1/projects/{project.id}"
    assert client.get(url).status_code == 404
    assert _post(client, url, {"name": "hijack"}, method="patch").status_code == 404
    assert client.delete(url).status_code == 404
    project.refresh_from_db()
    assert project.name != "hijack"


def test_requests_without_valid_credentials_get_401():
    assert Client().get("/api/v1/projects").status_code == 401
    assert api_client("sight_not-a-real-token").get("/api/v1/projects").status_code == 401


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_any_method_without_credentials_is_a_401_asking_for_a_bearer_token(method):
    project = create_project()
    url = f"/api/v1/projects/{project.id}" if method != "post" else "/api/v1/projects"
    client = Client(enforce_csrf_checks=True)
    body = {"data": "{}", "content_type": "application/json"} if method in ("post", "put", "patch") else {}
    resp = getattr(client, method)(url, **body)
    assert resp.status_code == 401 and resp["WWW-Authenticate"] == "Bearer" and "Bearer" in resp.json()["detail"]


def test_a_revoked_token_stops_working():
    user = create_user()
    token, raw = ApiToken.issue(user=user, name="ci")
    assert api_client(raw).get("/api/v1/projects").status_code == 200
    token.revoke()
    assert api_client(raw).get("/api/v1/projects").status_code == 401


def test_tokens_are_stored_hashed_and_record_last_use():
    user = create_user()
    token, raw = ApiToken.issue(user=user, name="ci")
    assert raw not in (token.token_hash, token.prefix) and raw.startswith(token.prefix)
    api_client(raw).get("/api/v1/projects")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_session_api_calls_need_the_csrf_token_for_changes():
    user = create_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.get("/api/v1/projects").status_code == 200
    body = json.dumps({"name": "X", "target_demographics": DEMOGRAPHICS})
    assert client.post("/api/v1/projects", data=body, content_type="application/json").status_code == 403
    csrf_value = _get_new_csrf_string()
    client.cookies["csrftoken"] = csrf_value
    resp = client.post(
        "/api/v1/projects", data=body, content_type="application/json", headers={"x-csrftoken": csrf_value}
    )
    assert resp.status_code == 201


def test_project_list_is_paginated_and_query_count_does_not_grow(django_assert_max_num_queries):
    user, token = create_token()
    for _ in range(30):
        create_project(owner=user)
    client = api_client(token)
    with django_assert_max_num_queries(6):
        first = client.get("/api/v1/projects?page=1").json()
    assert first["count"] == 30 and len(first["items"]) == 25
    assert len(client.get("/api/v1/projects?page=2").json()["items"]) == 5


def test_health_reports_every_service_without_auth():
    resp = Client().get("/api/v1/health")
    body = resp.json()
    assert resp.status_code == 200
    assert body["database"]["ok"] and body["redis"]["ok"]
    assert {"graph", "llm"} <= set(body)


def test_openapi_docs_are_served():
    assert Client().get("/api/v1/openapi.json").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_health_is_503_when_the_database_is_down():
    from django.db import connections

    from sight.devstack import free_port

    conn = connections["default"]
    saved = dict(conn.settings_dict)
    conn.close()
    conn.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
    try:
        resp = Client().get("/api/v1/health")
    finally:
        conn.close()
        conn.settings_dict.clear()
        conn.settings_dict.update(saved)
    assert resp.status_code == 503
    assert resp.json()["database"]["ok"] is False and resp.json()["redis"]["ok"] is True


@pytest.mark.django_db(transaction=True)
def test_api_answers_503_json_without_a_stack_trace_when_the_database_is_down():
    from django.db import connections

    from sight.devstack import free_port

    user, token = create_token()
    client = api_client(token)
    conn = connections["default"]
    saved = dict(conn.settings_dict)
    conn.close()
    conn.settings_dict.update(HOST="127.0.0.1", PORT=str(free_port()))
    try:
        resp = client.get("/api/v1/projects")
    finally:
        conn.close()
        conn.settings_dict.clear()
        conn.settings_dict.update(saved)
    assert resp.status_code == 503 and "Traceback" not in resp.content.decode()
    assert client.get("/api/v1/projects").status_code == 200


def test_pages_and_api_send_security_headers(logged_client):
    for response in (logged_client.get("/projects/"), logged_client.get("/api/v1/projects")):
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert (
            response.headers["X-Content-Type-Options"] == "nosniff"
            and response.headers["Referrer-Policy"] == "same-origin"
        )
        assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("query", ["page=5335843328705779946487808", "page=0", "page=1&page_size=100000", "page=abc"])
def test_absurd_pagination_is_a_422_not_a_500(query):
    user, token = create_token()
    create_project(owner=user)
    assert api_client(token).get(f"/api/v1/projects?{query}").status_code == 422


@pytest.mark.parametrize(
    "field", ["name", "description", "notes", "language", "target_demographics", "target_sample_size"]
)
def test_patching_a_field_to_null_is_a_422_or_accepted_never_a_500(field):
    user, token = create_token()
    project = create_project(owner=user)
    resp = _post(api_client(token), f"/api/v1/projects/{project.id}", {field: None}, method="patch")
    assert resp.status_code in (200, 422)
