"""Projekt i panel w przeglądarce: edytor rozkładu (po polsku), generowanie panelu na żywo i karta trafności, która
wskazuje sklonowany panel.
"""

import re

from playwright.sync_api import expect

from sight.models import Project
from tests.factories import create_user


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
    presets = editor.locator("[data-dist-category]").count()

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
    expect(category.locator("[data-dist-weight]").first).to_have_value("0.75")
    expect(category.locator("[data-dist-weight]").last).to_have_value("0.25")

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
