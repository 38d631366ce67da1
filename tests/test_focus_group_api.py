"""API i websocket grup fokusowych: konfiguracja, sterowanie, zdarzenia od seq dokładnie raz, izolacja użytkowników,
eksporty.
"""

import csv
import io
import json

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from focus_groups import discussion
from focus_groups.models import FocusGroup
from sight import live
from sight.asgi import application
from sight.models import Job
from tests.factories import api_client, create_persona, create_project, create_token, run_worker, script_discussion

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_llm")]


def post(client, url, body=None):
    return client.post(url, data=json.dumps(body or {}), content_type="application/json")


def setup_group(n=3, **extra):
    user, token = create_token()
    project = create_project(owner=user)
    people = [create_persona(project=project) for _ in range(n)]
    body = {
        "name": "Bank",
        "questions": [{"text": "Czy zmieniłbyś bank?", "probes": ["Dlaczego?"]}, {"text": "Opłaty?"}],
        "turns_per_question": 3,
        "participants": {"persona_ids": [str(p.id) for p in people]},
        **extra,
    }
    resp = post(api_client(token), f"/api/v1/projects/{project.id}/focus-groups", body)
    assert resp.status_code == 201, resp.content
    return api_client(token), token, project, people, resp.json()


def test_an_api_client_creates_runs_and_reads_a_discussion_with_every_event_once_in_order(
    django_capture_on_commit_callbacks,
):
    client, _, _, people, fg = setup_group()
    assert fg["status"] == "pending" and fg["participant_ids"] == [str(p.id) for p in people]
    estimate = client.get(f"/api/v1/focus-groups/{fg['id']}/estimate").json()
    assert estimate["calls"] > 0 and estimate["fits_budget"] is True
    script_discussion()
    with django_capture_on_commit_callbacks(execute=True):
        resp = post(client, f"/api/v1/focus-groups/{fg['id']}/run")
    assert resp.status_code == 202
    run_worker()
    assert client.get(f"/api/v1/jobs/{resp.json()['job_id']}").json()["status"] == "succeeded"
    first = client.get(f"/api/v1/focus-groups/{fg['id']}/events?after=0&limit=10").json()
    rest = client.get(f"/api/v1/focus-groups/{fg['id']}/events?after={first['events'][-1]['seq']}").json()
    seqs = [e["seq"] for e in first["events"] + rest["events"]]
    assert seqs == list(range(1, first["last_seq"] + 1)) and first["status"] == "completed"
    stats = client.get(f"/api/v1/focus-groups/{fg['id']}/statistics").json()
    assert stats["total_turns"] == 6
    transcript = client.get(f"/api/v1/focus-groups/{fg['id']}/transcript?question=1").json()
    assert [g["index"] for g in transcript] == [1] and all(e["question_index"] == 1 for e in transcript[0]["events"])


def test_a_guide_question_may_be_plain_text_and_participants_a_list_of_ids():
    user, token = create_token()
    project = create_project(owner=user)
    people = [create_persona(project=project) for _ in range(2)]
    client = api_client(token)
    body = {"name": "Skrót", "questions": ["Czy?", {"text": "Opłaty?", "probes": ["Ile?"]}], "participants": []}
    body["participants"] = [str(p.id) for p in reversed(people)]
    resp = post(client, f"/api/v1/projects/{project.id}/focus-groups", body)
    assert resp.status_code == 201, resp.content
    fg = resp.json()
    assert fg["questions"] == [
        {"text": "Czy?", "probes": [], "proposition": ""},
        {"text": "Opłaty?", "probes": ["Ile?"], "proposition": ""},
    ]
    assert fg["participant_ids"] == [str(p.id) for p in reversed(people)]
    patch = client.patch(
        f"/api/v1/focus-groups/{fg['id']}", data=json.dumps({"questions": ["Nowe?"]}), content_type="application/json"
    )
    assert patch.status_code == 200
    assert patch.json()["questions"] == [{"text": "Nowe?", "probes": [], "proposition": ""}]
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]["FocusGroupIn"]["properties"]
    assert schema["questions"]["items"]["anyOf"][1]["type"] == "string"
    assert any(alt.get("type") == "array" for alt in schema["participants"]["anyOf"])


