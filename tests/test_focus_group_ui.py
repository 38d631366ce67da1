"""Interfejs HTML grup fokusowych: formularz z przewodnikiem i uczestnikami, przebieg na żywo, sterowanie, transkrypcja,
podsumowanie, eksporty.
"""

import csv
import io
import itertools
import json
import re

import pytest
from django.template.loader import render_to_string
from django.test import Client

from focus_groups.models import FocusGroup
from personas.models import PersonaRun, Segment
from sight import llm
from sight.models import Job
from tests.factories import (
    api_client,
    create_focus_group,
    create_persona,
    create_project,
    create_token,
    create_user,
    record_stance,
    run_worker,
    script_discussion,
)

HTMX = {"HTTP_HX_REQUEST": "true"}
_n = itertools.count(1)
pytestmark = pytest.mark.usefixtures("fake_llm")


@pytest.fixture
def client(logged_client):
    logged_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return logged_client


@pytest.fixture
def project(user):
    return create_project(owner=user)


@pytest.fixture
def people(project):
    return [
        create_persona(
            project=project,
            full_name=f"Osoba {i} Nowak",
            age=25 + 10 * i,
            gender="female" if i % 2 else "male",
            location="Kraków",
            occupation="nauczyciel",
        )
        for i in range(4)
    ]


def form_data(people, **fields):
    data = {
        "name": "Opłaty bankowe",
        "description": "Jak klienci widzą opłaty",
        "mode": "discussion",
        "turns_per_question": "4",
        "guide": "Czy zmieniłbyś bank?\n- Co by cię przekonało?\n\nCo myślisz o opłatach?",
        "participants": "personas",
        "personas": [str(p.id) for p in people],
    }
    data.update(fields)
    return data


def finished_group(project, people):
    """Grupa zakończona ze zdarzeniami zapisanymi wprost: dwa pytania, wypowiedzi i stanowiska po pytaniu."""
    guide = [
        {"text": "Czy zmieniłbyś bank?", "proposition": "Warto zmienić bank dla lepszej aplikacji."},
        {"text": "Co myślisz o opłatach?", "proposition": "Opłata 10 zł za konto jest uczciwa."},
    ]
    fg = create_focus_group(project=project, personas=people[:3], name="Grupa", turns=3, questions=guide)
    a, b, c = people[:3]
    fg.append_event("question", key="q0:question", payload={"text": "Czy zmieniłbyś bank?"}, question_index=0)
    fg.append_event("moderator", key="q0:open", payload={"text": "Zacznijmy od banku."}, question_index=0)
    fg.append_event(
        "turn",
        key="q0:turn:0",
        payload={"text": "Zmieniłabym bank dla aplikacji.", "persona_name": a.full_name},
        persona_id=a.id,
        question_index=0,
    )
    fg.append_event(
        "turn",
        key="q0:turn:1",
        payload={"text": "Zostaję, bo ufam oddziałowi.", "persona_name": b.full_name},
        persona_id=b.id,
        question_index=0,
    )
    fg.append_event("question", key="q1:question", payload={"text": "Co myślisz o opłatach?"}, question_index=1)
    fg.append_event(
        "turn",
        key="q1:turn:0",
        payload={"text": "Opłaty za kartę są za wysokie.", "persona_name": c.full_name},
        persona_id=c.id,
        question_index=1,
    )
    fg.append_event(
        "turn",
        key="q1:turn:1",
        payload={"text": "Opłaty mnie nie obchodzą.", "persona_name": a.full_name},
        persona_id=a.id,
        question_index=1,
    )
    for persona, qi, before, after in (
        (a, 0, "neutral", "support"),
        (b, 0, "oppose", "oppose"),
        (c, 1, "neutral", "oppose"),
        (a, 1, "support", "neutral"),
    ):
        record_stance(fg, persona, "before", before, qi=qi)
        record_stance(fg, persona, "after", after, qi=qi)
    fg.set_status(FocusGroup.Status.COMPLETED)
    return fg


def turn_seq(fg, text):
    return fg.events.get(kind="turn", payload__text=text).seq


# --- lista i formularz ---------------------------------------------------------------------------------------------


