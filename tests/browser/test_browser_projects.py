"""Projekt i panel w przeglądarce: edytor rozkładu (po polsku), generowanie panelu na żywo i karta trafności, która
wskazuje sklonowany panel.
"""

import re

from playwright.sync_api import expect

from personas.models import Persona
from sight.models import Project
from tests.factories import create_panel_persona, create_project, create_user


def test_a_researcher_creates_a_project_with_a_preset_and_a_category_of_their_own_in_polish(open_page, step):
    user = create_user()
    page = open_page(user=user, language="pl")
    page.goto("/projects/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nowy projekt")
    page.locator("input[name=name]").fill("Kawa na wynos")

    step("load the Polish market preset")
    page.locator("#id_preset").select_option(label="Polska (dorośli 18+)")
    page.get_by_role("button", name="Wczytaj preset").click()
    editor = page.locator("[data-dist-editor]")
    expect(editor.locator("[data-dist-name]").first).to_have_value("age_group")
    # Skrypt edytora usuwa pusty wiersz zapasowy (dla przeglądarek bez JS) dopiero po podmianie: liczymy po nim.
    expect(page.locator("[data-dist-editor][data-dist-ready]")).to_be_attached()
    presets = editor.locator("[data-dist-category]:not([data-extra])").count()

    step("add a category, weights that do not sum to 1, then scale them")
    page.get_by_role("button", name="Dodaj kategorię").click()
    category = editor.locator("[data-dist-category]").last
    expect(category.locator("[data-dist-name]")).to_be_focused()
    category.locator("[data-dist-name]").fill("kanał zakupu")
    category.locator("input[name$=-bucket]").last.fill("online")
    category.locator("[data-dist-weight]").last.fill("3")
    category.get_by_role("button", name="+ koszyk").click()
    category.locator("input[name$=-bucket]").last.fill("sklep")
    category.locator("[data-dist-weight]").last.fill("1")
    total = category.locator("[data-dist-sum]")
    expect(total.locator("output")).to_have_text("4")
    expect(total).to_have_class(re.compile(r"\bdist-sum--bad\b"))
    category.get_by_role("button", name="Skaluj do 1").click()
    expect(total.locator("output")).to_have_text("1")
    expect(total).to_have_class(re.compile(r"\bdist-sum--ok\b"))
    expect(category.locator("[data-dist-weight]").first).to_have_value("0,75")  # polski interfejs: przecinek dziesiętny
    expect(category.locator("[data-dist-weight]").last).to_have_value("0,25")

    step("save the project")
    page.get_by_role("button", name="Utwórz projekt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kawa na wynos")
    project = Project.objects.get(owner=user)
    assert project.target_demographics["kanał zakupu"] == {"online": 0.75, "sklep": 0.25}
    assert len(project.target_demographics) == presets + 1
    # Etykiety presetu po polsku, nie klucze.
    bars = page.locator("section.card", has=page.get_by_role("heading", name="Rozkład demograficzny"))
    expect(bars.get_by_role("heading", name=re.compile("^Wiek"))).to_be_visible()
    expect(bars.get_by_role("heading", name="kanał zakupu")).to_be_visible()


# Zapisuje na stronie, ile kart person było w panelu po każdej zmianie (przez CDP, więc CSP strony tego nie blokuje).
RECORD_CARD_COUNTS = """() => {
  window.sightCardCounts = [];
  new MutationObserver(() => {
    const n = document.querySelectorAll('#persona-cards .persona-card').length;
    if (window.sightCardCounts.at(-1) !== n) window.sightCardCounts.push(n);
  }).observe(document.body, {childList: true, subtree: true});
}"""


def test_a_generated_panel_streams_into_the_project_page_card_by_card(open_page, step, worker):
    user = create_user()
    project = create_project(owner=user, name="Bank", target_sample_size=8)
    page = open_page(user=user)
    sockets = []
    page.on("websocket", lambda socket: sockets.append(socket))
    page.goto(f"/projects/{project.id}/")

    step("start a generation run from the project page")
    section = page.locator("#personas")
    section.locator("input[name=num_personas]").fill("8")
    section.locator("input[name=seed]").fill("7")
    page.evaluate(RECORD_CARD_COUNTS)
    section.get_by_role("button", name="Generate personas").click()

    step("watch the cards arrive")
    expect(page.locator("#personas .job--succeeded")).to_be_visible(timeout=120_000)
    expect(page.locator("#persona-cards .persona-card")).to_have_count(8)
    counts = page.evaluate("window.sightCardCounts")
    # Ta sama strona (rejestr przetrwał), a karty przybywały po kilka, zanim sekcja odświeżyła się na koniec.
    assert counts[-1] == 8 and any(0 < n < 8 for n in counts), counts
    assert [s.url for s in sockets if "/ws/jobs/" in s.url], [s.url for s in sockets]
    assert Persona.objects.filter(project=project).count() == 8


def test_the_validity_card_names_a_persona_cloned_into_the_panel(open_page, step):
    user = create_user()
    project = create_project(owner=user)
    for gender, age_group in [("female", "18-34"), ("male", "18-34"), ("female", "35+"), ("male", "35+")] * 2:
        create_panel_persona(project=project, demographics={"gender": gender, "age_group": age_group})
    create_panel_persona(project=project, full_name="Jan Kowalski", demographics={"gender": "male", "age_group": "35+"})
    page = open_page(user=user)
    card = page.locator("#persona-validity")

    step("a panel without clones")
    page.goto(f"/projects/{project.id}/")
    expect(card).to_be_visible()
    expect(card).not_to_contain_text("Jan Kowalski")

    step("the same persona planted twice more")
    for _ in range(2):
        create_panel_persona(
            project=project, full_name="Jan Kowalski", demographics={"gender": "male", "age_group": "35+"}
        )
    page.reload()
    expect(card).to_contain_text("Jan Kowalski")