def test_participants_can_be_n_personas_matching_filters_or_a_segment():
    user, token = create_token()
    project = create_project(owner=user)
    women = [create_persona(project=project, gender="female") for _ in range(4)]
    [create_persona(project=project, gender="male") for _ in range(3)]
    body = {"name": "K", "questions": [{"text": "Q?"}], "participants": {"count": 3, "filters": {"gender": "female"}}}
    resp = post(api_client(token), f"/api/v1/projects/{project.id}/focus-groups", body)
    assert (
        resp.status_code == 201
        and set(resp.json()["participant_ids"]) <= {str(w.id) for w in women}
        and len(resp.json()["participant_ids"]) == 3
    )
    body["participants"] = {"count": 5, "filters": {"gender": "female"}}
    too_many = post(api_client(token), f"/api/v1/projects/{project.id}/focus-groups", body)
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"][-1] == "participants"


def test_a_guide_question_may_state_a_proposition_which_is_validated_like_any_text():
    user, token = create_token()
    project = create_project(owner=user)
    people = [str(create_persona(project=project).id) for _ in range(2)]
    client, url = api_client(token), f"/api/v1/projects/{project.id}/focus-groups"
    question = {"text": "Kubki?", "probes": ["Ile?"], "proposition": "  Kaucja 5 zł za kubek jest uczciwa.  "}
    resp = post(client, url, {"name": "Kubki", "questions": ["Jak kupujesz kawę?", question], "participants": people})
    assert resp.status_code == 201, resp.content
    assert [q["proposition"] for q in resp.json()["questions"]] == ["", "Kaucja 5 zł za kubek jest uczciwa."]
    assert FocusGroup.objects.get(pk=resp.json()["id"]).propositions() == ["", "Kaucja 5 zł za kubek jest uczciwa."]
    for bad in ("x" * 501, "Kaucja\x00"):
        body = {"name": "Kubki", "questions": [{"text": "Kubki?", "proposition": bad}], "participants": people}
        resp = post(client, url, body)
        assert resp.status_code == 422 and resp.json()["detail"][0]["loc"][-1] == "proposition", resp.content
    # Grupa sprzed tez (pytania bez klucza) czyta się jak pytania otwarte.
    old = FocusGroup.objects.create(project=project, name="Stara", questions=[{"text": "Stare?", "probes": []}])
    assert client.get(f"/api/v1/focus-groups/{old.id}").json()["questions"][0]["proposition"] == ""
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    guide = schemas["FocusGroupIn"]["properties"]["questions"]["items"]["anyOf"][0]["$ref"]
    assert guide.endswith("/GuideQuestionIn")
    assert schemas["GuideQuestionIn"]["properties"]["proposition"]["maxLength"] == 500


@pytest.mark.parametrize("participants", [{"persona_ids": []}, {}, {"count": 1}])
def test_bad_participant_choices_are_422(participants):
    user, token = create_token()
    project = create_project(owner=user)
    create_persona(project=project)
    resp = post(
        api_client(token),
        f"/api/v1/projects/{project.id}/focus-groups",
        {"name": "K", "questions": [{"text": "Q?"}], "participants": participants},
    )
    assert resp.status_code == 422


def test_personas_from_another_project_cannot_join():
    user, token = create_token()
    project = create_project(owner=user)
    mine = create_persona(project=project)
    foreign = create_persona()
    body = {
        "name": "K",
        "questions": [{"text": "Q?"}],
        "participants": {"persona_ids": [str(mine.id), str(foreign.id)]},
    }
    resp = post(api_client(token), f"/api/v1/projects/{project.id}/focus-groups", body)
    assert resp.status_code == 422 and str(foreign.id) in resp.json()["detail"][0]["msg"]