def test_create_form_parses_the_guide_into_questions_with_probes_and_propositions(client, project, people):
    page = client.get(f"/projects/{project.id}/focus-groups/new/")
    assert (
        page.status_code == 200
        and 'name="guide"' in page.content.decode()
        and people[0].full_name in page.content.decode()
    )
    guide = (
        "Czy zmieniłbyś bank?\n- Co by cię przekonało?\n  -   A co by cię zatrzymało?  \n\n\nCo "
        "myślisz o opłatach?\n-\n  =  Opłata 10 zł za konto jest uczciwa. \n"
    )
    resp = client.post(
        f"/projects/{project.id}/focus-groups/new/", form_data(people[:3], guide=guide, turns_per_question="5")
    )
    fg = FocusGroup.objects.get(project=project)
    assert resp.status_code == 302 and resp["Location"] == f"/focus-groups/{fg.id}/"
    assert fg.questions == [
        {
            "text": "Czy zmieniłbyś bank?",
            "probes": ["Co by cię przekonało?", "A co by cię zatrzymało?"],
            "proposition": "",
        },
        {"text": "Co myślisz o opłatach?", "probes": [], "proposition": "Opłata 10 zł za konto jest uczciwa."},
    ]
    edit = client.get(f"/focus-groups/{fg.id}/edit/").content.decode()
    assert "Co myślisz o opłatach?\n= Opłata 10 zł za konto jest uczciwa." in edit
    guide_card = client.get(f"/focus-groups/{fg.id}/").content.decode()
    assert "Proposition:</span> Opłata 10 zł za konto jest uczciwa." in guide_card
    assert fg.turns_per_question == 5 and fg.status == "pending" and fg.description == "Jak klienci widzą opłaty"
    assert [link.persona_id for link in fg.participant_links.all()] == [p.id for p in people[:3]]
    listing = client.get(f"/projects/{project.id}/focus-groups/").content.decode()
    assert "Opłaty bankowe" in listing and f'href="/focus-groups/{fg.id}/"' in listing
    assert 'id="focus-groups"' in client.get(f"/projects/{project.id}/").content.decode()


def test_participants_can_be_a_segment_or_n_personas_matching_filters(client, project, people):
    run = PersonaRun.objects.create(project=project, num_requested=4, seed=1)
    segment = Segment.objects.create(run=run, project=project, index=0, name="Oszczędni")
    for p in people[:2]:
        p.segment = segment
        p.save()
    resp = client.post(
        f"/projects/{project.id}/focus-groups/new/",
        form_data([], participants="segment", segment=str(segment.id), name="Segment"),
    )
    assert resp.status_code == 302
    fg = FocusGroup.objects.get(name="Segment")
    assert {link.persona_id for link in fg.participant_links.all()} == {people[0].id, people[1].id}
    resp = client.post(
        f"/projects/{project.id}/focus-groups/new/",
        form_data(
            [],
            participants="filters",
            count="2",
            gender="female",
            age_min="30",
            age_max="70",
            location="Kraków",
            occupation="nauczy",
            name="Filtry",
        ),
    )
    assert resp.status_code == 302
    chosen = [
        link.persona for link in FocusGroup.objects.get(name="Filtry").participant_links.select_related("persona")
    ]
    assert len(chosen) == 2 and all(p.gender == "female" and 30 <= p.age <= 70 for p in chosen)


def test_interviews_accept_a_single_participant(client, project, people):
    assert (
        client.post(f"/projects/{project.id}/focus-groups/new/", form_data(people[:1], mode="interviews")).status_code
        == 302
    )
    assert FocusGroup.objects.get(project=project).mode == "interviews"


@pytest.mark.parametrize(
    ("case", "fields", "field", "message"),
    [
        ("too few participants", {"personas": "ONE"}, "personas", "Choose 2 to 12 participants"),
        ("no participants", {"personas": []}, "personas", "this choice gives 0"),
        ("foreign persona", {"personas": "FOREIGN"}, "personas", "Select a valid choice"),
        ("not a uuid", {"personas": ["nie-uuid"]}, "personas", "is not a valid value"),
        ("empty guide", {"guide": " \n \n"}, "guide", "This field is required"),
        ("guide of probes only", {"guide": "- sonda bez pytania"}, "guide", "needs a question above it"),
        ("too many probes", {"guide": "Pytanie?\n" + "- sonda\n" * 6}, "guide", "more than 5 follow-up probes"),
        (
            "too many questions",
            {"guide": "\n".join(f"Pytanie {i}?" for i in range(21))},
            "guide",
            "At most 20 questions",
        ),
        ("long question", {"guide": "x" * 1001}, "guide", "at most 1000 characters"),
        ("long proposition", {"guide": "Pytanie?\n= " + "x" * 501}, "guide", "a proposition can have at most 500"),
        ("orphan proposition", {"guide": "= Teza\nPytanie?"}, "guide", "a proposition needs a question above it"),
        ("two propositions", {"guide": "Pytanie?\n= Teza\n= Druga"}, "guide", "only one proposition"),
        ("nul in proposition", {"guide": "Pytanie?\n= Teza\x00"}, "guide", "Null characters are not allowed"),
        ("nul in name", {"name": "Grupa\x00"}, "name", "Null characters are not allowed"),
        ("nul in guide", {"guide": "Pytanie\x00?"}, "guide", "Null characters are not allowed"),
        ("nul in persona id", {"personas": ["\x00"]}, "personas", "Null characters are not allowed"),
        ("empty name", {"name": "   "}, "name", "This field is required"),
        ("unknown mode", {"mode": "debate"}, "mode", "Select a valid choice"),
        ("zero turns", {"turns_per_question": "0"}, "turns_per_question", "greater than or equal to 1"),
        ("segment not chosen", {"participants": "segment"}, "segment", "Choose a segment"),
        ("foreign segment", {"participants": "segment", "segment": "SEGMENT"}, "segment", "Select a valid choice"),
        ("filters without count", {"participants": "filters", "count": ""}, "count", "how many personas"),
        (
            "filters matching too few",
            {"participants": "filters", "count": "3", "gender": "female"},
            "count",
            "Only 2 personas",
        ),
        ("too many requested", {"participants": "filters", "count": "13"}, "count", "Choose 2 to 12 participants"),
        (
            "inverted ages",
            {"participants": "filters", "count": "2", "age_min": "60", "age_max": "20"},
            "age_max",
            "must not be lower",
        ),
        ("unknown participant mode", {"participants": "everyone"}, "participants", "Select a valid choice"),
    ],
)
def test_invalid_input_re_renders_the_form_with_field_errors_and_never_500(
    client, project, people, case, fields, field, message
):
    foreign = create_persona()
    foreign_segment = Segment.objects.create(
        run=PersonaRun.objects.create(project=foreign.project, num_requested=1, seed=1),
        project=foreign.project,
        index=0,
        name="Obcy",
    )
    replacements = {
        "ONE": [str(people[0].id)],
        "FOREIGN": [str(people[0].id), str(foreign.id)],
        "SEGMENT": str(foreign_segment.id),
    }
    fields = {k: replacements.get(v, v) if isinstance(v, str) else v for k, v in fields.items()}
    resp = client.post(f"/projects/{project.id}/focus-groups/new/", form_data(people, **fields))
    html = resp.content.decode()
    assert resp.status_code == 422, case
    assert message in html, case
    assert re.search(rf'<ul class="errorlist[^"]*" id="id_{field}_error">', html), case
    assert not FocusGroup.objects.exists()


