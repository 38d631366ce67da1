"""Słowa i układ: liczby po polsku z przecinkiem, nazwy w panelu administracyjnym, licznik zakładek, wykresy panelu,
odwrócony filtr wieku i szerokość tabeli na stronie persony.
"""

import re

import pytest
from django.test import Client

from personas.forms import trait_preset_label
from sight import demographics
from tests.factories import create_persona, create_project, create_user, visible_text
from tests.test_ui import project_form

pytestmark = pytest.mark.django_db


def client_in(user, language: str) -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


@pytest.mark.parametrize(("language", "shown"), [("pl", "sumują się do 0,8"), ("en", "they sum to 0.8")])
def test_a_weight_sum_is_written_with_the_decimal_separator_of_the_language(user, language, shown):
    data = project_form({"age": {"young": "0,5", "old": "0,3"}})
    page = client_in(user, language).post("/projects/new/", data)
    assert page.status_code == 422
    text = visible_text(page.content.decode())
    assert shown in text
    # Podgląd sumy w edytorze rozkładu: ta sama liczba, ten sam separator.
    assert ("Suma: 0,8" if language == "pl" else "Sum: 0.8") in text


def test_trait_presets_name_traits_and_shifts_in_the_language(settings):
    from django.utils import translation

    with translation.override("pl"):
        assert trait_preset_label("innovators", {"openness": 0.2}) == "innovators: otwartość +0,2"
    with translation.override("en"):
        assert trait_preset_label("innovators", {"power_distance": -0.15}) == "innovators: power distance -0.15"


@pytest.mark.parametrize(
    ("language", "plural", "singular"),
    [
        ("pl", "Zdarzenia grup fokusowych", "zdarzenie grupy fokusowej"),
        ("en", "Focus group events", "focus group event"),
    ],
)
def test_the_admin_lists_focus_group_events_under_their_own_name(language, plural, singular):
    admin = create_user(email=f"admin-{language}@example.com", is_staff=True, is_superuser=True)
    client = client_in(admin, language)
    index = visible_text(client.get("/admin/").content.decode())
    assert plural in index
    groups = "Grupy fokusowe" if language == "pl" else "Focus groups"
    # Nazwa aplikacji i modelu grup nie mogą się powtarzać jako nazwa zdarzeń.
    assert index.count(plural) == 1 and groups in index
    changelist = visible_text(client.get("/admin/focus_groups/focusgroupevent/").content.decode())
    assert singular in changelist


HTMX = {"HTTP_HX_REQUEST": "true"}


def _tabs(html: str) -> str:
    """Zakładki listy person wysłane obok listy (out-of-band), jako widoczny tekst."""
    match = re.search(r'<nav class="tabs" id="persona-tabs"[^>]*hx-swap-oob="true"[^>]*>(.*?)</nav>', html, re.S)
    assert match, "the tab counters are not swapped out of band"
    return visible_text(match.group(1))


@pytest.mark.parametrize(("language", "panel", "deleted"), [("pl", "Panel", "Usunięte"), ("en", "Panel", "Deleted")])
def test_tab_counters_follow_a_delete_and_its_undo(user, language, panel, deleted):
    project = create_project(owner=user)
    first, _second, _third = (create_persona(project=project) for _ in range(3))
    client = client_in(user, language)
    listing = f"/projects/{project.id}/personas/"
    after_delete = client.post(f"/personas/{first.id}/delete/", {"next": listing}, follow=True, **HTMX)
    assert _tabs(after_delete.content.decode()) == f"{panel} 2 {deleted} 1"
    undo = client.post(
        f"/projects/{project.id}/personas/bulk-restore/", {"ids": [first.id], "next": listing}, follow=True, **HTMX
    )
    assert _tabs(undo.content.decode()) == f"{panel} 3 {deleted} 0"
    # Bez htmx strona ma jedne zakładki, bez podmiany.
    page = client.get(listing).content.decode()
    assert page.count('id="persona-tabs"') == 1 and "hx-swap-oob" not in page.split('id="persona-tabs"')[1][:40]


@pytest.mark.parametrize("language", ["pl", "en"])
def test_panel_charts_use_the_targets_own_buckets_and_show_every_category(user, language):
    target = {
        "age_group": {"18-24": 0.2, "25-34": 0.3, "35-44": 0.5},
        "location": {"village": 0.4, "city_100k_500k": 0.6},
    }
    project = create_project(owner=user, target_demographics=target)
    create_persona(project=project, age=22, demographics={"age_group": "18-24", "location": "village"})
    create_persona(project=project, age=40, demographics={"age_group": "35-44", "location": "village"})
    html = client_in(user, language).get(f"/projects/{project.id}/personas/").content.decode()
    charts = {
        visible_text(title): [visible_text(row) for row in re.findall(r'<div class="bar[^"]*">(.*?)</div>', body, re.S)]
        for title, body in re.findall(r'<section class="chart">\s*<h2>(.*?)</h2>(.*?)</section>', html, re.S)
    }
    age, place = ("Wiek", "Miejsce zamieszkania") if language == "pl" else ("Age", "Place of residence")
    ages = {"pl": ["18–24 lata", "25–34 lata", "35–44 lata"], "en": ["18–24", "25–34", "35–44"]}[language]
    assert [row.rsplit(" ", 1)[0] for row in charts[age]] == ages
    assert [row.rsplit(" ", 1)[1] for row in charts[age]] == ["1", "0", "1"]
    village = demographics.bucket_label("location", "village", language=language)
    city = demographics.bucket_label("location", "city_100k_500k", language=language)
    assert charts[place] == [f"{village} 2", f"{city} 0"]


@pytest.mark.parametrize(
    ("language", "message"),
    [("pl", "„Wiek do” nie może być mniejszy niż „Wiek od”."), ("en", "“Age to” must not be lower than “Age from”.")],
)
def test_an_inverted_age_filter_explains_itself_instead_of_an_empty_list(user, language, message):
    project = create_project(owner=user)
    create_persona(project=project, full_name="Ala Maj", age=40)
    html = client_in(user, language).get(f"/projects/{project.id}/personas/?age_min=50&age_max=30").content.decode()
    text = visible_text(html)
    assert message in text and "Ala Maj" in text
