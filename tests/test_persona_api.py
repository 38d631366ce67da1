"""API person: generowanie (202), walidacja 422, izolacja użytkowników, filtry listy, stronicowanie, liczba zapytań,
usuwanie i przywracanie, walidacja panelu, eksport.
"""

import csv
import io
import json
import uuid

import pytest

from personas.models import Persona, PersonaRun
from sight.models import Job
from tests.factories import api_client, create_project, create_segment, create_token
from tests.factories import create_panel_persona as create_persona

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client():
    user, token = create_token()
    return user, api_client(token)


def _post(client, url: str, body: object = None):
    return client.post(url, data=json.dumps(body if body is not None else {}), content_type="application/json")


# --- generowanie -----------------------------------------------------------------------------------------------------


def test_generate_returns_202_with_the_job_and_the_run(owner_client):
    user, client = owner_client
    project = create_project(owner=user)
    resp = _post(
        client,
        f"/api/v1/projects/{project.id}/personas/generate",
        {"num_personas": 4, "seed": 9, "segments": False, "use_rag": False, "trait_preset": "innovators"},
    )
    assert resp.status_code == 202, resp.content
    body = resp.json()
    run = PersonaRun.objects.get(pk=body["run_id"])
    assert str(run.job_id) == body["job_id"] and run.project == project
    assert (run.num_requested, run.seed, run.segments_enabled, run.use_rag, run.trait_preset) == (
        4,
        9,
        False,
        False,
        "innovators",
    )
    job = Job.objects.get(pk=body["job_id"])
    assert job.kind == "personas.generate" and job.user == user and job.progress_total == 4


def test_a_second_generation_while_one_runs_is_a_409(owner_client):
    user, client = owner_client
    project = create_project(owner=user)
    url = f"/api/v1/projects/{project.id}/personas/generate"
    assert _post(client, url, {"num_personas": 2}).status_code == 202
    second = _post(client, url, {"num_personas": 2})
    assert second.status_code == 409 and "in progress" in second.json()["detail"]
    assert PersonaRun.objects.filter(project=project).count() == 1


@pytest.mark.parametrize("num_personas", [0, 501, "many", 2.5, None])
def test_a_bad_panel_size_is_a_422_and_starts_nothing(owner_client, num_personas):
    user, client = owner_client
    project = create_project(owner=user)
    resp = _post(client, f"/api/v1/projects/{project.id}/personas/generate", {"num_personas": num_personas})
    assert resp.status_code == 422, resp.content
    assert "num_personas" in json.dumps(resp.json()["detail"])
    assert not PersonaRun.objects.exists() and not Job.objects.exists()


def test_an_unknown_trait_preset_is_a_422(owner_client):
    user, client = owner_client
    project = create_project(owner=user)
    resp = _post(
        client, f"/api/v1/projects/{project.id}/personas/generate", {"num_personas": 3, "trait_preset": "nope"}
    )
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"][-1] == "trait_preset"


# --- izolacja --------------------------------------------------------------------------------------------------------


def test_another_users_project_and_persona_are_404_on_every_endpoint(owner_client):
    _user, client = owner_client
    other = create_project(name="Cudzy")
    persona = create_persona(project=other)
    deleted = create_persona(project=other, deleted_at="2024-01-01T00:00:00Z")
    base = f"/api/v1/projects/{other.id}/personas"
    responses = {
        "generate": _post(client, f"{base}/generate", {"num_personas": 2}),
        "list": client.get(base),
        "validation": client.get(f"{base}/validation"),
        "export": client.get(f"{base}/export?format=csv"),
        "bulk": _post(client, f"{base}/bulk-delete", {"ids": [str(persona.id)]}),
        "detail": client.get(f"/api/v1/personas/{persona.id}"),
        "delete": client.delete(f"/api/v1/personas/{persona.id}"),
        "restore": _post(client, f"/api/v1/personas/{deleted.id}/restore"),
        "needs": _post(client, f"/api/v1/personas/{persona.id}/needs"),
    }
    assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(responses, 404)
    persona.refresh_from_db()
    deleted.refresh_from_db()
    assert persona.deleted_at is None and deleted.deleted_at is not None
    assert not Job.objects.exists() and not PersonaRun.objects.exists()


# --- lista -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def panel(owner_client):
    user, client = owner_client
    project = create_project(owner=user)
    segment = create_segment(project=project, name="Oszczędni")
    people = {
        "ania": create_persona(
            project=project,
            full_name="Anna Kowalska",
            gender="female",
            age=22,
            location="Warszawa",
            occupation="studentka",
            segment=segment,
        ),
        "bartek": create_persona(
            project=project,
            full_name="Bartek Nowak",
            gender="male",
            age=35,
            location="Kraków",
            occupation="inżynier oprogramowania",
        ),
        "celina": create_persona(
            project=project,
            full_name="Celina Annowska",
            gender="female",
            age=48,
            location="Kraków",
            occupation="księgowa",
            segment=segment,
        ),
        "darek": create_persona(
            project=project,
            full_name="Darek Wiśniewski",
            gender="male",
            age=61,
            location="Gdańsk",
            occupation="emerytowany inżynier",
        ),
        "usunieta": create_persona(
            project=project,
            full_name="Ewa Usunięta",
            gender="female",
            age=30,
            location="Warszawa",
            deleted_at="2024-01-01T00:00:00Z",
        ),
    }
    create_persona(full_name="Anna Obca", gender="female", age=22, location="Warszawa")
    return client, project, segment, people