def test_edit_is_allowed_while_pending_and_refused_after_start(client, project, people):
    fg = create_focus_group(project=project, personas=people[:2], name="Grupa", turns=3)
    page = client.get(f"/focus-groups/{fg.id}/edit/").content.decode()
    assert "Czy zmieniłbyś bank?\n\nCo myślisz o opłatach?" in page and f'value="{people[0].id}"' in page
    resp = client.post(
        f"/focus-groups/{fg.id}/edit/",
        form_data(people[1:4], name="Nowa nazwa", guide="Jedno pytanie?\n- sonda", mode="interviews"),
    )
    assert resp.status_code == 302
    fg.refresh_from_db()
    assert (
        fg.name == "Nowa nazwa"
        and fg.mode == "interviews"
        and fg.questions == [{"text": "Jedno pytanie?", "probes": ["sonda"], "proposition": ""}]
    )
    assert [link.persona_id for link in fg.participant_links.all()] == [p.id for p in people[1:4]]
    assert client.post(f"/focus-groups/{fg.id}/edit/", form_data(people[:1], mode="discussion")).status_code == 422
    client.post(f"/focus-groups/{fg.id}/run/")
    fg.refresh_from_db()
    assert fg.status == "queued"
    assert client.get(f"/focus-groups/{fg.id}/edit/").status_code == 302
    resp = client.post(f"/focus-groups/{fg.id}/edit/", form_data(people[:2], name="Po starcie"))
    assert resp.status_code == 302 and resp["Location"] == f"/focus-groups/{fg.id}/"
    fg.refresh_from_db()
    assert fg.name == "Nowa nazwa"
    assert f'href="/focus-groups/{fg.id}/edit/"' not in client.get(f"/focus-groups/{fg.id}/").content.decode()


def test_the_domain_rejects_a_blank_name_and_a_discussion_left_with_one_participant(db):
    user, token = create_token()
    project = create_project(owner=user)
    people = [create_persona(project=project) for _ in range(2)]
    api = api_client(token)
    payload = {
        "name": "   ",
        "questions": [{"text": "Pytanie?"}],
        "participants": {"persona_ids": [str(p.id) for p in people]},
    }
    assert (
        api.post(f"/api/v1/projects/{project.id}/focus-groups", payload, content_type="application/json").status_code
        == 422
    )
    assert not FocusGroup.objects.exists()
    fg = create_focus_group(project=project, personas=people[:1], mode="interviews", name="Grupa", turns=3)
    assert api.patch(f"/api/v1/focus-groups/{fg.id}", {"name": " "}, content_type="application/json").status_code == 422
    assert (
        api.patch(f"/api/v1/focus-groups/{fg.id}", {"mode": "discussion"}, content_type="application/json").status_code
        == 422
    )
    fg.refresh_from_db()
    assert fg.mode == "interviews" and fg.name == "Grupa"
    assert (
        api.patch(
            f"/api/v1/focus-groups/{fg.id}",
            {"mode": "discussion", "participants": {"persona_ids": [str(p.id) for p in people]}},
            content_type="application/json",
        ).status_code
        == 200
    )


