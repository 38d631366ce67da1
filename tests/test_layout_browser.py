"""Układ w prawdziwej przeglądarce: tabela „Dlaczego ta persona jest w panelu” mieści się w karcie przy 1366 px.

Potrzebuje Playwrighta i Chromium; bez nich test jest pomijany z powodem (zależność wnosi pakiet testów
przeglądarkowych).
"""

import os
import shutil

import pytest
from django.test import Client

import config
from tests.factories import create_persona, create_project, create_user

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.django_db(transaction=True)

# Najdłuższe etykiety presetu Polski: długie nazwy koszyków i kategorii w wąskiej kolumnie siatki.
LONG = {
    "age_group": "55-64",
    "gender": "female",
    "education": "post_secondary",
    "income": "10000-14999",
    "location": "city_100k_500k",
    "region": "north_west",
}


def _overflow(url: str, sessionid: str, width: int) -> dict[str, int]:
    """Szerokość tabeli i jej pudełka w przeglądarce o danej szerokości okna."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        launch = {"executable_path": CHROMIUM} if CHROMIUM else {}
        try:
            browser = playwright.chromium.launch(**launch)
        except sync_api.Error as exc:
            pytest.skip(f"no Chromium to run: {exc}".splitlines()[0])
        context = browser.new_context(viewport={"width": width, "height": 900}, locale="pl-PL")
        context.add_cookies([{"name": "sessionid", "value": sessionid, "url": url}])
        page = context.new_page()
        page.goto(url)
        sizes = page.evaluate(
            """() => {
              const wrap = document.querySelector("table.membership").closest(".table-wrap");
              const card = wrap.closest(".card");
              return {scroll: wrap.scrollWidth, client: wrap.clientWidth, card: card.getBoundingClientRect().width};
            }"""
        )
        browser.close()
    return sizes


@pytest.mark.parametrize("width", [1366, 1280])
def test_the_persona_membership_table_is_not_clipped_at_laptop_widths(live_server, width):
    user = create_user()
    target = config.load_demographics()["poland"].target_demographics()
    project = create_project(owner=user, target_demographics=target)
    persona = create_persona(
        project=project,
        demographics=LONG,
        gender="female",
        education="post_secondary",
        income="10000-14999",
        location="city_100k_500k",
        age=58,
    )
    client = Client()
    client.force_login(user)
    sizes = _overflow(f"{live_server.url}/personas/{persona.id}/", client.cookies["sessionid"].value, width)
    assert sizes["scroll"] <= sizes["client"], sizes
