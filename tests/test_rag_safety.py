"""Wrogie pliki w bazie wiedzy: każdy — przesłany przez stronę albo przez API — kończy jako dokument `failed`
z powodem zrozumiałym dla badacza; nigdy 500, zadanie kończy się czysto, a worker przetwarza dalej.
"""

import functools
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.html import escape

from rag.models import FAILURE_REASONS, Chunk, Document
from sight import jobs
from sight.models import Job
from tests.factories import api_client, create_project, create_token, kill_tree, start_worker, worker_env
from tests.test_rag import (
    LAUGHS,
    POLISH,
    docx_bytes,
    docx_with_doctype,
    encrypted_pdf,
    flate_bomb_pdf,
    lying_zip,
    pdf_without_text,
)

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + bytes(range(256)) * 4


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@functools.cache
def bomb() -> bytes:
    """PDF o rozmiarze ~400 KB, którego strumień treści rozpakowuje się do 400 MB (budowany raz na moduł)."""
    return flate_bomb_pdf(400)


def headers_understate_sizes() -> bytes:
    """DOCX, którego nagłówki lokalny i centralny deklarują 100 bajtów po rozpakowaniu zamiast 10 MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<w:document>" + b"a" * 10_000_000 + b"</w:document>")
    data = bytearray(buffer.getvalue())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = data.find(signature)
        while start != -1:
            data[start + offset : start + offset + 4] = (100).to_bytes(4, "little")
            start = data.find(signature, start + 4)
    return bytes(data)


XXE = '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'

# (nazwa pliku, zawartość, oczekiwany kod powodu)
HOSTILE = {
    "flate-bomb": ("raport.pdf", bomb, "too_large_unpacked"),
    "billion-laughs": ("smiech.docx", lambda: docx_with_doctype(LAUGHS, "&a8;"), "unsafe_xml"),
    "xxe": ("brief.docx", lambda: docx_with_doctype(XXE, "A &xxe; B"), "unsafe_xml"),
    "zip-declares-1gb": ("bomba.docx", lying_zip, "too_large_unpacked"),
    "zip-understates-sizes": ("klamca.docx", headers_understate_sizes, "corrupt"),
    "elf-named-pdf": ("raport.pdf", lambda: ELF, "type_mismatch"),
    "empty": ("pusty.pdf", lambda: b"", "empty"),
    "encrypted": ("tajne.pdf", encrypted_pdf, "encrypted"),
    "scanned": ("skan.pdf", pdf_without_text, "no_text_layer"),
}


def run_job(document: Document) -> Document:
    jobs.execute(str(document.job_id))
    document.refresh_from_db()
    return document


def assert_failed_cleanly(document: Document, code: str) -> None:
    assert (document.status, document.failure_code) == ("failed", code)
    assert document.chunk_count == 0 and not Chunk.objects.filter(document=document).exists()
    # Porażka pliku to wynik zadania, nie wyjątek: zadanie kończy się sukcesem, worker nie widzi błędu.
    assert Job.objects.get(pk=document.job_id).status == "succeeded"


@pytest.mark.django_db
@pytest.mark.usefixtures("fake_llm")
@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_file_uploaded_through_the_api_ends_as_a_failed_document_with_a_reason(case):
    name, data, code = HOSTILE[case]
    user, token = create_token()
    client, project = api_client(token), create_project(owner=user)
    response = client.post(f"/api/v1/projects/{project.id}/documents", {"file": SimpleUploadedFile(name, data())})
    assert response.status_code == 201
    document = run_job(Document.objects.get(pk=response.json()["id"]))
    assert_failed_cleanly(document, code)
    body = client.get(f"/api/v1/documents/{document.id}").json()
    assert (body["status"], body["failure_code"]) == ("failed", code)
    with translation.override("en"):
        assert body["failure_reason"] == str(FAILURE_REASONS[code])
    assert "root:" not in body["failure_reason"]


@pytest.mark.django_db
@pytest.mark.usefixtures("fake_llm")
@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_file_uploaded_on_the_knowledge_page_shows_the_failure_reason(case, logged_client, user):
    name, data, code = HOSTILE[case]
    project = create_project(owner=user)
    response = logged_client.post(
        f"/projects/{project.id}/knowledge/upload/", {"file": SimpleUploadedFile(name, data())}
    )
    assert response.status_code == 302
    document = run_job(Document.objects.get(project=project))
    assert_failed_cleanly(document, code)
    page = logged_client.get(f"/projects/{project.id}/knowledge/")
    assert page.status_code == 200
    with translation.override(page.headers["Content-Language"]):
        assert escape(str(FAILURE_REASONS[code])) in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_survives_hostile_files_and_ingests_the_next_document(settings):
    """Prawdziwy worker RQ: bomba, kłamliwy ZIP i ELF zawodzą, a następny zwykły dokument jest gotowy."""
    user, token = create_token()
    client, project = api_client(token), create_project(owner=user)
    names = [("raport.pdf", bomb()), ("klamca.docx", headers_understate_sizes()), ("x.pdf", ELF)]
    names.append(("notatki.txt", POLISH[0].encode()))
    ids = [
        client.post(f"/api/v1/projects/{project.id}/documents", {"file": SimpleUploadedFile(n, d)}).json()["id"]
        for n, d in names
    ]
    worker = start_worker({**worker_env(0), "SIGHT_MEDIA_ROOT": str(settings.MEDIA_ROOT)}, burst=True)
    try:
        assert worker.wait(180) == 0
    finally:
        if worker.poll() is None:
            kill_tree(worker)
    documents = [Document.objects.get(pk=i) for i in ids]
    assert [(d.status, d.failure_code) for d in documents] == [
        ("failed", "too_large_unpacked"),
        ("failed", "corrupt"),
        ("failed", "type_mismatch"),
        ("ready", ""),
    ]
    assert {j.status for j in Job.objects.filter(documents__in=documents)} == {"succeeded"}


@pytest.mark.django_db
@pytest.mark.usefixtures("fake_llm")
def test_a_docx_without_entity_declarations_still_reads():
    user, token = create_token()
    client, project = api_client(token), create_project(owner=user)
    response = client.post(
        f"/api/v1/projects/{project.id}/documents", {"file": SimpleUploadedFile("a.docx", docx_bytes(POLISH[1]))}
    )
    document = run_job(Document.objects.get(pk=response.json()["id"]))
    assert document.status == "ready" and POLISH[1] in Chunk.objects.get(document=document).text


@pytest.mark.django_db
@pytest.mark.usefixtures("fake_llm")
def test_a_document_whose_stored_file_vanished_fails_instead_of_staying_in_parsing():
    user, token = create_token()
    client, project = api_client(token), create_project(owner=user)
    response = client.post(
        f"/api/v1/projects/{project.id}/documents", {"file": SimpleUploadedFile("a.txt", POLISH[0].encode())}
    )
    document = Document.objects.get(pk=response.json()["id"])
    document.file.storage.delete(document.file.name)
    document = run_job(document)
    assert_failed_cleanly(document, "file_missing")