def test_delete_asks_first_and_is_refused_while_running(client, project, people):
    fg = create_focus_group(project=project, personas=people[:2], name="Grupa", turns=3)
    assert "Delete" in client.get(f"/focus-groups/{fg.id}/delete/").content.decode()
    FocusGroup.objects.filter(pk=fg.pk).update(status="running")
    assert (
        client.post(f"/focus-groups/{fg.id}/delete/").status_code == 302
        and FocusGroup.objects.filter(pk=fg.pk).exists()
    )
    FocusGroup.objects.filter(pk=fg.pk).update(status="stopped")
    resp = client.post(f"/focus-groups/{fg.id}/delete/")
    assert (
        resp.status_code == 302
        and resp["Location"] == f"/projects/{project.id}/focus-groups/"
        and not FocusGroup.objects.filter(pk=fg.pk).exists()
    )


# --- przebieg i sterowanie -----------------------------------------------------------------------------------------


def test_pending_page_shows_the_cost_estimate_and_a_budget_warning(client, user, people):
    project = create_project(owner=user, token_budget=1000)
    fg = create_focus_group(
        project=project, personas=[create_persona(project=project) for _ in range(3)], name="Grupa", turns=3
    )
    html = client.get(f"/focus-groups/{fg.id}/").content.decode()
    assert 'id="estimate"' in html and "model calls" in html and "budget exceeded" in html
    assert (
        f'action="/focus-groups/{fg.id}/run/"' in html
        and f'action="/focus-groups/{fg.id}/pause/"' not in html
        and "ws-connect" not in html
    )


def test_run_creates_a_job_and_the_page_streams_progress(client, project, people, django_capture_on_commit_callbacks):
    fg = create_focus_group(project=project, personas=people[:3], name="Grupa", turns=3)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"/focus-groups/{fg.id}/run/")
    assert resp.status_code == 302 and resp["Location"] == f"/focus-groups/{fg.id}/"
    fg.refresh_from_db()
    job = Job.objects.get(pk=fg.job_id)
    assert (
        fg.status == "queued"
        and job.kind == "focus_groups.run"
        and job.user == project.owner
        and job.progress_total == 6
    )
    html = client.get(f"/focus-groups/{fg.id}/").content.decode()
    assert "<b data-fg-done>0</b> of 6 turns" in html and 'data-total="6"' in html and f'href="/jobs/{job.id}/"' in html
    assert (
        f'ws-connect="/ws/focus-groups/{fg.id}/?after=0"' in html
        and 'id="fg-stream"' in html
        and "focus_group.js" in html
    )
    assert (
        f'action="/focus-groups/{fg.id}/pause/"' in html
        and f'action="/focus-groups/{fg.id}/stop/"' in html
        and f'action="/focus-groups/{fg.id}/run/"' not in html
    )
    assert 'id="fg-interject"' in html
    htmx = client.post(f"/focus-groups/{fg.id}/run/", **HTMX)
    assert (
        htmx.status_code == 200
        and htmx["HX-Redirect"] == f"/focus-groups/{fg.id}/"
        and Job.objects.filter(kind="focus_groups.run").count() == 1
    )


def test_a_whole_run_in_the_worker_ends_with_results_on_the_page(
    client, project, people, django_capture_on_commit_callbacks
):
    fg = create_focus_group(project=project, personas=people[:3], turns=2, name="Grupa")
    script_discussion()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/focus-groups/{fg.id}/run/")
    run_worker()
    fg.refresh_from_db()
    assert fg.status == "completed"
    html = client.get(f"/focus-groups/{fg.id}/").content.decode()
    assert (
        "ws-connect" not in html and 'id="transcript"' in html and 'id="statistics"' in html and 'id="summary"' in html
    )
    for seq in fg.events.filter(kind="turn").values_list("seq", flat=True):
        assert html.count(f'id="event-{seq}"') == 1
    assert "Resume" not in html and f'href="/focus-groups/{fg.id}/export/pdf/"' in html


