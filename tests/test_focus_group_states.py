"""Słowa stanu grupy fokusowej: trwa, do wznowienia, skończona, zamknięta — jedno źródło dla domeny, stron i
powiadomień.
"""

import pytest
from django.template.loader import render_to_string
from django.test import Client

from focus_groups import discussion
from focus_groups.models import FocusGroup
from focus_groups.setup import FocusGroupIn, create_focus_group
from sight.errors import Conflict
from tests.conftest import create_persona, create_project, create_user

Status = FocusGroup.Status
ACCEPTING = {Status.PENDING, Status.QUEUED, Status.RUNNING, Status.PAUSED, Status.FAILED, Status.BUDGET_EXCEEDED}


def make_group(project=None):
    project = project or create_project()
    people = [create_persona(project=project) for _ in range(2)]
    data = FocusGroupIn(
        name="FG", questions=[{"text": "Czy?", "probes": []}], participants={"persona_ids": [p.id for p in people]}
    )
    return create_focus_group(project, data)


def test_every_status_has_exactly_one_place_among_the_state_words():
    for status in Status:
        fg = FocusGroup(status=status)
        words = {
            "pending": status == Status.PENDING,
            "active": fg.is_active,
            "paused": status == Status.PAUSED,
            "finished": fg.is_finished,
        }
        assert sum(words.values()) == 1, status
        assert fg.is_closed == (status in (Status.COMPLETED, Status.STOPPED))
        assert fg.is_resumable == (status in (Status.PAUSED, Status.FAILED, Status.BUDGET_EXCEEDED))


@pytest.mark.django_db
@pytest.mark.parametrize("status", list(Status))
def test_an_interjection_is_accepted_until_the_group_is_closed(status):
    fg = make_group()
    FocusGroup.objects.filter(pk=fg.pk).update(status=status)
    fg.refresh_from_db()
    if status in ACCEPTING:
        event = discussion.interject(fg, text="A co z ceną?", user=None)
        assert event.kind == "interjection" and event.payload == {"text": "A co z ceną?"}
    else:
        with pytest.raises(Conflict):
            discussion.interject(fg, text="A co z ceną?", user=None)
        assert not fg.events.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.COMPLETED, Status.STOPPED, Status.FAILED, Status.BUDGET_EXCEEDED])
def test_finishing_in_any_finished_state_records_the_time(status):
    fg = make_group()
    fg.set_status(status)
    assert fg.is_finished and fg.finished_at is not None


@pytest.mark.django_db
def test_the_page_and_the_push_render_the_status_from_the_same_state():
    user = create_user()
    fg = make_group(create_project(owner=user))
    fg.set_status(Status.BUDGET_EXCEEDED, error="budget")
    state = fg.live_state()
    assert state == {
        "id": str(fg.id),
        "status": "budget_exceeded",
        "control": "",
        "last_seq": 0,
        "active": False,
        "resumable": True,
        "finished": True,
    }
    pushed = render_to_string("focus_groups/detail.html#status_live", {"state": state})
    assert "data-finished" in pushed and f'hx-post="/focus-groups/{fg.id}/resume/"' in pushed
    client = Client()
    client.force_login(user)
    page = client.get(f"/focus-groups/{fg.id}/").content.decode()
    assert 'data-status="budget_exceeded" data-finished' in page and f'action="/focus-groups/{fg.id}/resume/"' in page


@pytest.mark.django_db
def test_focus_groups_are_visible_exactly_where_their_project_is():
    owner, stranger = create_user(), create_user()
    fg = make_group(create_project(owner=owner))
    assert list(FocusGroup.objects.for_user(owner)) == [fg]
    assert not FocusGroup.objects.for_user(stranger).exists()
    assert fg.group_name == f"focus-group-{fg.id}"
