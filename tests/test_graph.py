"""Graf pojęć na prawdziwym FalkorDB (zawsze) i na Neo4j 5 (gdy ustawiono NEO4J_URI, np. w CI)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from falkordb import FalkorDB

from personas.models import Persona
from sight import graph
from sight.devstack import free_port
from tests.factories import create_project

BACKENDS = [
    pytest.param("falkordb", id="falkordb"),
    pytest.param(
        "neo4j",
        id="neo4j",
        marks=pytest.mark.skipif(
            not os.environ.get("NEO4J_URI"),
            reason="NEO4J_URI is not set; Neo4j 5 runs in CI (.github/workflows/ci.yml)",
        ),
    ),
]

NASTY = [
    "it's",
    "a\\b",
    "C:\\path\\",
    "x' RETURN 1 //",
    '"; MATCH (n) DETACH DELETE n //',
    "}) DETACH DELETE n WITH 1 AS x MATCH (m",
    "`tick`",
    "new\nline\ttab",
    "Zażółć gęślą jaźń 😀",
    "$param {a: 1}",
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, settings) -> Iterator[str]:
    """Backend testu: własny graf FalkorDB na test; w Neo4j sprzątanie po identyfikatorach projektów."""
    settings.GRAPH_BACKEND = request.param
    settings.GRAPH_NAME = name = f"test_{uuid.uuid4().hex}"
    url = settings.FALKORDB_URL  # test może go podmienić na zamknięty port
    graph.close()
    yield request.param
    graph.close()
    if request.param == "falkordb":
        db = FalkorDB.from_url(url)
        if name in db.list_graphs():
            db.select_graph(name).delete()


@pytest.fixture
def new_project(backend: str) -> Iterator[Callable[..., str]]:
    """Fabryka projektów w grafie; w Neo4j usuwa je po teście (jedna baza dla wszystkich testów)."""
    created: list[str] = []

    def make(name: str = "Projekt", language: str = "pl") -> str:
        project_id = str(uuid.uuid4())
        graph.upsert_project(project_id, name, language)
        created.append(project_id)
        return project_id

    yield make
    if backend == "neo4j":
        for project_id in created:
            graph.delete_project(project_id)


def persona_rows(n: int, **extra: object) -> list[dict[str, object]]:
    return [
        {
            "id": str(uuid.uuid4()),
            "name": f"Persona {i}",
            "segment": "a" if i % 2 else "b",
            "demographics": {"age_group": "18-34", "gender": "female"},
            **extra,
        }
        for i in range(n)
    ]


def test_project_round_trip_and_delete(new_project):
    pid = new_project("Badanie cen", "en")
    assert graph.counts(pid) == {"projects": 1, "personas": 0, "concepts": 0, "mentions": 0}
    graph.upsert_personas(pid, persona_rows(3))
    graph.delete_project(pid)
    assert graph.counts(pid) == {"projects": 0, "personas": 0, "concepts": 0, "mentions": 0}


def test_personas_round_trip_with_flattened_demographics(new_project):
    pid = new_project()
    row = {
        "id": uuid.uuid4(),
        "name": "Anna",
        "segment": "young urban",
        "demographics": {
            "age_group": "18-34",
            "Income Level": {"band": "high", "weight": 0.5},
            "kids": 2,
            "smoker": False,
            "skip": None,
        },
    }
    assert graph.upsert_personas(pid, [row]) == 1
    [persona] = graph.project_personas(pid)
    assert persona["id"] == str(row["id"])
    assert persona["name"] == "Anna"
    assert persona["segment"] == "young urban"
    assert persona["demo_age_group"] == "18-34"
    assert persona["demo_income_level_band"] == "high"
    assert persona["demo_income_level_weight"] == 0.5
    assert persona["demo_kids"] == 2
    assert persona["demo_smoker"] is False
    assert "demo_skip" not in persona
    assert isinstance(persona["updated_at"], int) and persona["updated_at"] > 1_700_000_000_000


def test_upserting_twice_never_duplicates_and_replaces_properties(new_project):
    pid = new_project()
    rows = persona_rows(5)
    graph.upsert_personas(pid, rows)
    rows[0]["demographics"] = {"gender": "male"}
    graph.upsert_personas(pid, rows)
    mentions = [
        {"persona_id": rows[0]["id"], "concept": "Cena", "sentiment": -0.5, "seq": 1},
        {"persona_id": rows[1]["id"], "concept": "jakość", "sentiment": 0.5, "seq": 2},
    ]
    fg = uuid.uuid4()
    graph.upsert_concepts(pid, fg, mentions)
    graph.upsert_concepts(pid, fg, [{**mentions[0], "sentiment": 0.25}, mentions[1]])
    graph.upsert_project(pid, "Nowa nazwa", "en")
    assert graph.counts(pid) == {"projects": 1, "personas": 5, "concepts": 2, "mentions": 2}
    changed = next(p for p in graph.project_personas(pid) if p["id"] == rows[0]["id"])
    assert changed["demo_gender"] == "male" and "demo_age_group" not in changed
    price = next(c for c in graph.project_concepts(pid) if c["name"] == "Cena")
    assert price["sentiment"] == 0.25


def test_nasty_values_round_trip_exactly(new_project):
    pid = new_project(NASTY[0], NASTY[3])
    rows = [
        {"id": str(uuid.uuid4()), "name": value, "segment": value, "demographics": {value: value}} for value in NASTY
    ]
    graph.upsert_personas(pid, rows)
    stored = {p["id"]: p for p in graph.project_personas(pid)}
    for row, value in zip(rows, NASTY, strict=True):
        assert stored[row["id"]]["name"] == value
        assert stored[row["id"]]["segment"] == value
        assert value in stored[row["id"]].values()
    graph.upsert_concepts(
        pid,
        uuid.uuid4(),
        [{"persona_id": rows[0]["id"], "concept": value, "sentiment": 0.1, "seq": i} for i, value in enumerate(NASTY)],
    )
    names = {c["name"] for c in graph.project_concepts(pid, limit=100)}
    assert names == {" ".join(v.split()) for v in NASTY}
    assert graph.counts(pid)["personas"] == len(NASTY)


def test_large_batches_are_chunked_and_counted(new_project):
    pid = new_project()
    rows = persona_rows(2000, segment="x" * 200)
    assert graph.upsert_personas(pid, rows) == 2000
    fg = uuid.uuid4()
    mentions = [
        {"persona_id": row["id"], "concept": f"pojęcie {i % 50}", "sentiment": 1 if i % 2 else -1, "seq": i}
        for i, row in enumerate(rows)
    ]
    assert graph.upsert_concepts(pid, fg, mentions) == 2000
    assert graph.counts(pid) == {"projects": 1, "personas": 2000, "concepts": 50, "mentions": 2000}
    top = graph.project_concepts(pid, limit=5)
    assert len(top) == 5 and all(c["mentions"] == 40 and c["personas"] == 40 for c in top)
    graph.clear_project(pid)
    assert graph.counts(pid) == {"projects": 1, "personas": 0, "concepts": 0, "mentions": 0}


def test_concepts_are_normalised_and_ranked_by_mentions(new_project):
    pid = new_project()
    a, b, c = (str(uuid.uuid4()) for _ in range(3))
    graph.upsert_personas(pid, [{"id": a, "name": "A"}, {"id": b, "name": "B"}])
    fg = uuid.uuid4()
    mentions = [
        {"persona_id": a, "concept": "Cena", "sentiment": -1.0, "seq": 1},
        {"persona_id": b, "concept": "  cena. ", "sentiment": -0.5, "seq": 2},
        {"persona_id": b, "concept": "CENA", "sentiment": 0.0, "seq": 3},
        {"persona_id": a, "concept": "Obsługa klienta", "sentiment": 5, "seq": 4},
        {"persona_id": c, "concept": "Dostawa", "sentiment": None, "seq": 5},
        {"persona_id": a, "concept": " ... ", "sentiment": 1, "seq": 6},
    ]
    assert graph.upsert_concepts(pid, fg, mentions) == 5
    top = graph.project_concepts(pid)
    assert [(t["name"], t["mentions"], t["personas"]) for t in top] == [
        ("Cena", 3, 2),
        ("Dostawa", 1, 1),
        ("Obsługa klienta", 1, 1),
    ]
    assert top[0]["sentiment"] == -0.5
    assert top[1]["sentiment"] is None
    assert top[2]["sentiment"] == 1.0  # przycięte do [-1, 1]
    assert graph.counts(pid)["personas"] == 3  # persona spoza listy dostaje węzeł zastępczy
    assert graph.concept_key("  Cena   Produktu! ") == "cena produktu"
    assert graph.project_concepts(pid, limit=1)[0]["name"] == "Cena"


def test_persona_agreements_compare_sentiment_signs(new_project):
    pid = new_project()
    a, b = sorted(str(uuid.uuid4()) for _ in range(2))
    fg = uuid.uuid4()
    graph.upsert_concepts(
        pid,
        fg,
        [
            {"persona_id": a, "concept": "cena", "sentiment": 0.8, "seq": 1},
            {"persona_id": b, "concept": "cena", "sentiment": 0.4, "seq": 2},
            {"persona_id": a, "concept": "dostawa", "sentiment": -0.8, "seq": 3},
            {"persona_id": b, "concept": "dostawa", "sentiment": 0.9, "seq": 4},
            {"persona_id": b, "concept": "opakowanie", "sentiment": 0.9, "seq": 5},
        ],
    )
    assert graph.persona_agreements(pid) == [{"persona_a": a, "persona_b": b, "shared": 2, "agree": 1, "disagree": 1}]


def test_search_concepts_is_scoped_to_the_project(new_project):
    pid, other = new_project(), new_project()
    persona = str(uuid.uuid4())
    names = ["Cena produktu", "Łatwość użycia", "Jakość obsługi", "x' RETURN 1 //"]
    graph.upsert_concepts(
        pid,
        uuid.uuid4(),
        [{"persona_id": persona, "concept": n, "sentiment": 0, "seq": i} for i, n in enumerate(names)],
    )
    graph.upsert_concepts(
        other, uuid.uuid4(), [{"persona_id": str(uuid.uuid4()), "concept": "Cena produktu", "sentiment": 0, "seq": 1}]
    )
    hits = graph.search_concepts(pid, "cen")
    assert [h["name"] for h in hits] == ["Cena produktu"]
    assert hits[0]["score"] == 1.0
    assert [h["name"] for h in graph.search_concepts(pid, "ŁATWOŚĆ")] == ["Łatwość użycia"]
    assert [h["name"] for h in graph.search_concepts(pid, "jakość obsł")] == ["Jakość obsługi"]
    assert graph.search_concepts(pid, "x' RETURN 1 // AND OR * ~ \" ( [") == []  # składnia zapytań nie przecieka
    assert graph.search_concepts(pid, "' \" *") == []
    assert all(0 < h["score"] <= 1 for h in graph.search_concepts(pid, "o"))


def test_clear_focus_group_removes_its_mentions_and_orphaned_concepts(new_project):
    pid = new_project()
    persona = str(uuid.uuid4())
    fg1, fg2 = uuid.uuid4(), uuid.uuid4()
    graph.upsert_concepts(
        pid,
        fg1,
        [
            {"persona_id": persona, "concept": "cena", "sentiment": 1, "seq": 1},
            {"persona_id": persona, "concept": "tylko w pierwszej", "sentiment": 1, "seq": 2},
        ],
    )
    graph.upsert_concepts(pid, fg2, [{"persona_id": persona, "concept": "cena", "sentiment": -1, "seq": 1}])
    graph.clear_focus_group(pid, fg1)
    assert [(c["name"], c["mentions"], c["sentiment"]) for c in graph.project_concepts(pid)] == [("cena", 1, -1.0)]
    assert graph.counts(pid) == {"projects": 1, "personas": 1, "concepts": 1, "mentions": 1}


def test_falkordb_graph_lost_under_a_running_process_is_recreated(new_project, backend, settings):
    if backend != "falkordb":
        pytest.skip("FalkorDB keeps a graph as one Redis key that FLUSHDB or a restart without persistence can drop")
    pid = new_project()
    FalkorDB.from_url(settings.FALKORDB_URL).select_graph(settings.GRAPH_NAME).delete()
    assert graph.counts(pid) == {"projects": 0, "personas": 0, "concepts": 0, "mentions": 0}
    graph.upsert_concepts(
        pid, uuid.uuid4(), [{"persona_id": str(uuid.uuid4()), "concept": "cena", "sentiment": 1, "seq": 1}]
    )
    assert [h["name"] for h in graph.search_concepts(pid, "cena")] == ["cena"]


def test_bootstrap_is_idempotent_and_health_is_ok(backend):
    graph.bootstrap()
    graph.bootstrap()
    assert graph.health() == {"ok": True}


def test_one_client_is_shared_by_threads(new_project):
    pid = new_project()
    graph.close()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: (graph.counts(pid)["projects"], id(graph._adapter())), range(32)))
    assert {r[0] for r in results} == {1}
    assert len({r[1] for r in results}) == 1


@pytest.mark.django_db
def test_rebuild_from_database_rewrites_the_graph_idempotently(new_project):
    project = create_project(name="Z bazy: it's", language="en")
    stale = new_project("Nie ma go w PostgreSQL")
    graph.upsert_project(project.id, "stara nazwa", "pl")
    graph.upsert_personas(project.id, persona_rows(3))
    graph.upsert_concepts(
        project.id, uuid.uuid4(), [{"persona_id": str(uuid.uuid4()), "concept": "cena", "sentiment": 1, "seq": 1}]
    )
    Persona.objects.create(project=project, full_name="Anna it's", demographics={"age_group": "18-34"})
    Persona.objects.create(project=project, full_name="Usunięta", index=1, deleted_at=timezone.now())
    try:
        first = graph.rebuild_from_database()
        second = graph.rebuild_from_database()
        assert first["projects"] == second["projects"] >= 1
        assert first["removed"] >= 1 and second["removed"] == 0
        assert graph.counts(stale)["projects"] == 0
        assert graph.counts(project.id) == {"projects": 1, "personas": 1, "concepts": 0, "mentions": 0}
        [persona] = graph.project_personas(project.id)
        assert (persona["name"], persona["segment"], persona["demo_age_group"]) == ("Anna it's", "", "18-34")
        out = StringIO()
        call_command("rebuild_graph", "--project", str(project.id), stdout=out)
        assert out.getvalue().split() == ["projects=1", "personas=1", "concepts=0", "mentions=0", "removed=0"]
        gone = uuid.uuid4()
        graph.upsert_project(gone, "usunięty w PostgreSQL", "pl")
        call_command("rebuild_graph", "--project", str(gone), stdout=StringIO())
        assert graph.counts(gone)["projects"] == 0
        with pytest.raises(CommandError, match="UUID"):
            call_command("rebuild_graph", "--project", "nope")
    finally:
        graph.delete_project(project.id)


@pytest.fixture
def graph_down(backend: str, settings) -> str:
    """Ustawienia wskazujące zamknięty port."""
    port = free_port()
    settings.FALKORDB_URL = f"redis://127.0.0.1:{port}"
    settings.NEO4J_URI = f"bolt://127.0.0.1:{port}"
    graph.close()
    return backend


def test_unavailable_server_raises_graph_unavailable(graph_down):
    pid = str(uuid.uuid4())
    calls = [lambda: graph.upsert_project(pid, "x", "pl"), lambda: graph.project_concepts(pid)]
    if graph_down == "falkordb":  # Neo4j ponawia każdą transakcję przez RETRY_SECONDS: wystarczą zapis i odczyt
        calls += [
            graph.bootstrap,
            lambda: graph.counts(pid),
            lambda: graph.upsert_concepts(pid, pid, [{"persona_id": pid, "concept": "cena", "seq": 1}]),
            lambda: graph.search_concepts(pid, "cena"),
            lambda: graph.clear_project(pid),
        ]
    for call in calls:
        with pytest.raises(graph.GraphUnavailable, match="unreachable"):
            call()
    state = graph.health()
    assert state["ok"] is False and "unreachable" in state["error"]


@pytest.mark.django_db
def test_health_endpoint_reports_the_graph(backend):
    resp = Client().get("/api/v1/health")
    assert resp.status_code == 200
    assert resp.json()["graph"] == {"backend": backend, "ok": True}


@pytest.mark.django_db
def test_health_endpoint_reports_a_graph_outage_without_failing(graph_down):
    resp = Client().get("/api/v1/health")
    body = resp.json()
    assert resp.status_code == 200  # 503 tylko przy awarii PostgreSQL
    assert body["ok"] is False
    assert body["graph"]["backend"] == graph_down and body["graph"]["ok"] is False and body["graph"]["error"]


@pytest.mark.django_db(transaction=True)
def test_deleting_a_project_through_the_api_removes_it_from_the_graph(settings):
    from tests.factories import api_client, create_project, create_token

    settings.GRAPH_NAME = f"test_delete_{uuid.uuid4().hex[:8]}"
    graph.close()
    user, token = create_token()
    project = create_project(owner=user)
    graph.upsert_project(project.id, project.name, project.language)
    assert graph.counts(project.id)["projects"] == 1
    assert api_client(token).delete(f"/api/v1/projects/{project.id}").status_code == 204
    assert graph.counts(project.id)["projects"] == 0