def test_pause_resume_stop_and_interjections_change_state(client, project, people, django_capture_on_commit_callbacks):
    fg = create_focus_group(project=project, personas=people[:3], name="Grupa", turns=3)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/focus-groups/{fg.id}/run/")
    first_job = FocusGroup.objects.get(pk=fg.pk).job_id
    resp = client.post(f"/focus-groups/{fg.id}/pause/", **HTMX)
    body = resp.content.decode()
    assert (
        resp.status_code == 200
        and body.strip().startswith('<div id="fg-status"')
        and 'hx-swap-oob="true"' in body
        and "Resume" in body
    )
    fg.refresh_from_db()
    assert fg.status == "paused" and Job.objects.get(pk=first_job).status == "cancelled"
    assert client.post(f"/focus-groups/{fg.id}/pause/").status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/focus-groups/{fg.id}/resume/").status_code == 302
    fg.refresh_from_db()
    assert fg.status == "queued" and fg.job_id != first_job
    resp = client.post(f"/focus-groups/{fg.id}/interject/", {"text": "A co z aplikacją <b>mobilną</b>?"}, **HTMX)
    body = resp.content.decode()
    assert (
        resp.status_code == 200
        and body.strip().startswith('<form id="fg-interject"')
        and "Sent." in body
        and "<textarea" in body
    )
    event = fg.events.get(kind="interjection")
    assert event.payload["text"] == "A co z aplikacją <b>mobilną</b>?"
    resp = client.post(f"/focus-groups/{fg.id}/interject/", {"text": "Bez JS?"})
    assert resp.status_code == 302 and resp["Location"].endswith(f"#event-{event.seq + 1}")
    assert client.post(f"/focus-groups/{fg.id}/interject/", {"text": ""}, **HTMX).status_code == 422
    assert client.post(f"/focus-groups/{fg.id}/interject/", {"text": "zły\x00znak"}).status_code == 422
    assert client.post(f"/focus-groups/{fg.id}/stop/").status_code == 302
    fg.refresh_from_db()
    assert fg.status == "stopped"
    resp = client.post(f"/focus-groups/{fg.id}/interject/", {"text": "Za późno"}, **HTMX)
    assert (
        resp.status_code == 409
        and "has finished" in resp.content.decode()
        and fg.events.filter(kind="interjection").count() == 2
    )
    resp = client.post(f"/focus-groups/{fg.id}/resume/", **HTMX)
    assert resp["HX-Redirect"] == f"/focus-groups/{fg.id}/"
    fg.refresh_from_db()
    assert fg.status == "stopped" and "can be resumed" in client.get(f"/focus-groups/{fg.id}/").content.decode()
    for url in (
        f"/focus-groups/{fg.id}/run/",
        f"/focus-groups/{fg.id}/pause/",
        f"/focus-groups/{fg.id}/interject/",
        f"/focus-groups/{fg.id}/summary/",
    ):
        assert client.get(url).status_code in (302, 405), url


def test_the_live_page_renders_every_event_so_far_and_connects_after_the_last(client, project, people):
    fg = create_focus_group(project=project, personas=people[:2], name="Grupa", turns=3)
    fg.append_event("question", key="q0:question", payload={"text": "Czy zmieniłbyś bank?"}, question_index=0)
    fg.append_event(
        "turn",
        key="q0:turn:0",
        payload={
            "text": "Tak, dla <b>aplikacji</b>.",
            "persona_name": people[0].full_name,
            "addressed_to": people[1].full_name,
        },
        persona_id=people[0].id,
        question_index=0,
    )
    fg.set_status(FocusGroup.Status.RUNNING)
    html = client.get(f"/focus-groups/{fg.id}/").content.decode()
    assert (
        f'ws-connect="/ws/focus-groups/{fg.id}/?after=2"' in html and 'id="event-1"' in html and 'id="event-2"' in html
    )
    assert "Tak, dla &lt;b&gt;aplikacji&lt;/b&gt;." in html and "<b>aplikacji" not in html
    now = re.search(r'<p id="fg-now-speaker"[^>]*>(.*?)</p>', html, re.S)[1]
    assert (
        people[0].full_name in now
        and "Czy zmieniłbyś bank?" in re.search(r'<p id="fg-now-question"[^>]*>(.*?)</p>', html, re.S)[1]
    )


# --- fragmenty websocketu --------------------------------------------------------------------------------------------


def test_event_live_fragment_appends_out_of_band_and_escapes_turn_text():
    event = {
        "seq": 7,
        "kind": "turn",
        "persona_id": None,
        "question_index": 0,
        "created_at": "2025-01-01T00:00:00+00:00",
        "payload": {
            "text": "<script>alert('x')</script>",
            "persona_name": "<img src=x onerror=alert(1)>",
            "agrees_with": ["a"],
            "disagrees_with": [],
        },
    }
    html = render_to_string("focus_groups/detail.html#event_live", {"e": event})
    assert html.strip().startswith('<div hx-swap-oob="beforeend:#fg-stream">') and 'id="event-7"' in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img" not in html
    assert 'id="fg-now-speaker" class="fg-now__value" hx-swap-oob="true"' in html and "<html" not in html
    question = render_to_string(
        "focus_groups/detail.html#event_live",
        {"e": {**event, "kind": "question", "payload": {"text": "Pytanie <script>?"}}},
    )
    assert (
        'id="fg-now-question" class="fg-now__value" hx-swap-oob="true"' in question
        and "&lt;script&gt;" in question
        and "<script>" not in question
    )


def test_status_live_fragment_swaps_the_controls_and_posts_with_htmx(db):
    fg = FocusGroup(id="7b3c1f0e-0000-4000-8000-000000000000", status="paused", control="pause", last_seq=12)
    state = fg.live_state()
    html = render_to_string("focus_groups/detail.html#status_live", {"state": state})
    assert (
        html.strip().startswith('<div id="fg-status"')
        and 'hx-swap-oob="true"' in html
        and 'data-status="paused"' in html
    )
    assert (
        f'hx-post="/focus-groups/{state["id"]}/resume/"' in html
        and f'hx-post="/focus-groups/{state["id"]}/stop/"' in html
        and "/pause/" not in html
    )
    fg.status, fg.control = FocusGroup.Status.COMPLETED, ""
    done = render_to_string("focus_groups/detail.html#status_live", {"state": fg.live_state()})
    assert (
        "data-finished" in done
        and "hx-post" not in done
        and f'href="/focus-groups/{state["id"]}/?results=1#summary"' in done
    )