def _names(client, url: str) -> set[str]:
    resp = client.get(url)
    assert resp.status_code == 200, resp.content
    return {item["full_name"] for item in resp.json()["items"]}


def test_list_filters_return_exactly_the_matching_personas(panel):
    client, project, segment, _people = panel
    base = f"/api/v1/projects/{project.id}/personas"
    assert _names(client, base) == {"Anna Kowalska", "Bartek Nowak", "Celina Annowska", "Darek Wiśniewski"}
    assert _names(client, f"{base}?gender=female") == {"Anna Kowalska", "Celina Annowska"}
    assert _names(client, f"{base}?age_min=35&age_max=48") == {"Bartek Nowak", "Celina Annowska"}
    assert _names(client, f"{base}?age_min=49") == {"Darek Wiśniewski"}
    assert _names(client, f"{base}?location=Krak%C3%B3w") == {"Bartek Nowak", "Celina Annowska"}
    assert _names(client, f"{base}?segment={segment.id}") == {"Anna Kowalska", "Celina Annowska"}
    assert _names(client, f"{base}?occupation=IN%C5%BCYNIER") == {"Bartek Nowak", "Darek Wiśniewski"}
    assert _names(client, f"{base}?q=anna") == {"Anna Kowalska"}
    assert _names(client, f"{base}?q=ann") == {"Anna Kowalska", "Celina Annowska"}
    assert _names(client, f"{base}?gender=male&location=Gda%C5%84sk") == {"Darek Wiśniewski"}
    assert _names(client, f"{base}?deleted=true") == {"Ewa Usunięta"}
    assert _names(client, f"{base}?q=%25") == set()
    assert client.get(f"{base}?age_min=abc").status_code == 422
    assert client.get(f"{base}?segment=not-a-uuid").status_code == 422


def test_list_is_paginated(owner_client):
    user, client = owner_client
    project = create_project(owner=user)
    for i in range(30):
        create_persona(project=project, full_name=f"Osoba {i:02d}")
    first = client.get(f"/api/v1/projects/{project.id}/personas").json()
    second = client.get(f"/api/v1/projects/{project.id}/personas?page=2").json()
    assert first["count"] == second["count"] == 30
    assert len(first["items"]) == 25 and len(second["items"]) == 5
    assert {p["full_name"] for p in first["items"]}.isdisjoint({p["full_name"] for p in second["items"]})


@pytest.mark.parametrize("size", [5, 60])
def test_the_list_makes_a_constant_number_of_queries(owner_client, django_assert_max_num_queries, size):
    user, client = owner_client
    project = create_project(owner=user)
    segment = create_segment(project=project)
    for i in range(size):
        create_persona(project=project, segment=segment if i % 2 else None)
    # +1 zapytanie: identyfikatory strony (odroczone złączenie), potem wiersze tylko tej strony.
    with django_assert_max_num_queries(6):
        resp = client.get(f"/api/v1/projects/{project.id}/personas")
    assert resp.status_code == 200 and len(resp.json()["items"]) == min(size, 25)
    assert {p["segment_name"] for p in resp.json()["items"]} == {"Segment A", None}


def test_query_count_does_not_grow_with_the_page_size(owner_client):
    user, client = owner_client
    project = create_project(owner=user)
    segment = create_segment(project=project)
    for i in range(120):
        create_persona(project=project, segment=segment if i % 2 else None)
    client.get(f"/api/v1/projects/{project.id}/personas")  # pierwsze użycie tokenu zapisuje last_used_at
    counts = []
    for page_size in (5, 100):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            resp = client.get(f"/api/v1/projects/{project.id}/personas?page_size={page_size}")
        assert len(resp.json()["items"]) == page_size
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- szczegóły, usuwanie, przywracanie -----------------------------------------------------------------------------


def test_detail_has_the_whole_profile(owner_client):
    user, client = owner_client
    project = create_project(owner=user)
    persona = create_persona(
        project=project,
        segment=create_segment(project=project, name="Miejscy"),
        openness=0.9,
        indulgence=0.1,
        concerns=["opłaty"],
        needs={"pain_points": ["kolejki"]},
    )
    body = client.get(f"/api/v1/personas/{persona.id}").json()
    assert (
        body["full_name"] == persona.full_name
        and body["segment_name"] == "Miejscy"
        and body["project_id"] == str(project.id)
    )
    assert len(body["traits"]) == 11 and body["traits"]["openness"] == 0.9 and body["traits"]["indulgence"] == 0.1
    assert (
        body["concerns"] == ["opłaty"] and body["needs"] == {"pain_points": ["kolejki"]} and body["deleted_at"] is None
    )


