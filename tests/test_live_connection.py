"""Połączenia na żywo: bezczynny websocket trwa dłużej niż blokujący odczyt warstwy kanałów, wygasła sesja → 4401."""

import asyncio
import logging
import uuid
from datetime import timedelta
from urllib.parse import quote

import pytest
import redis.exceptions
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from sight import jobs
from sight.asgi import application
from sight.consumers import LiveConsumer
from sight.models import Job
from tests.conftest import create_user

pytestmark = pytest.mark.django_db(transaction=True)


def _session_headers(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()), (b"origin", b"http://testserver")]


def test_an_idle_live_page_outlasts_two_blocking_reads_and_still_receives_the_next_update(caplog):
    user = create_user()
    job = Job.objects.create(kind="llm.smoke", user=user, progress_total=4)
    # channels-redis czeka na wiadomość BZPOPMIN-em po `brpop_timeout` sekund (5); dwa takie odczyty bez ruchu.
    idle = 2 * get_channel_layer().brpop_timeout + 1
    headers = _session_headers(user)

    async def scenario():
        comm = WebsocketCommunicator(application, f"/ws/jobs/{job.id}/", headers=headers)
        connected, _ = await comm.connect()
        assert connected
        await comm.receive_from()
        assert await comm.receive_nothing(timeout=idle, interval=0.5)
        await database_sync_to_async(jobs.report_progress)(job, done=3, message="after the silence")
        update = await comm.receive_from(timeout=5)
        await comm.disconnect()
        return update

    with caplog.at_level(logging.WARNING):
        update = async_to_sync(scenario)()
    assert "after the silence" in update
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_socket_timeout_shorter_than_the_blocking_read_kills_an_idle_consumer(settings):
    # Kontrola mechanizmu w skali sekund: odczyt gniazda krótszy niż BZPOPMIN zabija cichego konsumenta. Domyślne 5 s
    # redis-py wobec 5 s BZPOPMIN to wyścig, który klient prawie zawsze przegrywa (pusta odpowiedź serwera przychodzi po
    # czasie), więc kontrola bierze 1 s wobec 2 s, żeby wynik był pewny; zapas w sight/settings.py to naprawia.
    host = {**settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0], "socket_timeout": 1}
    settings.CHANNEL_LAYERS = {
        "default": {**settings.CHANNEL_LAYERS["default"], "CONFIG": {"hosts": [host], "prefix": "sight-control"}}
    }
    get_channel_layer().brpop_timeout = 2
    user = create_user()
    job = Job.objects.create(kind="llm.smoke", user=user, progress_total=4)
    headers = _session_headers(user)

    async def scenario():
        comm = WebsocketCommunicator(application, f"/ws/jobs/{job.id}/", headers=headers)
        assert (await comm.connect())[0]
        await comm.receive_from()
        await asyncio.sleep(1.5)
        await comm.receive_nothing(timeout=0.1)

    with pytest.raises(redis.exceptions.TimeoutError):
        async_to_sync(scenario)()


def _expire_sessions() -> None:
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))


def test_an_htmx_action_after_the_session_expired_redirects_the_whole_page_to_login_with_next():
    user = create_user()
    client = Client()
    client.force_login(user)
    _expire_sessions()
    fg_id = uuid.uuid4()
    page = f"/focus-groups/{fg_id}/?tab=live"
    response = client.post(
        f"/focus-groups/{fg_id}/pause/",
        headers={"hx-request": "true", "hx-current-url": f"http://testserver{page}"},
    )
    assert response.status_code == 200 and response.content == b""
    assert response["HX-Redirect"] == f"/accounts/login/?next={quote(page)}"
    assert "Location" not in response


def test_next_falls_back_to_the_requested_path_when_the_current_url_is_foreign():
    response = Client().get(
        "/projects/", headers={"hx-request": "true", "hx-current-url": "https://evil.example/phish/"}
    )
    assert response["HX-Redirect"] == "/accounts/login/?next=/projects/"


def test_a_plain_request_without_a_session_keeps_the_ordinary_login_redirect():
    response = Client().get("/projects/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/projects/"
    assert "HX-Redirect" not in response


def test_a_live_page_whose_session_expired_gets_its_websocket_closed_with_4401():
    user = create_user()
    job = Job.objects.create(kind="llm.smoke", user=user, progress_total=4)
    headers = _session_headers(user)
    _expire_sessions()

    async def scenario():
        comm = WebsocketCommunicator(application, f"/ws/jobs/{job.id}/", headers=headers)
        connected, _ = await comm.connect()
        closed = await comm.receive_output()
        return connected, closed

    connected, closed = async_to_sync(scenario)()
    # Przyjęte i od razu zamknięte (odmowa przed accept byłaby dla przeglądarki kodem 1006), bez żadnych danych.
    assert connected and closed == {"type": "websocket.close", "code": 4401}


def test_an_open_live_page_is_closed_with_4401_once_its_session_is_logged_out(monkeypatch):
    monkeypatch.setattr(LiveConsumer, "session_check_seconds", 0.2)
    user = create_user()
    job = Job.objects.create(kind="llm.smoke", user=user, progress_total=4)
    headers = _session_headers(user)

    async def scenario():
        comm = WebsocketCommunicator(application, f"/ws/jobs/{job.id}/", headers=headers)
        assert (await comm.connect())[0]
        await comm.receive_from()
        still_open = await comm.receive_nothing(timeout=0.8)
        await database_sync_to_async(Session.objects.all().delete)()  # wylogowanie w innej karcie
        closed = await comm.receive_output(timeout=2)
        return still_open, closed

    still_open, closed = async_to_sync(scenario)()
    assert still_open and closed == {"type": "websocket.close", "code": 4401}