def test_the_websocket_sends_the_page_fragments_to_the_browser(transactional_db):
    from asgiref.sync import async_to_sync
    from channels.testing import WebsocketCommunicator

    from sight.asgi import application

    user = create_user()
    project = create_project(owner=user)
    people = [create_persona(project=project) for _ in range(2)]
    fg = create_focus_group(project=project, personas=people, name="Grupa", turns=3)
    fg.append_event(
        "turn",
        key="t0",
        payload={"text": "pierwsza <script>", "persona_name": "A"},
        persona_id=people[0].id,
        question_index=0,
    )
    browser = Client()
    browser.force_login(user)
    headers = [
        (b"cookie", f"sessionid={browser.cookies['sessionid'].value}".encode()),
        (b"origin", b"http://testserver"),
    ]

    async def scenario():
        comm = WebsocketCommunicator(application, f"/ws/focus-groups/{fg.id}/?after=0", headers=headers)
        connected, _ = await comm.connect()
        assert connected
        first = await comm.receive_from()
        assert 'hx-swap-oob="beforeend:#fg-stream"' in first and 'id="event-1"' in first and "&lt;script&gt;" in first
        status = await comm.receive_from()
        assert status.strip().startswith('<div id="fg-status"') and 'hx-swap-oob="true"' in status
        await comm.disconnect()

    async_to_sync(scenario)()
    assert fg.group_name == f"focus-group-{fg.id}"


# --- dostęp i CSRF
# -----------------------------------------------------------------------------------------------------


def test_csrf_is_enforced_on_every_post(user, project, people):
    fg = create_focus_group(project=project, personas=people[:2], name="Grupa", turns=3)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    urls = [
        f"/projects/{project.id}/focus-groups/new/",
        *(
            f"/focus-groups/{fg.id}/{a}/"
            for a in ("edit", "delete", "run", "resume", "pause", "stop", "interject", "summary")
        ),
    ]
    for url in urls:
        assert client.post(url, form_data(people[:2], text="x")).status_code == 403, url
        assert client.post(url, form_data(people[:2], text="x"), **HTMX).status_code == 403, url
    fg.refresh_from_db()
    assert fg.status == "pending" and FocusGroup.objects.count() == 1 and not fg.events.exists()
    page = client.get(f"/focus-groups/{fg.id}/").content.decode()
    header_token = re.search(r"""hx-headers='\{"X-CSRFToken": "([^"]+)"\}'""", page)[1]
    assert client.post(f"/focus-groups/{fg.id}/run/", HTTP_X_CSRFTOKEN=header_token, **HTMX).status_code == 200
    fg.refresh_from_db()
    assert fg.status == "queued"


def test_another_users_focus_group_is_404_everywhere(client, people):
    other_project = create_project(name="Cudzy")
    fg = create_focus_group(
        project=other_project, personas=[create_persona(project=other_project) for _ in range(2)], name="Grupa", turns=3
    )
    fg.append_event("turn", key="t0", payload={"text": "tajne", "persona_name": "X"}, question_index=0)
    for url in (
        f"/focus-groups/{fg.id}/",
        f"/focus-groups/{fg.id}/edit/",
        f"/focus-groups/{fg.id}/delete/",
        f"/focus-groups/{fg.id}/summary/",
        f"/focus-groups/{fg.id}/export/md/",
        f"/projects/{other_project.id}/focus-groups/",
        f"/projects/{other_project.id}/focus-groups/new/",
    ):
        assert client.get(url).status_code == 404, url
        assert client.get(url, **HTMX).status_code == 404, url
    for action in ("edit", "delete", "run", "resume", "pause", "stop", "interject", "summary"):
        assert client.post(f"/focus-groups/{fg.id}/{action}/", {"text": "x", "name": "przejęta"}).status_code == 404, (
            action
        )
    assert client.post(f"/projects/{other_project.id}/focus-groups/new/", form_data(people[:2])).status_code == 404
    fg.refresh_from_db()
    assert fg.status == "pending" and fg.name == "Grupa" and fg.events.count() == 1 and not Job.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(db):
    project = create_project()
    fg = create_focus_group(
        project=project, personas=[create_persona(project=project) for _ in range(2)], name="Grupa", turns=3
    )
    resp = Client().get(f"/focus-groups/{fg.id}/")
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


# --- wyniki --------------------------------------------------------------------------------------------------------


