"""Graf dokumentów i „zapytaj bazę wiedzy”: ekstrakcja z cytatami, graf i jego odbudowa (FalkorDB zawsze, Neo4j gdy
skonfigurowany), izolacja projektów, tylko stałe szablony Cypher, sprawdzane cytowania, awaria grafu, dostęp, API.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from langchain_core.messages import HumanMessage, SystemMessage

from rag import ask, docgraph
from rag import graph as doc_graph
from rag.models import Chunk, ChunkExtraction, DocEntity, DocEvidence, DocRelation, Document
from sight import graph, jobs
from sight.models import Job
from tests.factories import api_client, create_project, create_token, create_user
from tests.test_graph import backend, graph_down  # noqa: F401 - fikstury parametryzowane backendem

pytestmark = pytest.mark.django_db

ALLEGRO = "Firma Allegro sprzedaje elektronikę w Warszawie. Klienci Allegro cenią szybką dostawę do domu."
CERAMIKA = "Sklep Allegro współpracuje z manufakturą Bolesławiec, która wytwarza ceramikę na prezenty."
OTHER = "Sieć Biedronka otwiera sklepy w Warszawie. ZEBRA-B-CANARY: tajny dokument innego projektu."


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def entity(name: str, kind: str, quote: str) -> dict[str, str]:
    return {"name": name, "type": kind, "quote": quote}


ALLEGRO_GRAPH = {
    "entities": [
        entity("Allegro", "organisation", "Firma Allegro"),
        entity("Warszawa", "place", "w Warszawie"),
        entity("dostawa", "concept", "szybką dostawę"),
    ],
    "relations": [
        {
            "source": "Allegro",
            "target": "Warszawa",
            "relation": "located_in",
            "quote": "sprzedaje elektronikę w Warszawie",
        }
    ],
}
CERAMIKA_GRAPH = {
    "entities": [
        entity("Allegro", "organisation", "Sklep Allegro"),
        entity("Bolesławiec", "organisation", "manufakturą Bolesławiec"),
        entity("ceramika", "product", "ceramikę"),
    ],
    "relations": [
        {"source": "Allegro", "target": "Bolesławiec", "relation": "related_to", "quote": "współpracuje z manufakturą"},
        {"source": "Bolesławiec", "target": "ceramika", "relation": "produces", "quote": "wytwarza ceramikę"},
    ],
}
OTHER_GRAPH = {
    "entities": [entity("Biedronka", "organisation", "Sieć Biedronka"), entity("Warszawa", "place", "w Warszawie")],
    "relations": [],
}


def ingest_text(project, name: str, text: str) -> Document:
    """Dokument tekstowy przetworzony w tym procesie (bez ekstrakcji: jej zadanie czeka w kolejce)."""
    user = project.owner
    from rag import ingest

    document, _created = ingest.accept_upload(project, SimpleUploadedFile(name, text.encode()), user=user)
    jobs.execute(str(document.job_id))
    document.refresh_from_db()
    assert document.status == "ready"
    return document


def extraction_job(document: Document) -> Job:
    return Job.objects.filter(kind=docgraph.JOB_KIND, params__document_id=str(document.id)).latest("created_at")


def extracted(project, name: str, text: str, output: dict[str, Any], fake_llm) -> Document:
    """Dokument przetworzony i przeanalizowany (wynik ekstrakcji ze skryptu)."""
    document = ingest_text(project, name, text)
    fake_llm.script("doc_extraction", [output])
    jobs.execute(str(extraction_job(document).id))
    return document


def chunk_of(document: Document) -> Chunk:
    return Chunk.objects.get(document=document)


# --- ekstrakcja ---------------------------------------------------------------------------------------------------


def test_extraction_follows_ingest_stores_verified_evidence_and_a_rebuild_gives_the_same_graph(backend, fake_llm):  # noqa: F811
    project = create_project()
    try:
        document = ingest_text(project, "allegro.txt", ALLEGRO)
        job = extraction_job(document)  # zadanie wstawione samo po przetworzeniu
        bad = {**ALLEGRO_GRAPH, "entities": [entity("Allegro", "organisation", "Allegro to lider rynku")]}
        fake_llm.script("doc_extraction", [bad, ALLEGRO_GRAPH])  # cytat spoza fragmentu: ponowne pytanie
        jobs.execute(str(job.id))
        job.refresh_from_db()
        assert job.status == "succeeded" and job.result["done"] == 1 and job.result["graph"] == "ok"
        assert "not verbatim" in fake_llm.scripted_calls("doc_extraction")[1][-1].text
        entities = {(e.key, e.entity_type, e.name) for e in DocEntity.objects.filter(project=project)}
        assert entities == {
            ("allegro", "organisation", "Allegro"),
            ("warszawa", "place", "Warszawa"),
            ("dostawa", "concept", "dostawa"),
        }
        chunk = chunk_of(document)
        evidence = DocEvidence.objects.filter(chunk=chunk)
        assert evidence.count() == 4 and all(e.quote in chunk.text for e in evidence)
        relation = DocRelation.objects.get(project=project)
        assert (relation.source.name, relation.relation, relation.target.name) == ("Allegro", "located_in", "Warszawa")
        written = (doc_graph.counts(project.id), graph.totals(project.id))
        assert written[0] == {"entities": 3, "chunks": 1, "mentions": 3, "relations": 1}
        graph.rebuild_from_database(project.id)
        assert (doc_graph.counts(project.id), graph.totals(project.id)) == written
        graph.rebuild_from_database(project.id)
        assert (doc_graph.counts(project.id), graph.totals(project.id)) == written
    finally:
        graph.delete_project(project.id)


def test_output_invalid_after_the_reask_is_recorded_as_a_skipped_passage_with_the_reason(fake_llm):
    project = create_project()
    document = ingest_text(project, "allegro.txt", ALLEGRO)
    wrong = {"entities": [entity("Allegro", "organisation", "zmyślony cytat")], "relations": []}
    fake_llm.script("doc_extraction", [wrong, wrong])
    jobs.execute(str(extraction_job(document).id))
    row = ChunkExtraction.objects.get(chunk=chunk_of(document))
    assert row.status == "skipped" and "verbatim" in row.reason
    assert not DocEntity.objects.filter(project=project).exists()


def test_passage_text_reaches_the_model_only_inside_the_data_block_of_the_user_message(fake_llm):
    project = create_project()
    extracted(project, "allegro.txt", ALLEGRO, ALLEGRO_GRAPH, fake_llm)
    system, user = fake_llm.scripted_calls("doc_extraction")[0]
    assert isinstance(system, SystemMessage) and isinstance(user, HumanMessage)
    assert "Allegro" not in system.text
    fence = re.search(r"<<<(DOCS-[0-9a-f]+)\n(.*)\n\1>>>", user.text, re.DOTALL)
    assert fence and ALLEGRO in fence.group(2) and ALLEGRO not in user.text.replace(fence.group(0), "")


def test_deleting_a_document_removes_its_evidence_and_nodes_and_keeps_shared_entities(backend, fake_llm):  # noqa: F811
    project = create_project()
    try:
        first = extracted(project, "allegro.txt", ALLEGRO, ALLEGRO_GRAPH, fake_llm)
        second = extracted(project, "ceramika.txt", CERAMIKA, CERAMIKA_GRAPH, fake_llm)
        assert doc_graph.counts(project.id) == {"entities": 5, "chunks": 2, "mentions": 6, "relations": 3}
        first.delete_with_file()
        names = set(DocEntity.objects.filter(project=project).values_list("name", flat=True))
        assert names == {"Allegro", "Bolesławiec", "ceramika"}
        allegro = DocEntity.objects.get(project=project, key="allegro")
        assert list(allegro.evidence.values_list("document_id", flat=True)) == [second.id]
        assert DocRelation.objects.filter(project=project).count() == 2
        assert doc_graph.counts(project.id) == {"entities": 3, "chunks": 1, "mentions": 3, "relations": 2}
    finally:
        graph.delete_project(project.id)


def test_on_demand_extraction_starts_a_job_only_for_documents_without_a_graph(fake_llm):
    user, token = create_token()
    client, project = api_client(token), create_project(owner=user)
    extracted(project, "allegro.txt", ALLEGRO, ALLEGRO_GRAPH, fake_llm)
    fresh = ingest_text(project, "ceramika.txt", CERAMIKA)
    response = client.post(f"/api/v1/projects/{project.id}/knowledge/graph", {}, content_type="application/json")
    assert response.status_code == 202
    assert [str(i) for i in response.json()["job_ids"]] == [str(extraction_job(fresh).id)]
    forced = client.post(
        f"/api/v1/projects/{project.id}/knowledge/graph", {"force": True}, content_type="application/json"
    )
    assert len(forced.json()["job_ids"]) == 2


# --- pytania ------------------------------------------------------------------------------------------------------


def answer_citing(*chunk_ids: int, quotes: dict[int, str] | None = None, extra: str = "") -> Any:
    """Odpowiedź cytująca podane fragmenty (i — w tekście — ewentualnie cudzy numer)."""
    quotes = quotes or {}
    return {
        "answer": "Allegro działa w Warszawie " + " ".join(f"[C{c}]" for c in chunk_ids) + extra + ".",
        "citations": [{"chunk_id": c, "quote": quotes.get(c, "")} for c in chunk_ids],
    }


def test_ask_uses_graph_paths_and_validates_citations_and_quotes(backend, fake_llm):  # noqa: F811
    user, token = create_token()
    client, project = api_client(token), create_project(owner=user)
    try:
        first = extracted(project, "allegro.txt", ALLEGRO, ALLEGRO_GRAPH, fake_llm)
        second = extracted(project, "ceramika.txt", CERAMIKA, CERAMIKA_GRAPH, fake_llm)
        a, b = chunk_of(first), chunk_of(second)
        fake_llm.script("knowledge_entities", [{"entities": ["Warszawa", "ceramika"]}])
        fake_llm.script(
            "knowledge_answer",
            [
                answer_citing(
                    b.id,
                    a.id,
                    999_999_999,
                    quotes={a.id: "Klienci Allegro cenią szybką dostawę", b.id: "tego zdania nie ma"},
                    extra=" [C123456789]",
                )
            ],
        )
        response = client.post(
            f"/api/v1/projects/{project.id}/knowledge/ask",
            {"question": "Jak Warszawa łączy się z ceramiką?"},
            content_type="application/json",
        )
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"question", "answer", "citations", "entities", "paths", "graph", "notice"}
        assert body["graph"] == "ok" and body["notice"] == ""
        assert body["answer"] == "Allegro działa w Warszawie [1] [2]."
        assert [(c["number"], c["chunk_id"], c["quote"]) for c in body["citations"]] == [
            (1, b.id, ""),  # cytat niedosłowny usunięty, cytowanie zostaje
            (2, a.id, "Klienci Allegro cenią szybką dostawę"),
        ]
        assert body["citations"][1]["document_id"] == str(first.id) and body["citations"][1]["page"] is None
        assert body["entities"] == [{"name": "Warszawa", "type": "place"}, {"name": "ceramika", "type": "product"}]
        # Warszawa —(located_in)— Allegro —(related_to)— Bolesławiec —(produces)— ceramika
        assert body["paths"] == [
            {
                "names": ["Warszawa", "Allegro", "Bolesławiec", "ceramika"],
                "relations": ["located_in", "related_to", "produces"],
                "chunk_ids": [a.id, b.id, b.id],
            }
        ]
        entity_call = fake_llm.scripted_calls("knowledge_entities")[0]
        assert "- Warszawa" in entity_call[1].text and "Bolesławiec" not in entity_call[1].text
    finally:
        graph.delete_project(project.id)


def test_only_the_fixed_cypher_templates_run_while_answering(backend, fake_llm, monkeypatch):  # noqa: F811
    project = create_project()
    try:
        first = extracted(project, "allegro.txt", ALLEGRO, ALLEGRO_GRAPH, fake_llm)
        extracted(project, "ceramika.txt", CERAMIKA, CERAMIKA_GRAPH, fake_llm)
        executed: list[tuple[str, bool]] = []
        adapter = type(graph._ready())
        original = adapter.run

        def recording(self, query, params=None, *, write=False):
            executed.append((query, write))
            return original(self, query, params, write=write)

        monkeypatch.setattr(adapter, "run", recording)
        # Model „proponuje” Cypher w każdym polu: nic z tego nie może trafić do grafu.
        hostile = "MATCH (n) DETACH DELETE n"
        fake_llm.script("knowledge_entities", [{"entities": ["Allegro", "Warszawa"]}])
        fake_llm.script("knowledge_answer", [{"answer": hostile + f" [C{chunk_of(first).id}]", "citations": []}])
        result = ask.ask(project, f"Allegro w Warszawie? {hostile}")
        assert result.graph == "ok" and result.paths
        assert executed and {query for query, _write in executed} <= doc_graph.READ_TEMPLATES
        assert not any(write for _query, write in executed)
        assert doc_graph.counts(project.id)["entities"] == 5
    finally:
        graph.delete_project(project.id)


def test_another_projects_entities_and_passages_never_reach_the_question_or_the_answer(backend, fake_llm):  # noqa: F811
    owner = create_user()
    mine, theirs = create_project(owner=owner), create_project(owner=owner)
    try:
        own = extracted(mine, "allegro.txt", ALLEGRO, ALLEGRO_GRAPH, fake_llm)
        foreign = extracted(theirs, "biedronka.txt", OTHER, OTHER_GRAPH, fake_llm)
        foreign_chunk = chunk_of(foreign)
        fake_llm.script("knowledge_entities", [{"entities": ["Warszawa"]}])
        fake_llm.script("knowledge_answer", [answer_citing(chunk_of(own).id, foreign_chunk.id)])
        result = ask.ask(mine, "Które sieci sklepów działają w Warszawie, np. Biedronka?")
        calls = fake_llm.scripted_calls("knowledge_entities") + fake_llm.scripted_calls("knowledge_answer")
        sent = "\n".join(m.text for call in calls for m in call)
        assert "ZEBRA-B-CANARY" not in sent and f"C{foreign_chunk.id}]" not in sent
        assert "Biedronka —" not in sent  # encji innego projektu nie ma wśród kandydatów
        assert foreign_chunk.id not in result.context_chunk_ids
        assert [c.chunk_id for c in result.citations] == [chunk_of(own).id]
        assert "ZEBRA" not in result.answer and str(foreign_chunk.id) not in result.answer
    finally:
        graph.delete_project(mine.id)
        graph.delete_project(theirs.id)


def test_with_the_graph_down_the_answer_comes_from_search_only_and_says_so(graph_down, fake_llm):  # noqa: F811
    project = create_project()
    document = extracted(project, "allegro.txt", ALLEGRO, ALLEGRO_GRAPH, fake_llm)
    assert extraction_job(document).result["graph"] == "unavailable"  # PostgreSQL ma wszystko mimo awarii
    chunk = chunk_of(document)
    fake_llm.script("knowledge_answer", [answer_citing(chunk.id, quotes={chunk.id: "szybką dostawę"})])
    with translation.override("en"):
        result = ask.ask(project, "Co klienci cenią w Allegro?")
    assert result.graph == "unavailable" and "unavailable" in result.notice
    assert result.entities == [] and result.paths == []
    assert fake_llm.scripted_calls("knowledge_entities") == []
    assert [(c.chunk_id, c.quote) for c in result.citations] == [(chunk.id, "szybką dostawę")]


def test_a_question_without_matching_passages_gets_no_model_call(fake_llm):
    with translation.override("en"):
        result = ask.ask(create_project(), "Cokolwiek?")
    assert result.answer == "" and result.citations == [] and "No passage" in result.notice
    assert fake_llm.scripted_calls() == []


def test_another_users_project_is_a_404_for_ask_and_extraction(fake_llm):
    _user, token = create_token()
    stranger = create_project()
    client = api_client(token)
    ask_url = f"/api/v1/projects/{stranger.id}/knowledge/ask"
    assert client.post(ask_url, {"question": "x"}, content_type="application/json").status_code == 404
    graph_url = f"/api/v1/projects/{stranger.id}/knowledge/graph"
    assert client.post(graph_url, {}, content_type="application/json").status_code == 404
    browser = Client()
    browser.force_login(create_user())
    assert browser.post(f"/projects/{stranger.id}/knowledge/ask/", {"question": "x"}).status_code == 404
    assert browser.post(f"/projects/{stranger.id}/knowledge/graph/").status_code == 404
    assert fake_llm.scripted_calls() == []


def test_api_rejects_an_empty_question_and_unknown_fields(fake_llm):
    user, token = create_token()
    project = create_project(owner=user)
    url = f"/api/v1/projects/{project.id}/knowledge/ask"
    client = api_client(token)
    assert client.post(url, {"question": "  "}, content_type="application/json").status_code == 422
    assert client.post(url, {"question": "a", "cypher": "x"}, content_type="application/json").status_code == 422


def test_knowledge_page_form_shows_the_answer_with_numbered_citations_linking_to_passages(backend, fake_llm):  # noqa: F811
    user = create_user()
    project = create_project(owner=user)
    browser = Client(headers={"accept-language": "en"})
    browser.force_login(user)
    try:
        document = extracted(project, "allegro.txt", ALLEGRO, ALLEGRO_GRAPH, fake_llm)
        chunk = chunk_of(document)
        page = browser.get(f"/projects/{project.id}/knowledge/")
        assert b"Ask the knowledge base" in page.content and b"3 entities and 1 relations" in page.content
        for htmx in (False, True):
            fake_llm.script("knowledge_entities", [{"entities": ["Allegro"]}])
            fake_llm.script("knowledge_answer", [answer_citing(chunk.id, quotes={chunk.id: "Klienci Allegro cenią"})])
            headers = {"HX-Request": "true"} if htmx else {}
            response = browser.post(
                f"/projects/{project.id}/knowledge/ask/", {"question": "<b>Allegro</b>?"}, headers=headers
            )
            html = response.content.decode()
            assert response.status_code == 200
            assert '<a href="#citation-1">[1]</a>' in html and 'id="citation-1"' in html
            assert "<blockquote>Klienci Allegro cenią</blockquote>" in html and "allegro.txt" in html
            assert "<mark>Klienci Allegro cenią</mark> szybką dostawę" in html  # cytat zaznaczony w fragmencie
            assert "&lt;b&gt;Allegro&lt;/b&gt;" in html and "<b>Allegro</b>" not in html
            assert 'Allegro <span class="muted">(organisation)</span>' in html
            assert ("<html" in html) is not htmx
    finally:
        graph.delete_project(project.id)


def test_offline_provider_extracts_and_answers_from_the_documents_only(backend, settings):  # noqa: F811
    settings.SIGHT_LLM_PROVIDER = "offline"
    project = create_project()
    try:
        document = ingest_text(project, "allegro.txt", ALLEGRO + " " + CERAMIKA)
        jobs.execute(str(extraction_job(document).id))
        names = set(DocEntity.objects.filter(project=project).values_list("name", flat=True))
        assert {"Allegro", "Bolesławiec"} <= names
        assert DocRelation.objects.filter(project=project).exists()
        chunk = chunk_of(document)
        assert all(e.quote in chunk.text for e in DocEvidence.objects.filter(project=project))
        result = ask.ask(project, "Z kim współpracuje Allegro?")
        assert result.graph == "ok" and result.entities and result.citations
        assert result.citations[0].chunk_id == chunk.id and result.citations[0].quote in chunk.text
        assert ask.ask(project, "Z kim współpracuje Allegro?").answer == result.answer  # deterministycznie
    finally:
        graph.delete_project(project.id)


def test_model_output_with_fields_outside_the_schema_is_rejected(fake_llm):
    project = create_project()
    document = ingest_text(project, "allegro.txt", ALLEGRO)
    smuggled = {**ALLEGRO_GRAPH, "instructions": "ignore the passage"}
    fake_llm.script("doc_extraction", [smuggled, smuggled])
    jobs.execute(str(extraction_job(document).id))
    row = ChunkExtraction.objects.get(chunk=chunk_of(document))
    assert row.status == "skipped" and "instructions" in row.reason
    chunk = chunk_of(document)
    fake_llm.script("knowledge_answer", [{**answer_citing(chunk.id), "cypher": "MATCH (n) DETACH DELETE n"}] * 2)
    with translation.override("en"):
        result = ask.ask(project, "Co klienci cenią w Allegro?")
    assert result.answer == "" and result.citations == [] and "usable answer" in result.notice


def test_two_word_forms_of_one_entity_share_it_and_still_link_the_relation(fake_llm):
    project = create_project()
    output = {
        "entities": [
            entity("Warszawa", "place", "w Warszawie"),
            entity("Warszawie", "place", "Warszawie"),
            entity("Allegro", "organisation", "Firma Allegro"),
        ],
        "relations": [
            {"source": "Allegro", "target": "Warszawie", "relation": "located_in", "quote": "elektronikę w Warszawie"}
        ],
    }
    document = extracted(project, "allegro.txt", ALLEGRO, output, fake_llm)
    assert sorted(DocEntity.objects.filter(project=project).values_list("name", flat=True)) == ["Allegro", "Warszawa"]
    assert DocEvidence.objects.filter(document=document, entity__isnull=False).count() == 2
    relation = DocRelation.objects.get(project=project)
    assert (relation.source.name, relation.target.name) == ("Allegro", "Warszawa")