def test_a_group_is_editable_only_while_pending(django_capture_on_commit_callbacks):
    client, _, _, _, fg = setup_group()
    url = f"/api/v1/focus-groups/{fg['id']}"
    patched = client.patch(
        url,
        data=json.dumps({"name": "Nowa", "questions": [{"text": "Jedno pytanie?"}]}),
        content_type="application/json",
    )
    assert patched.status_code == 200
    assert patched.json()["questions"] == [{"text": "Jedno pytanie?", "probes": [], "proposition": ""}]
    with django_capture_on_commit_callbacks(execute=True):
        post(client, f"{url}/run")
    assert client.patch(url, data=json.dumps({"name": "Później"}), content_type="application/json").status_code == 409
    assert client.delete(url).status_code == 409
    assert post(client, f"{url}/run").status_code == 409


def test_pause_resume_stop_and_interject_through_the_api(django_capture_on_commit_callbacks):
    client, _, _, _, fg = setup_group()
    url = f"/api/v1/focus-groups/{fg['id']}"
    assert post(client, f"{url}/pause").status_code == 409  # jeszcze nie trwa
    with django_capture_on_commit_callbacks(execute=True):
        post(client, f"{url}/run")
    assert post(client, f"{url}/pause").json()["status"] == "paused"  # w kolejce: od razu
    assert post(client, f"{url}/interject", {"text": "A bezpieczeństwo?"}).status_code == 201
    script_discussion()
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, f"{url}/resume").status_code == 202
    run_worker()
    body = client.get(url).json()
    assert body["status"] == "completed"
    events = client.get(f"{url}/events").json()["events"]
    interjection = next(e for e in events if e["kind"] == "interjection")
    assert any(e["kind"] == "moderator" and e["payload"].get("interjection_seq") == interjection["seq"] for e in events)
    assert post(client, f"{url}/stop").status_code == 409
    assert post(client, f"{url}/interject", {"text": "x\x00"}).status_code in (409, 422)


