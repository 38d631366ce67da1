"""Strona na żywo po stronie serwera: koniec przebiegu przychodzi websocketem z odnośnikiem do wyników, a potwierdzenie
wysłania wtrącenia znika, gdy moderator je zada (fragment jego kwestii podmienia potwierdzenie poza kolejnością).
"""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from focus_groups import discussion
from sight.asgi import application
from tests.factories import create_focus_group, create_persona, create_project, create_user, run_worker

pytestmark = pytest.mark.usefixtures("fake_llm")


async def receive_until_finished(comm):
    """Wiadomości websocketu aż do statusu końca przebiegu (włącznie)."""
    messages = []
    while not any("data-finished" in m for m in messages):
        messages.append(await comm.receive_from(timeout=5))
    await comm.disconnect()
    return messages


def browser_headers(user):
    browser = Client()
    browser.force_login(user)
    return browser, [
        (b"cookie", f"sessionid={browser.cookies['sessionid'].value}".encode()),
        (b"origin", b"http://testserver"),
    ]


def test_a_finished_run_reaches_the_open_page_with_a_link_to_the_results(transactional_db, settings):
    settings.SIGHT_LLM_PROVIDER = "offline"
    user = create_user()
    project = create_project(owner=user)
    fg = create_focus_group(project=project, personas=[create_persona(project=project) for _ in range(2)], turns=2)
    _browser, headers = browser_headers(user)

    async def scenario():
        comm = WebsocketCommunicator(application, f"/ws/focus-groups/{fg.id}/?after=0", headers=headers)
        connected, _ = await comm.connect()
        assert connected
        await comm.receive_from()  # bieżący status grupy czekającej na start
        await sync_to_async(discussion.start_run)(fg, user=user)
        await sync_to_async(run_worker)()
        return (await receive_until_finished(comm))[-1]

    final = async_to_sync(scenario)()
    assert 'data-status="completed"' in final and 'hx-swap-oob="true"' in final
    assert f'href="/focus-groups/{fg.id}/?results=1#summary"' in final


def test_the_sent_confirmation_clears_when_the_moderator_poses_the_interjection(
    transactional_db, settings, django_capture_on_commit_callbacks
):
    settings.SIGHT_LLM_PROVIDER = "offline"
    user = create_user()
    project = create_project(owner=user)
    fg = create_focus_group(project=project, personas=[create_persona(project=project) for _ in range(2)], turns=2)
    browser, headers = browser_headers(user)
    sent = browser.post(f"/focus-groups/{fg.id}/interject/", {"text": "Czy cena ma znaczenie?"}, HTTP_HX_REQUEST="true")
    interjection = fg.events.get(kind="interjection")
    assert sent.status_code == 200 and f'id="fg-sent-{interjection.seq}"' in sent.content.decode()

    async def scenario():
        comm = WebsocketCommunicator(
            application, f"/ws/focus-groups/{fg.id}/?after={interjection.seq}", headers=headers
        )
        connected, _ = await comm.connect()
        assert connected
        await sync_to_async(discussion.start_run)(fg, user=user)
        await sync_to_async(run_worker)()
        return await receive_until_finished(comm)

    messages = async_to_sync(scenario)()
    posed = fg.events.get(kind="moderator", payload__interjection_seq=interjection.seq)
    fragment = next(m for m in messages if f'id="event-{posed.seq}"' in m)
    assert f'<span id="fg-sent-{interjection.seq}" hx-swap-oob="true"></span>' in fragment
    assert "Czy cena ma znaczenie?" in fragment
    # Inne kwestie moderatora nie ruszają potwierdzenia.
    assert sum(f'id="fg-sent-{interjection.seq}"' in m for m in messages) == 1
