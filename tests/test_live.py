"""Websocket postępu zadania: sesja + Origin dla przeglądarki, Bearer dla API, odmowa przed accept, nadrabianie."""

import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from sight import jobs
from sight.asgi import application
from sight.models import Job
from tests.conftest import create_token, create_user

pytestmark = pytest.mark.django_db(transaction=True)


def _job_for(user) -> Job:
    return Job.objects.create(kind="llm.smoke", user=user, progress_total=4)


def _session_headers(user, origin: bytes = b"http://testserver") -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()), (b"origin", origin)]


async def _connect(path: str, headers):
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await comm.connect()
    return comm, connected, code


def test_browser_gets_the_progress_fragment_on_connect_and_on_every_update():
    user = create_user()
    job = _job_for(user)
    headers = _session_headers(user)

    async def scenario():
        comm, connected, _ = await _connect(f"/ws/jobs/{job.id}/", headers)
        assert connected
        first = await comm.receive_from()
        assert f'id="job-{job.id}"' in first and "hx-swap-oob" in first
        await database_sync_to_async(jobs.report_progress)(job, done=2, total=4, message="halfway")
        update = await comm.receive_from()
        assert "halfway" in update and "50" in update
        await comm.disconnect()

    async_to_sync(scenario)()


def test_api_client_with_a_bearer_token_gets_json_without_an_origin_header():
    user, token = create_token()
    job = _job_for(user)

    async def scenario():
        comm, connected, _ = await _connect(f"/ws/jobs/{job.id}/", [(b"authorization", f"Bearer {token}".encode())])
        assert connected
        first = json.loads(await comm.receive_from())
        assert first["type"] == "job" and first["job"]["total"] == 4
        await database_sync_to_async(jobs.report_progress)(job, done=1, message="one")
        update = json.loads(await comm.receive_from())
        assert (update["job"]["done"], update["job"]["message"]) == (1, "one")
        await comm.disconnect()

    async_to_sync(scenario)()


def test_reconnecting_client_catches_up_from_the_database():
    user, token = create_token()
    job = _job_for(user)

    async def scenario():
        headers = [(b"authorization", f"Bearer {token}".encode())]
        comm, _, _ = await _connect(f"/ws/jobs/{job.id}/", headers)
        await comm.receive_from()
        await comm.disconnect()
        # Postęp zapisany, gdy klient był rozłączony (i bez publikacji): po powrocie go widzi.
        await database_sync_to_async(Job.objects.filter(pk=job.pk).update)(progress_done=3, message="while away")
        comm, _, _ = await _connect(f"/ws/jobs/{job.id}/", headers)
        state = json.loads(await comm.receive_from())
        assert (state["job"]["done"], state["job"]["message"]) == (3, "while away")
        await comm.disconnect()

    async_to_sync(scenario)()


def test_another_users_job_is_refused_before_accept():
    owner = create_user()
    job = _job_for(owner)
    stranger, token = create_token()
    headers = _session_headers(stranger)

    async def scenario():
        _, connected, code = await _connect(f"/ws/jobs/{job.id}/", headers)
        assert not connected and code == 4404
        _, connected, code = await _connect(f"/ws/jobs/{job.id}/", [(b"authorization", f"Bearer {token}".encode())])
        assert not connected and code == 4404

    async_to_sync(scenario)()


def test_browser_connection_from_a_foreign_origin_is_refused():
    user = create_user()
    job = _job_for(user)
    headers = _session_headers(user, origin=b"https://evil.example")

    async def scenario():
        _, connected, _ = await _connect(f"/ws/jobs/{job.id}/", headers)
        assert not connected

    async_to_sync(scenario)()


def test_anonymous_invalid_token_and_token_in_url_get_no_data():
    user, token = create_token()
    job = _job_for(user)

    async def scenario():
        # Przeglądarka bez sesji: przyjęta tylko po to, by dostać zamknięcie 4401 (strona przechodzi na logowanie).
        for path in (f"/ws/jobs/{job.id}/", f"/ws/jobs/{job.id}/?token={token}"):
            comm, connected, _ = await _connect(path, [(b"origin", b"http://testserver")])
            assert connected and await comm.receive_output() == {"type": "websocket.close", "code": 4401}
        _, connected, _ = await _connect(f"/ws/jobs/{job.id}/", [(b"authorization", b"Bearer sight_forged")])
        assert not connected

    async_to_sync(scenario)()


def test_browser_fragment_follows_the_viewers_language_cookie():
    user = create_user()
    job = _job_for(user)
    headers = _session_headers(user)
    english = [(b"cookie", headers[0][1] + b"; django_language=en"), headers[1]]
    polish = [(b"cookie", headers[0][1] + b"; django_language=pl"), headers[1]]

    async def scenario():
        texts = []
        for h in (english, polish):
            comm, connected, _ = await _connect(f"/ws/jobs/{job.id}/", h)
            assert connected
            texts.append(await comm.receive_from())
            await comm.disconnect()
        return texts

    en, pl = async_to_sync(scenario)()
    assert "0 of 4" in en and "0 of 4" not in pl


def test_without_a_language_cookie_the_browser_language_decides():
    user = create_user()
    job = _job_for(user)
    headers = [*_session_headers(user), (b"accept-language", b"en-US,en;q=0.9")]

    async def scenario():
        comm, connected, _ = await _connect(f"/ws/jobs/{job.id}/", headers)
        assert connected
        text = await comm.receive_from()
        await comm.disconnect()
        return text

    assert "0 of 4" in async_to_sync(scenario)()