def test_summary_export_and_errors(django_capture_on_commit_callbacks):
    client, _, _, _, fg = setup_group()
    url = f"/api/v1/focus-groups/{fg['id']}"
    assert client.get(f"{url}/summary").status_code == 404
    assert post(client, f"{url}/summary").status_code == 409  # nic do podsumowania
    script_discussion()
    with django_capture_on_commit_callbacks(execute=True):
        post(client, f"{url}/run")
    run_worker()
    turn_seqs = [e["seq"] for e in client.get(f"{url}/events").json()["events"] if e["kind"] == "turn"]
    from sight import llm

    llm.script(
        "summary",
        [
            {
                "executive_summary": "Podsumowanie " * 10,
                "key_insights": [
                    {"text": "Wniosek pierwszy.", "citations": turn_seqs[:2]},
                    {"text": "Wniosek drugi.", "citations": turn_seqs[2:3]},
                ],
                "recommendations": ["Zrobić X."],
                "sentiment_narrative": "Ton rozmowy był umiarkowanie pozytywny.",
            }
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, f"{url}/summary").status_code == 202
    run_worker()
    got = client.get(f"{url}/summary").json()
    assert got["key_insights"][0]["citations"] == turn_seqs[:2]
    md = client.get(f"{url}/export?format=md").content.decode()
    assert "Wniosek pierwszy." in md and f"#{turn_seqs[0]}" in md
    assert client.get(f"{url}/export?format=pdf").content.startswith(b"%PDF")
    rows = list(csv.reader(io.StringIO(client.get(f"{url}/export?format=csv").content.decode("utf-8-sig"))))
    assert rows[0][0] == "seq" and len(rows) > 6
    assert (
        len(json.loads(client.get(f"{url}/export?format=json").content)["events"])
        == FocusGroup.objects.get(pk=fg["id"]).last_seq
    )
    assert client.get(f"{url}/export?format=exe").status_code == 422


def test_another_user_gets_404_on_every_focus_group_endpoint(django_capture_on_commit_callbacks):
    _, _, project, _, fg = setup_group()
    _, stranger = create_token()
    client = api_client(stranger)
    url = f"/api/v1/focus-groups/{fg['id']}"
    for path in ("", "/estimate", "/events", "/transcript", "/statistics", "/summary", "/export?format=json"):
        assert client.get(url + path).status_code == 404, path
    for path in ("/run", "/pause", "/resume", "/stop", "/summary"):
        assert post(client, url + path).status_code == 404, path
    assert post(client, f"{url}/interject", {"text": "hej"}).status_code == 404
    assert client.delete(url).status_code == 404
    assert client.get(f"/api/v1/projects/{project.id}/focus-groups").status_code == 404


async def _connect(path, headers):
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await comm.connect()
    return comm, connected, code


@pytest.mark.django_db(transaction=True)
def test_websocket_delivers_each_event_once_in_seq_order_with_catch_up_duplicates_and_gaps():
    user, token = create_token()
    project = create_project(owner=user)
    people = [create_persona(project=project) for _ in range(2)]
    fg = FocusGroup.objects.create(project=project, name="WS", questions=[{"text": "Q?", "probes": []}])
    for i in range(3):
        fg.append_event("turn", key=f"k{i}", payload={"text": f"t{i}"}, persona_id=people[i % 2].id, question_index=0)
    headers = [(b"authorization", f"Bearer {token}".encode())]

    async def scenario():
        comm, connected, _ = await _connect(f"/ws/focus-groups/{fg.id}/?after=1", headers)
        assert connected
        got = [json.loads(await comm.receive_from()) for _ in range(3)]
        assert [m["event"]["seq"] for m in got[:2]] == [2, 3] and got[2]["type"] == "status"
        # Nowe zdarzenie: zapis, potem publikacja; duplikat publikacji nie dociera drugi raz.
        event, _ = await database_sync_to_async(fg.append_event)(
            "turn", key="k3", payload={"text": "t3"}, question_index=0
        )
        await database_sync_to_async(discussion.publish_event)(fg, event)
        await database_sync_to_async(discussion.publish_event)(fg, event)
        assert json.loads(await comm.receive_from())["event"]["seq"] == 4
        # Luka: zdarzenie 5 zapisane bez publikacji, potem publikacja 6 → klient dostaje 5 i 6 po kolei.
        await database_sync_to_async(fg.append_event)("turn", key="k4", payload={"text": "t4"}, question_index=0)
        sixth, _ = await database_sync_to_async(fg.append_event)(
            "turn", key="k5", payload={"text": "t5"}, question_index=0
        )
        await database_sync_to_async(discussion.publish_event)(fg, sixth)
        following = [json.loads(await comm.receive_from()) for _ in range(3)]
        assert [m["event"]["seq"] for m in following if m["type"] == "event"] == [5, 6]
        assert await comm.receive_nothing(timeout=0.3)
        # Partia zapisana razem (jak z workera): jedna wiadomość, klient dostaje każde zdarzenie osobno, bez duplikatu.
        batch = await database_sync_to_async(fg.append_events)(
            [{"kind": "turn", "key": f"b{i}", "payload": {"text": f"b{i}"}, "question_index": 0} for i in range(3)]
        )
        message = {"type": "events", "events": [sixth.as_dict()] + [e.as_dict() for e, _ in batch]}
        await live.apublish(fg.group_name, message)
        got = [json.loads(await comm.receive_from()) for _ in range(3)]
        assert [m["event"]["seq"] for m in got] == [7, 8, 9]
        assert await comm.receive_nothing(timeout=0.3)
        await comm.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_another_users_focus_group_websocket_is_refused_before_accept():
    owner_project = create_project()
    fg = FocusGroup.objects.create(project=owner_project, name="X", questions=[{"text": "Q?"}])
    _, token = create_token()

    async def scenario():
        _, connected, code = await _connect(
            f"/ws/focus-groups/{fg.id}/", [(b"authorization", f"Bearer {token}".encode())]
        )
        assert not connected and code == 4404

    async_to_sync(scenario)()
    assert Job.objects.count() == 0