def test_transcript_filters_return_the_right_turns(client, project, people):
    fg = finished_group(project, people)
    url = f"/focus-groups/{fg.id}/"
    full = client.get(url).content.decode()
    all_turns = (
        "Zmieniłabym bank dla aplikacji.",
        "Zostaję, bo ufam oddziałowi.",
        "Opłaty za kartę są za wysokie.",
        "Opłaty mnie nie obchodzą.",
    )
    assert all(t in full for t in all_turns) and 'id="transcript"' in full

    def shown(**params):
        resp = client.get(url, params, **HTMX)
        body = resp.content.decode()
        assert resp.status_code == 200 and body.strip().startswith('<div id="transcript"') and "<html" not in body
        return {t for t in all_turns if t in body}

    assert shown(q="opłaty") == {"Opłaty za kartę są za wysokie.", "Opłaty mnie nie obchodzą."}
    assert shown(persona=str(people[0].id)) == {"Zmieniłabym bank dla aplikacji.", "Opłaty mnie nie obchodzą."}
    assert shown(question="0") == {"Zmieniłabym bank dla aplikacji.", "Zostaję, bo ufam oddziałowi."}
    assert shown(stance="oppose") == {"Zostaję, bo ufam oddziałowi.", "Opłaty za kartę są za wysokie."}
    assert shown(stance="support", question="0") == {"Zmieniłabym bank dla aplikacji."}
    assert shown(q="nic takiego") == set()
    bad = client.get(url, {"persona": "obcy", "question": "99", "stance": "love", "q": "x" * 300}, **HTMX)
    assert (
        bad.status_code == 200
        and "Some filters were ignored" in bad.content.decode()
        and {t for t in all_turns if t in bad.content.decode()} == set(all_turns)
    )
    filtered_page = client.get(url, {"q": "opłaty"}).content.decode()
    assert (
        "<html" in filtered_page
        and 'value="opłaty"' in filtered_page
        and "Zostaję, bo ufam oddziałowi." not in filtered_page
    )


def test_statistics_show_participation_and_stance_shifts(client, project, people):
    fg = finished_group(project, people)
    html = client.get(f"/focus-groups/{fg.id}/").content.decode()
    section = re.search(r'<section class="card" id="statistics">(.*?)</section>', html, re.S)[1]
    assert people[0].full_name in section and 'style="width: 100.0%"' in section
    assert (
        "1 of 2 participants changed their stance on this proposition." in section
        and "2 of 2 participants changed their stance on this proposition." in section
        and "Proposition:</span> Opłata 10 zł za konto jest uczciwa." in section
    )


def test_a_stopped_question_shows_its_stances_before_and_an_open_question_shows_none(client, project, people):
    guide = [{"text": "Kubki?", "proposition": "Kaucja 5 zł za kubek jest uczciwa."}, "Jak kupujesz kawę?"]
    fg = create_focus_group(project=project, personas=people[:2], name="Kubki", turns=3, questions=guide)
    fg.append_event("question", key="q0:question", payload=fg.questions[0], question_index=0)
    record_stance(fg, people[0], "before", "support")
    record_stance(fg, people[1], "before", "oppose")
    fg.set_status(FocusGroup.Status.STOPPED)
    html = client.get(f"/focus-groups/{fg.id}/").content.decode()
    section = re.search(r'<section class="card" id="statistics">(.*?)</section>', html, re.S)[1]
    assert "only the stances before it are shown" in section and ">Before<" in section and ">After<" not in section
    assert "Proposition:</span> Kaucja 5 zł za kubek jest uczciwa." in section and "Jak kupujesz kawę?" not in section
    assert html.count("fg-event fg-event--stance") == 2 and "before the discussion" in html


def test_summary_citations_link_to_turns_in_the_transcript(client, project, people):
    fg = finished_group(project, people)
    first, second = turn_seq(fg, "Zmieniłabym bank dla aplikacji."), turn_seq(fg, "Opłaty za kartę są za wysokie.")
    fg.summary = {
        "executive_summary": "Uczestnicy <script>x</script> różnią się.",
        "key_insights": [
            {"text": "Aplikacja przyciąga.", "citations": [first]},
            {"text": "Opłaty zniechęcają.", "citations": [second, first]},
        ],
        "surprising_findings": [
            {"text": "Zaufanie do oddziału.", "citations": [turn_seq(fg, "Zostaję, bo ufam oddziałowi.")]}
        ],
        "segment_differences": ["Młodsi chcą aplikacji."],
        "recommendations": ["Obniżyć opłaty."],
        "sentiment_narrative": "Mieszany.",
        "model": "fake-model",
        "generated_at": "2025-01-01T00:00:00+00:00",
    }
    fg.save()
    html = client.get(f"/focus-groups/{fg.id}/").content.decode()
    cited = re.findall(rf'href="/focus-groups/{fg.id}/#event-(\d+)"', html)
    assert (
        sorted(set(map(int, cited))) == sorted({first, second, turn_seq(fg, "Zostaję, bo ufam oddziałowi.")})
        and len(cited) == 4
    )
    for seq in set(cited):
        assert html.count(f'id="event-{seq}"') == 1
    assert "&lt;script&gt;x" in html and "<script>x" not in html and "Regenerate" in html and "Obniżyć opłaty." in html