def test_soft_delete_hides_a_persona_and_restore_brings_it_back(owner_client):
    user, client = owner_client
    project = create_project(owner=user)
    persona = create_persona(project=project)
    assert client.delete(f"/api/v1/personas/{persona.id}").status_code == 204
    assert client.get(f"/api/v1/personas/{persona.id}").status_code == 404
    assert client.get(f"/api/v1/projects/{project.id}/personas").json()["count"] == 0
    assert client.get(f"/api/v1/projects/{project.id}/personas/validation").json()["computed_on"] == 0
    restored = _post(client, f"/api/v1/personas/{persona.id}/restore")
    assert restored.status_code == 200 and restored.json()["deleted_at"] is None
    assert client.get(f"/api/v1/personas/{persona.id}").status_code == 200
    assert Persona.objects.filter(pk=persona.id).exists()


def test_bulk_delete_ignores_foreign_and_unknown_ids(owner_client):
    user, client = owner_client
    project = create_project(owner=user)
    mine = [create_persona(project=project) for _ in range(3)]
    foreign = create_persona()
    other_project_of_mine = create_persona(project=create_project(owner=user))
    ids = [str(mine[0].id), str(mine[1].id), str(foreign.id), str(other_project_of_mine.id), str(uuid.uuid4())]
    resp = _post(client, f"/api/v1/projects/{project.id}/personas/bulk-delete", {"ids": ids})
    assert resp.status_code == 200 and resp.json() == {"count": 2}
    assert set(Persona.objects.deleted().values_list("id", flat=True)) == {mine[0].id, mine[1].id}
    assert _post(client, f"/api/v1/projects/{project.id}/personas/bulk-delete", {"ids": []}).status_code == 422


# --- walidacja i eksport -------------------------------------------------------------------------------------------


def test_validation_is_computed_on_the_saved_rows(owner_client):
    user, client = owner_client
    project = create_project(owner=user)
    for i, (age_group, gender) in enumerate(
        [("18-34", "female"), ("18-34", "male"), ("35+", "female"), ("35+", "male")]
    ):
        create_persona(
            project=project,
            demographics={"age_group": age_group, "gender": gender},
            gender=gender,
            **dict.fromkeys(Persona.TRAITS, 0.2 + 0.2 * i),
        )
    create_persona(
        project=project, demographics={"age_group": "18-34", "gender": "female"}, deleted_at="2024-01-01T00:00:00Z"
    )
    report = client.get(f"/api/v1/projects/{project.id}/personas/validation").json()
    assert report["computed_on"] == 4
    assert {c["category"]: [b["observed"] for b in c["buckets"]] for c in report["categories"]} == {
        "age_group": [2, 2],
        "gender": [2, 2],
    }
    assert {c["verdict"] for c in report["categories"]} == {"matches"}
    assert report["overall"] == "pass" and report["statements"]["en"][0].startswith("Computed on 4 saved personas")
    assert report["last_run"] is None


def test_csv_export_parses_and_defuses_formula_cells(owner_client):
    user, client = owner_client
    project = create_project(owner=user)
    create_persona(project=project, full_name='=HYPERLINK("http://x")', values=["+1", "spokój"], occupation="@rola")
    create_persona(project=project, full_name="Zwykła Osoba, z przecinkiem")
    create_persona(project=project, full_name="Usunięta", deleted_at="2024-01-01T00:00:00Z")
    resp = client.get(f"/api/v1/projects/{project.id}/personas/export?format=csv")
    assert (
        resp.status_code == 200
        and resp["Content-Type"].startswith("text/csv")
        and "attachment" in resp["Content-Disposition"]
    )
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert [r["full_name"] for r in rows] == ['\'=HYPERLINK("http://x")', "Zwykła Osoba, z przecinkiem"]
    assert rows[0]["values"] == "'+1; spokój" and rows[0]["occupation"] == "'@rola"
    assert set(rows[0]) >= {"id", "openness", "indulgence", "background_story", "segment"}


def test_json_export_parses(owner_client):
    user, client = owner_client
    project = create_project(owner=user, name="Eksport")
    persona = create_persona(project=project, needs={"pain_points": ["a"]})
    resp = client.get(f"/api/v1/projects/{project.id}/personas/export?format=json")
    body = json.loads(resp.content)
    assert body["project"] == {"id": str(project.id), "name": "Eksport"}
    assert [p["id"] for p in body["personas"]] == [str(persona.id)]
    assert body["personas"][0]["demographics"] == persona.demographics and body["personas"][0]["needs"] == {
        "pain_points": ["a"]
    }
    assert client.get(f"/api/v1/projects/{project.id}/personas/export?format=xml").status_code == 422


def test_needs_starts_a_job(owner_client):
    user, client = owner_client
    persona = create_persona(project=create_project(owner=user))
    resp = _post(client, f"/api/v1/personas/{persona.id}/needs?regenerate=true")
    assert resp.status_code == 202
    job = Job.objects.get(pk=resp.json()["job_id"])
    assert job.kind == "personas.needs" and job.params == {"persona_id": str(persona.id), "regenerate": True}
