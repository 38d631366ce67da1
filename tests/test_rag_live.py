"""Postęp przetwarzania dokumentu na żywo: strona bazy wiedzy słucha zadania dokumentu, a każdy etap (stan, liczba
fragmentów, czasy etapów) przychodzi websocketem — komórki wiersza dla przeglądarki, JSON dla klienta API.
"""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rag import ingest
from rag.models import Document
from sight import jobs
from sight.asgi import application
from tests.factories import create_project, create_token
from tests.test_rag import POLISH

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fake_llm")]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


async def drain(comm: WebsocketCommunicator) -> list[str]:
    """Wiadomości websocketu aż do ciszy."""
    messages = []
    while not await comm.receive_nothing(timeout=1):
        messages.append(await comm.receive_from())
    return messages


def test_the_knowledge_page_receives_document_status_counts_and_timings_while_ingesting():
    user, token = create_token()
    project = create_project(owner=user)
    text = "\n\n".join(POLISH * 6)
    document, _ = ingest.accept_upload(project, SimpleUploadedFile("raport.txt", text.encode()), user=user)
    browser = Client()
    browser.force_login(user)
    browser.cookies["django_language"] = "en"
    page = browser.get(f"/projects/{project.id}/knowledge/").content.decode()
    assert f'ws-connect="/ws/jobs/{document.job_id}/"' in page and f'id="document-{document.id}-status"' in page
    cookie = f"sessionid={browser.cookies['sessionid'].value}; django_language=en"

    async def scenario() -> tuple[list[str], list[dict]]:
        html = WebsocketCommunicator(
            application,
            f"/ws/jobs/{document.job_id}/",
            headers=[(b"cookie", cookie.encode()), (b"origin", b"http://testserver")],
        )
        api = WebsocketCommunicator(
            application, f"/ws/jobs/{document.job_id}/", headers=[(b"authorization", f"Bearer {token}".encode())]
        )
        assert (await html.connect())[0] and (await api.connect())[0]
        await database_sync_to_async(jobs.execute)(str(document.job_id))
        fragments, events = await drain(html), [json.loads(m) for m in await drain(api)]
        await html.disconnect()
        await api.disconnect()
        return fragments, events

    fragments, events = async_to_sync(scenario)()
    document.refresh_from_db()
    assert document.status == "ready" and document.chunk_count > 1
    rows = [e["document"] for e in events if e["type"] == "document"]
    # Po połączeniu websocket nadrabia wiersz (stan z chwili nadrabiania), potem idą etapy na żywo.
    live_rows = rows[1:] if len(rows) == 4 else rows
    assert [r["status"] for r in live_rows] == ["parsing", "ingesting", "ready"]
    assert rows[-1]["chunk_count"] == document.chunk_count and set(rows[-1]["timings"]) >= {"parse", "embed"}
    assert any(e["type"] == "job" and e["job"]["status"] == "succeeded" for e in events)
    assert all("fragments" not in e for e in events)
    final = next(f for f in reversed(fragments) if f'id="document-{document.id}-status"' in f)
    assert "hx-swap-oob" in final and ">ready<" in final
    assert f'id="document-{document.id}-chunks" hx-swap-oob="true">{document.chunk_count}<' in final
    assert "reading " in final and "vectors " in final
    assert any(f'id="job-{document.job_id}"' in f for f in fragments)
    page = browser.get(f"/projects/{project.id}/knowledge/").content.decode()
    assert "ws-connect" not in page


def test_a_failed_document_is_announced_with_its_reason():
    user, token = create_token()
    project = create_project(owner=user)
    document, _ = ingest.accept_upload(project, SimpleUploadedFile("pusty.pdf", b""), user=user)

    async def scenario() -> list[dict]:
        api = WebsocketCommunicator(
            application, f"/ws/jobs/{document.job_id}/", headers=[(b"authorization", f"Bearer {token}".encode())]
        )
        assert (await api.connect())[0]
        await database_sync_to_async(jobs.execute)(str(document.job_id))
        events = [json.loads(m) for m in await drain(api)]
        await api.disconnect()
        return events

    rows = [e["document"] for e in async_to_sync(scenario)() if e["type"] == "document"]
    assert (rows[-1]["status"], rows[-1]["failure_code"]) == ("failed", "empty")
    assert Document.objects.get(pk=document.pk).status == "failed"


def test_a_page_that_connects_after_the_document_failed_still_gets_its_final_row():
    # Strona pokazała „oczekuje”, a zadanie skończyło się przed połączeniem websocketu: połączenie nadrabia wiersz.
    user, token = create_token()
    project = create_project(owner=user)
    elf = SimpleUploadedFile("program.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 200)
    document, _ = ingest.accept_upload(project, elf, user=user)
    jobs.execute(str(document.job_id))
    document.refresh_from_db()
    assert document.status == "failed"
    headers = browser_headers(user)

    async def scenario() -> tuple[list[str], list[dict]]:
        html = WebsocketCommunicator(application, f"/ws/jobs/{document.job_id}/", headers=headers)
        api = WebsocketCommunicator(
            application, f"/ws/jobs/{document.job_id}/", headers=[(b"authorization", f"Bearer {token}".encode())]
        )
        assert (await html.connect())[0] and (await api.connect())[0]
        fragments, events = await drain(html), [json.loads(m) for m in await drain(api)]
        await html.disconnect()
        await api.disconnect()
        return fragments, events

    fragments, events = async_to_sync(scenario)()
    assert [e["document"]["status"] for e in events if e["type"] == "document"] == ["failed"]
    row = next(f for f in fragments if f'id="document-{document.id}-status"' in f)
    assert "hx-swap-oob" in row and "failed: The file content does not match its type" in row


def browser_headers(user) -> list[tuple[bytes, bytes]]:
    browser = Client()
    browser.force_login(user)
    cookie = f"sessionid={browser.cookies['sessionid'].value}; django_language=en"
    return [(b"cookie", cookie.encode()), (b"origin", b"http://testserver")]