def test_generate_summary_starts_a_job_shows_its_progress_and_then_the_summary(
    client, project, people, django_capture_on_commit_callbacks
):
    fg = finished_group(project, people)
    turns = list(fg.events.filter(kind="turn").values_list("seq", flat=True))
    llm.script(
        "summary",
        [
            {
                "executive_summary": "Uczestnicy " * 20,
                "key_insights": [
                    {"text": "Opłaty są barierą.", "citations": turns[:2]},
                    {"text": "Aplikacja ma znaczenie.", "citations": [turns[2]]},
                ],
                "surprising_findings": [],
                "segment_differences": [],
                "recommendations": ["Obniżyć opłaty."],
                "sentiment_narrative": "Umiarkowanie pozytywny ton.",
            }
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"/focus-groups/{fg.id}/summary/", **HTMX)
    body = resp.content.decode()
    fg.refresh_from_db()
    job = Job.objects.get(pk=fg.summary_job_id)
    assert (
        resp.status_code == 200
        and body.strip().startswith('<section class="card fg-summary" id="summary"')
        and 'hx-trigger="every 2s"' in body
        and f'id="job-{job.id}"' in body
    )
    run_worker()
    body = client.get(f"/focus-groups/{fg.id}/summary/", **HTMX).content.decode()
    assert (
        "every 2s" not in body
        and "Opłaty są barierą." in body
        and f'href="/focus-groups/{fg.id}/#event-{turns[0]}"' in body
        and "Regenerate" in body
    )
    assert client.post(f"/focus-groups/{fg.id}/summary/").status_code == 302
    fg.refresh_from_db()
    assert Job.objects.get(pk=fg.summary_job_id).params["regenerate"] is True


def test_summary_of_a_silent_group_is_refused_in_place(client, project, people):
    fg = create_focus_group(project=project, personas=people[:2], name="Grupa", turns=3)
    fg.append_event("question", key="q0:question", payload={"text": "?"}, question_index=0)
    fg.set_status(FocusGroup.Status.STOPPED)
    resp = client.post(f"/focus-groups/{fg.id}/summary/", **HTMX)
    assert resp.status_code == 409 and "nothing to summarise" in resp.content.decode() and not Job.objects.exists()


def test_exports_download_in_every_format(client, project, people):
    fg = finished_group(project, people)
    md = client.get(f"/focus-groups/{fg.id}/export/md/")
    assert (
        md.status_code == 200
        and "attachment" in md["Content-Disposition"]
        and "Zmieniłabym bank dla aplikacji." in md.content.decode()
    )
    pdf = client.get(f"/focus-groups/{fg.id}/export/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/focus-groups/{fg.id}/export/csv/").content.decode("utf-8-sig")))
    )
    assert {r["text"] for r in rows if r["kind"] == "turn"} == {
        "Zmieniłabym bank dla aplikacji.",
        "Zostaję, bo ufam oddziałowi.",
        "Opłaty za kartę są za wysokie.",
        "Opłaty mnie nie obchodzą.",
    }
    data = json.loads(client.get(f"/focus-groups/{fg.id}/export/json/").content)
    assert data["focus_group"]["id"] == str(fg.id) and len(data["events"]) == fg.last_seq
    assert client.get(f"/focus-groups/{fg.id}/export/exe/").status_code == 404


def test_interviews_show_answers_without_stance_shifts(client, project, people):
    fg = create_focus_group(
        project=project, personas=people[:2], mode="interviews", questions=("Jak płacisz?",), name="Grupa", turns=3
    )
    fg.append_event("question", key="q0:question", payload={"text": "Jak płacisz?"}, question_index=0)
    fg.append_event(
        "answer",
        key=f"q0:answer:{people[0].id}",
        payload={"text": "Zawsze kartą.", "persona_name": people[0].full_name},
        persona_id=people[0].id,
        question_index=0,
    )
    fg.set_status(FocusGroup.Status.COMPLETED)
    html = client.get(f"/focus-groups/{fg.id}/").content.decode()
    assert "Zawsze kartą." in html and "Stance shifts" not in html and 'id="statistics"' in html


def test_the_admin_checks_the_guide_like_the_api_and_keeps_propositions(db):
    from django.forms.models import model_to_dict

    from focus_groups.admin import FocusGroupAdminForm

    fg = create_focus_group(name="Admin", turns=3)

    def form(questions):
        data = {k: v for k, v in model_to_dict(fg).items() if v is not None}
        data["participants"] = [p.pk for p in data["participants"]]
        return FocusGroupAdminForm(data={**data, "questions": json.dumps(questions)}, instance=fg)

    good = form(["Otwarte?", {"text": "Kubki?", "probes": ["", "Ile?"], "proposition": " Kaucja jest uczciwa. "}])
    assert good.is_valid(), good.errors
    assert good.cleaned_data["questions"] == [
        {"text": "Otwarte?", "probes": [], "proposition": ""},
        {"text": "Kubki?", "probes": ["Ile?"], "proposition": "Kaucja jest uczciwa."},
    ]
    for bad in ({"text": "Kubki?", "proposition": "x" * 501}, {"text": "Kubki?", "proposition": "a\x00"}, {"txt": 1}):
        rejected = form([bad])
        assert not rejected.is_valid() and "questions" in rejected.errors
    assert "proposition" in form([{"text": "K?", "proposition": "x" * 501}]).errors["questions"][0]
