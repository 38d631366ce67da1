"""Pojęcia z dyskusji w grafie (FalkorDB zawsze, Neo4j gdy skonfigurowany): odbudowa, izolacja, awaria grafu, strony."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from focus_groups import concepts
from focus_groups import graph as fg_graph
from focus_groups.models import TurnEmotion, TurnRelation
from sight import graph
from sight.devstack import free_port
from sight.models import Job
from tests.factories import create_project, create_user
from tests.test_concepts import discussion, mention, run_worker, say
from tests.test_graph import backend, graph_down  # noqa: F401 - fikstury parametryzowane backendem

pytestmark = pytest.mark.django_db


def analysed_discussion(project=None):
    """Grupa z trzema wzmiankami, jednym odniesieniem i dwiema emocjami zapisanymi w PostgreSQL."""
    fg, p = discussion(project=project)
    first = say(fg, p["Anna"], "Cena jest za wysoka.")
    second = say(fg, p["Bartek"], "Cena? Jakość jest ważniejsza.")
    mention(first, "cena", -0.8, "Cena jest za wysoka")
    mention(second, "ceny", 0.1, "Cena?")
    mention(second, "jakość", 0.9, "Jakość jest ważniejsza")
    TurnRelation.objects.create(event=second, target=first, focus_group=fg, relation="disagree")
    TurnEmotion.objects.create(event=first, focus_group=fg, emotion="frustration")
    TurnEmotion.objects.create(event=second, focus_group=fg, emotion="interest")
    return fg


def test_rebuild_writes_the_extracted_evidence_and_gives_the_same_graph_twice(backend):  # noqa: F811
    project = create_project()
    fg = analysed_discussion(project)
    try:
        fg_graph.write_focus_group(fg)
        written = graph.counts(project.id)
        first = graph.rebuild_from_database(project.id)
        second = graph.rebuild_from_database(project.id)
        assert first == second
        after = graph.counts(project.id)
        assert (
            written
            == after
            == {
                "projects": 1,
                "focus_groups": 1,
                "personas": 3,
                "concepts": 2,  # „cena” i „ceny” to jedno pojęcie
                "emotions": 2,
                "mentions": 3,
                "responses": 1,
                "feelings": 2,
            }
        )
        assert [(c["name"], c["mentions"], c["personas"]) for c in graph.focus_group_concepts(project.id, fg.id)] == [
            ("cena", 2, 2),
            ("jakość", 1, 1),
        ]
        quotes = {m["quote"] for m in graph.focus_group_mentions(project.id, fg.id)}
        assert quotes == {"Cena jest za wysoka", "Cena?", "Jakość jest ważniejsza"}
    finally:
        graph.delete_project(project.id)


def test_rebuilding_a_project_of_several_analysed_groups_twice_gives_identical_node_and_edge_counts(backend):  # noqa: F811
    project = create_project()
    groups = [analysed_discussion(project) for _ in range(3)]
    try:
        for fg in groups:
            fg_graph.write_focus_group(fg)
        written = (graph.counts(project.id), graph.totals(project.id))
        first = graph.rebuild_from_database(project.id)
        after_first = (graph.counts(project.id), graph.totals(project.id))
        second = graph.rebuild_from_database(project.id)
        after_second = (graph.counts(project.id), graph.totals(project.id))
        assert first == second and written == after_first == after_second
        counts, totals = after_second
        # 3 grupy × (3 uczestników, 3 wzmianki, 1 odniesienie, 2 emocje); pojęcia i emocje wspólne w projekcie
        assert (counts["focus_groups"], counts["personas"], counts["concepts"], counts["emotions"]) == (3, 9, 2, 2)
        assert (counts["mentions"], counts["responses"], counts["feelings"]) == (9, 3, 6)
        # węzły: projekt + 3 grupy + 9 person + 2 pojęcia + 2 emocje; relacje: powyższe + 9 udziałów w grupach
        assert totals == {"nodes": 17, "edges": 9 + 3 + 6 + 9}
    finally:
        graph.delete_project(project.id)


def test_two_projects_with_the_same_concepts_never_share_graph_nodes(backend):  # noqa: F811
    one, two = create_project(), create_project()
    try:
        fg_graph.write_focus_group(analysed_discussion(one))
        fg_graph.write_focus_group(analysed_discussion(two))
        assert graph.counts(one.id)["concepts"] == graph.counts(two.id)["concepts"] == 2
        graph.delete_project(one.id)
        assert graph.counts(two.id)["mentions"] == 3
        assert [c["name"] for c in graph.project_concepts(two.id)] == ["cena", "jakość"]
    finally:
        graph.delete_project(one.id)
        graph.delete_project(two.id)


def test_extraction_with_the_graph_down_keeps_everything_in_postgresql_and_the_page_says_so(
    graph_down,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    settings.SIGHT_LLM_PROVIDER = "offline"
    user = create_user()
    fg, p = discussion(project=create_project(owner=user))
    say(fg, p["Anna"], "Cena jest za wysoka. Jakość jest dobra.")
    say(fg, p["Bartek"], "Dostawa była szybka.")
    with django_capture_on_commit_callbacks(execute=True):
        job = concepts.start_extraction(fg, user=user)
    run_worker()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["graph"] == "unavailable" and job.result["done"] == 2
    assert fg.concept_mentions.exists()
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    page = client.get(f"/focus-groups/{fg.id}/insights/")
    assert page.status_code == 200
    assert "The graph store is unavailable" in page.content.decode()
    assert "Key concepts" in page.content.decode()


def test_insight_and_compare_pages_are_only_for_the_owner(backend):  # noqa: F811
    user = create_user()
    project = create_project(owner=user)
    fg, other = analysed_discussion(project), analysed_discussion(project)
    strangers = analysed_discussion()
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    page = client.get(f"/focus-groups/{fg.id}/insights/?question=0").content.decode()
    assert "cena" in page and f"#event-{fg.events.order_by('seq').first().seq}" in page
    assert "The graph store is unavailable" not in page
    compare = client.get(f"/focus-groups/{fg.id}/compare/?with={other.id}")
    assert compare.status_code == 200 and "Jaccard" in compare.content.decode()
    assert client.get(f"/focus-groups/{strangers.id}/insights/").status_code == 404
    assert client.get(f"/focus-groups/{fg.id}/compare/?with={strangers.id}").status_code == 404
    assert client.get(f"/focus-groups/{fg.id}/compare/?with={uuid.uuid4()}").status_code == 404
    assert client.post(f"/focus-groups/{strangers.id}/insights/extract/").status_code == 404
    assert client.post(f"/focus-groups/{fg.id}/insights/extract/", {"force": "1"}).status_code == 302
    assert Job.objects.filter(kind=concepts.JOB_KIND, params__force=True).count() == 1
    anonymous = Client().get(f"/focus-groups/{fg.id}/insights/")
    assert anonymous.status_code == 302


def test_the_graph_endpoint_reads_the_evidence_and_answers_503_when_the_graph_is_down(backend, settings):  # noqa: F811
    from tests.factories import api_client, create_token

    user, token = create_token()
    project = create_project(owner=user)
    fg = analysed_discussion(project)
    try:
        fg_graph.write_focus_group(fg)
        body = api_client(token).get(f"/api/v1/focus-groups/{fg.id}/graph").json()
        assert [(c["name"], c["mentions"]) for c in body["concepts"]] == [("cena", 2), ("jakość", 1)]
        assert [m["seq"] for m in body["mentions"]] == sorted(m["seq"] for m in body["mentions"])
        assert api_client(create_token()[1]).get(f"/api/v1/focus-groups/{fg.id}/graph").status_code == 404
        graph.delete_project(project.id)
        if backend == "falkordb":  # Neo4j ponawia połączenie przez RETRY_SECONDS; wystarczy jeden silnik
            settings.FALKORDB_URL = f"redis://127.0.0.1:{free_port()}"
            graph.close()
            down = api_client(token).get(f"/api/v1/focus-groups/{fg.id}/graph")
            assert down.status_code == 503 and "unavailable" in down.json()["detail"]
            assert api_client(token).get(f"/api/v1/focus-groups/{fg.id}/insights").status_code == 200
    finally:
        graph.close()
