"""Zmiana modelu embeddingów: stare wektory nie mieszają się z nowymi w wyszukiwaniu, a przeliczenie (polecenie
albo zadanie ze strony bazy wiedzy) daje fragmentom wektory bieżącego modelu i indeks HNSW jego wymiaru.
"""

import math
import zlib
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection

from rag import ingest, lexicon, retrieval
from rag.models import Chunk, Document
from sight import jobs
from sight.models import Job
from tests.factories import create_project, create_user
from tests.test_rag import POLISH

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_llm")]


class HashedWords:
    """Atrapa embeddera: worek słów rzutowany skrótem CRC32 na `dimension` współrzędnych (znormalizowany)."""

    def __init__(self, model: str, dimension: int) -> None:
        self.model, self.dimension, self.calls = model, dimension, 0

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dimension
        for word in lexicon.tokens(text):
            vector[zlib.crc32(word.encode()) % self.dimension] += 1.0
        norm = math.sqrt(sum(x * x for x in vector)) or 1.0
        return [x / norm for x in vector]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


@pytest.fixture
def embedder(monkeypatch):
    """Bieżący embedder roli; test podmienia `current` na inny model, jak zmiana w models.yaml."""
    state = {"current": HashedWords("hashed-a", 16)}
    monkeypatch.setattr("sight.llm.build_embeddings", lambda *a, **k: state["current"])
    return state


@pytest.fixture
def project(settings, tmp_path, embedder):
    settings.MEDIA_ROOT = tmp_path
    project = create_project()
    for index, text in enumerate(POLISH):
        document, _ = ingest.accept_upload(
            project, SimpleUploadedFile(f"p{index}.txt", text.encode()), user=project.owner
        )
        jobs.execute(str(document.job_id))
    assert set(Document.objects.filter(project=project).values_list("status", flat=True)) == {"ready"}
    return project


def models_in(project) -> set[tuple[str, int]]:
    return set(Chunk.objects.filter(project=project).values_list("embedding_model", "embedding_dimension"))


def test_after_a_model_change_search_uses_no_vector_of_the_old_model_until_re_embedded(project, embedder):
    assert models_in(project) == {("HashedWords:hashed-a", 16)}
    assert all(h.vector_rank for h in retrieval.search(project, "rower", mode="vector", k=4))
    embedder["current"] = HashedWords("hashed-b", 24)
    assert ingest.stale_chunk_count(project) == len(POLISH)
    # Stare wektory (inny model i wymiar) nie trafiają do listy wektorowej; wyszukiwanie słowami działa dalej.
    assert retrieval.search(project, "rower", mode="vector") == []
    hybrid = retrieval.search(project, "rower w mieście")
    assert hybrid[0].text == POLISH[3] and all(h.vector_rank is None for h in hybrid)

    out = StringIO()
    call_command("rag_reembed", stdout=out)
    assert f"re-embedded={len(POLISH)}" in out.getvalue()
    assert models_in(project) == {("HashedWords:hashed-b", 24)}
    assert ingest.stale_chunk_count(project) == 0
    vector = retrieval.search(project, "rower", mode="vector", k=4)
    assert len(vector) == 4 and all(h.vector_rank for h in vector)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'chunk_embedding_hnsw_%%'")
        assert "chunk_embedding_hnsw_24" in {row[0] for row in cursor.fetchall()}
    # Drugie uruchomienie nie ma czego przeliczać.
    calls = embedder["current"].calls
    call_command("rag_reembed", stdout=StringIO())
    assert embedder["current"].calls == calls


def test_one_projects_model_change_leaves_a_mixed_project_consistent(project, embedder, settings):
    """Fragmenty dodane po zmianie modelu mają nowy model; przeliczenie bierze tylko stare."""
    embedder["current"] = HashedWords("hashed-b", 24)
    document, _ = ingest.accept_upload(
        project, SimpleUploadedFile("nowy.txt", b"Nowy tekst o rowerach."), user=project.owner
    )
    jobs.execute(str(document.job_id))
    assert models_in(project) == {("HashedWords:hashed-a", 16), ("HashedWords:hashed-b", 24)}
    assert [h.document_id for h in retrieval.search(project, "rower", mode="vector")] == [str(document.id)]
    assert ingest.reembed_project(project) == len(POLISH)
    assert models_in(project) == {("HashedWords:hashed-b", 24)}


def test_the_knowledge_page_offers_re_embedding_and_runs_it_as_a_job(project, embedder, client):
    client.force_login(project.owner)
    url = f"/projects/{project.id}/knowledge/"
    assert "knowledge/reembed/" not in client.get(url).content.decode()
    embedder["current"] = HashedWords("hashed-b", 24)
    html = client.get(url).content.decode()
    assert "knowledge/reembed/" in html and f"{len(POLISH)} " in html
    assert client.post(f"/projects/{project.id}/knowledge/reembed/").status_code == 302
    assert client.post(f"/projects/{project.id}/knowledge/reembed/").status_code == 302
    job = Job.objects.get(project=project, kind=ingest.REEMBED_JOB)  # drugi klik nie dubluje zadania
    assert f'ws-connect="/ws/jobs/{job.id}/"' in client.get(url).content.decode()
    jobs.execute(str(job.id))
    job.refresh_from_db()
    assert (job.status, job.result["reembedded"], job.progress_done) == ("succeeded", len(POLISH), len(POLISH))
    assert models_in(project) == {("HashedWords:hashed-b", 24)}
    assert "knowledge/reembed/" not in client.get(url).content.decode()
    client.force_login(create_user())
    assert client.post(f"/projects/{project.id}/knowledge/reembed/").status_code == 404
