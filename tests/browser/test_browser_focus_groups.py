"""Grupa fokusowa w przeglądarce: dyskusja na żywo z wtrąceniem badacza i pauzą dłuższą niż 10 s bez zerwania
websocketu, podsumowanie z cytatami prowadzącymi do transkrypcji i eksporty raportu.
"""

import re

from playwright.sync_api import expect

from focus_groups import discussion
from focus_groups.models import FocusGroup
from tests.factories import create_focus_group, create_panel_persona, create_project, create_user, wait_for

QUESTIONS = (
    "How do you pay for coffee today?",
    "Would a deposit on cups change that?",
    "What would you tell a friend?",
)
IDLE_MS = 12_000  # dłużej niż blokujący odczyt warstwy kanałów (5 s) i niż dawny limit gniazda Redisa


def discussion_group(user, *, language="en", turns=4):
    """Grupa trzech person z przewodnikiem trzech pytań w projekcie użytkownika."""
    project = create_project(owner=user, name="Coffee", language=language)
    people = [
        create_panel_persona(project=project, full_name=n) for n in ("Anna Nowak", "Piotr Zieliński", "Ewa Wójcik")
    ]
    return create_focus_group(project=project, personas=people, name="Cups", turns=turns, questions=QUESTIONS)


def test_a_live_discussion_takes_interjections_and_survives_a_long_pause_on_one_socket(open_page, step, worker):
    user = create_user()
    fg = discussion_group(user)
    page = open_page(user=user)
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket) if "/ws/focus-groups/" in socket.url else None)
    page.goto(f"/focus-groups/{fg.id}/")

    step("run the discussion and watch the first turns arrive")
    page.locator("#fg-status").get_by_role("button", name="Run").click()
    stream = page.locator("#fg-stream")
    expect(stream.locator(".fg-event--turn").first).to_be_visible(timeout=120_000)

    step("pause it")
    page.locator("#fg-status").get_by_role("button", name="Pause").click()
    expect(page.locator("#fg-status")).to_have_attribute("data-status", "paused", timeout=120_000)
    assert sockets and not sockets[-1].is_closed()
    opened = len(sockets)

    step("ask the group a question while it is paused")
    form = page.locator("#fg-interject")
    form.locator("textarea[name=text]").fill("Would a reusable cup club change your mind?")
    form.get_by_role("button", name="Send to the moderator").click()
    expect(page.locator("#fg-interject .fg-sent")).to_be_visible()
    expect(stream.locator(".fg-event--interjection")).to_contain_text("reusable cup club")

    step("stay idle for longer than the channel layer's blocking read")
    page.wait_for_timeout(IDLE_MS)
    assert len(sockets) == opened and not sockets[-1].is_closed(), "the live page reconnected during the pause"
    # Ten sam websocket wciąż dostarcza: drugie wtrącenie przychodzi nim, bez przeładowania strony.
    form = page.locator("#fg-interject")
    form.locator("textarea[name=text]").fill("And if the deposit were 1 zł?")
    form.get_by_role("button", name="Send to the moderator").click()
    expect(stream.locator(".fg-event--interjection")).to_have_count(2)
    assert len(sockets) == opened and not sockets[-1].is_closed()

    step("resume and let it finish")
    page.locator("#fg-status").get_by_role("button", name="Resume").click()
    expect(page.locator("#fg-status")).to_have_attribute("data-status", "completed", timeout=180_000)

    step("the moderator posed both interjections")
    fg.refresh_from_db()
    interjections = list(fg.events.filter(kind="interjection").values_list("seq", flat=True))
    posed = fg.events.filter(kind="moderator", payload__interjection_seq__in=interjections)
    assert len(interjections) == 2 and posed.count() == 2
    page.locator("#fg-status").get_by_role("link", name="Show the results").click()
    for seq in posed.values_list("seq", flat=True):
        expect(page.locator(f"#transcript #event-{seq}.fg-event--moderator")).to_be_visible()


def test_summary_citations_lead_to_the_transcript_and_the_report_downloads_in_polish(open_page, step, worker):
    user = create_user()
    fg = discussion_group(user, language="pl", turns=2)
    discussion.start_run(fg, user=user)
    wait_for(lambda: FocusGroup.objects.get(pk=fg.pk).is_finished, timeout=180)
    page = open_page(user=user, language="pl")
    page.goto(f"/focus-groups/{fg.id}/")

    step("write the summary")
    summary = page.locator("#summary")
    summary.get_by_role("button", name="Napisz podsumowanie").click()
    cite = page.locator("#summary a.fg-cite").first
    expect(cite).to_be_visible(timeout=120_000)
    expect(summary.get_by_role("heading", name="Najważniejsze wnioski")).to_be_visible()

    step("follow a citation to its turn")
    seq = re.fullmatch(r"#(\d+)", cite.inner_text().strip()).group(1)
    cite.click()
    expect(page).to_have_url(re.compile(rf"#event-{seq}$"))
    expect(page.locator(f"#transcript #event-{seq}")).to_be_in_viewport()

    step("download the reports")
    exports = page.locator("#exports")
    kinds = {"Raport (Markdown)": "text/markdown", "Raport (PDF)": "application/pdf", "Wypowiedzi (CSV)": "text/csv"}
    for label, kind in kinds.items():
        response = page.request.get(exports.get_by_role("link", name=label).get_attribute("href"))
        assert response.status == 200 and response.headers["content-type"].startswith(kind), (label, response.headers)
    with page.expect_download() as download:
        exports.get_by_role("link", name="Raport (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
