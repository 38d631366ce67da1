"""Etykiety zamiast kluczy danych: lista, szczegóły, karta, filtry, wybór uczestników grupy, CSV i tabela banerowa
ankiety pokazują `kobieta` / `technical secondary`, nigdy `female` / `secondary_technical`, po polsku i po angielsku.
"""

import csv
import io
import re

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.utils import translation

import config
from personas.generation import persona_card
from personas.models import Persona
from sight import demographics
from tests.factories import create_persona, create_project, visible_text

pytestmark = pytest.mark.django_db

FACTS = {
    "gender": "female",
    "education": "secondary_technical",
    "income": "0-2999",
    "location": "city_100k_500k",
}
SECOND = {"gender": "female", "education": "secondary_technical", "income": "0-2999", "location": "village"}
# Klucze, które nie mogą być widocznym tekstem, i etykiety, które muszą się pojawić (w en etykieta `female` to słowo
# `female`, a `village` jest częścią etykiety `village / rural area` — tam sprawdzamy klucze z podkreśleniem).
RAW = {
    "pl": ["female", "village", "city_100k_500k", "secondary_technical", "0-2999"],
    "en": ["city_100k_500k", "secondary_technical", "0-2999"],
}
# Etykiety, które każdy ekran musi pokazać (kolumny, które ten ekran ma).
SHOWN = {
    "list": ("gender", "location"),
    "detail": ("gender", "location", "education", "income"),
    "project": ("gender", "location"),
    "picker": ("gender",),
    "csv": ("gender", "location", "education", "income"),
}


def assert_labelled(text: str, language: str, screen: str) -> None:
    for key in RAW[language]:
        assert not re.search(rf"(?<![\w–-]){re.escape(key)}(?![\w–-])", text), (
            f"raw key {key!r} on {screen} ({language})"
        )
    for column in SHOWN[screen]:
        label = demographics.bucket_label(column, FACTS[column], language=language)
        assert label in text, f"label {label!r} missing on {screen} ({language})"


@pytest.fixture
def panel(user):
    target = config.load_demographics()["poland"].target_demographics()
    project = create_project(owner=user, target_demographics=target)
    personas = [
        create_persona(project=project, full_name="Anna Kowalska", demographics=dict(FACTS), **FACTS),
        create_persona(project=project, full_name="Ewa Nowak", demographics=dict(SECOND), **SECOND),
    ]
    return project, personas


def client_in(user, language: str) -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


@pytest.mark.parametrize("language", ["pl", "en"])
def test_persona_screens_show_labels_never_raw_keys(user, panel, language):
    project, (persona, _other) = panel
    client = client_in(user, language)
    pages = {
        "list": client.get(f"/projects/{project.id}/personas/"),
        "detail": client.get(f"/personas/{persona.id}/"),
        "project": client.get(f"/projects/{project.id}/"),
        "picker": client.get(f"/projects/{project.id}/focus-groups/new/"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert_labelled(visible_text(response.content.decode()), language, name)


@pytest.mark.parametrize("language", ["pl", "en"])
def test_the_live_card_pushed_by_the_worker_shows_labels(panel, language):
    _project, (persona, _other) = panel
    with translation.override(language):
        html = render_to_string("personas/_card.html#persona_card_live", {"p": persona_card(persona)})
    text = visible_text(html)
    assert demographics.bucket_label("location", "city_100k_500k", language=language) in text
    assert "city_100k_500k" not in text


@pytest.mark.parametrize("language", ["pl", "en"])
def test_filters_offer_labels_and_filter_by_key(user, panel, language):
    project, _personas = panel
    client = client_in(user, language)
    html = client.get(f"/projects/{project.id}/personas/").content.decode()
    label = demographics.bucket_label("location", "village", language=language)
    assert f'<option value="village">{label}</option>' in html
    listed = visible_text(client.get(f"/projects/{project.id}/personas/?location=village").content.decode())
    assert "Ewa Nowak" in listed and "Anna Kowalska" not in listed


@pytest.mark.parametrize("language", ["pl", "en"])
def test_persona_csv_carries_labels_with_keys_in_their_own_columns_and_opens_in_excel(user, panel, language):
    project, _personas = panel
    body = client_in(user, language).get(f"/projects/{project.id}/personas/export.csv").content
    assert body.startswith("\ufeff".encode())
    rows = {row["full_name"]: row for row in csv.DictReader(io.StringIO(body.decode("utf-8-sig")))}
    anna = rows["Anna Kowalska"]
    assert anna["location"] == demographics.bucket_label("location", "city_100k_500k", language=language)
    assert anna["education"] == demographics.bucket_label("education", "secondary_technical", language=language)
    assert (anna["location_key"], anna["education_key"], anna["gender_key"]) == (
        "city_100k_500k",
        "secondary_technical",
        "female",
    )
    labelled = " ".join(v for row in rows.values() for k, v in row.items() if not k.endswith("_key") and v)
    assert_labelled(labelled, language, "csv")


def test_labels_follow_the_language_and_unknown_keys_read_as_text():
    assert demographics.bucket_label("gender", "female", language="pl") == "kobieta"
    assert demographics.bucket_label("location", "town_under_20k", language="en") == "town under 20,000"
    # Kolumna `location` z koszykiem regionu (projekt bez kategorii miejsca zamieszkania).
    assert demographics.bucket_label("location", "masovia", language="pl") == "mazowiecki (z Warszawą)"
    assert demographics.bucket_label("coffee", "every_day", language="pl") == "every day"
    assert demographics.category_label("income", buckets=["0-2999"], language="en") == (
        "Personal net monthly income (PLN)"
    )


PROFILE = {
    "index": 0,
    "demographics": {"gender": "female", "location": "city_100k_500k", "education": "secondary_technical"},
    "age": 34,
    "occupation": "księgowa",
}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("pl", ["- Płeć: kobieta", "- Miejsce zamieszkania: miasto 100–500 tys. mieszkańców", "- Dokładny wiek: 34"]),
        ("en", ["- Gender: female", "- Place of residence: city of 100,000–500,000", "- Exact age: 34"]),
    ],
)
def test_prompts_carry_labels_in_the_study_language_not_keys(language, expected):
    from personas.generation import allocation_summary, demographic_segments, describe_demographics

    facts = describe_demographics(PROFILE, language)
    for line in expected:
        assert line in facts
    second = {**PROFILE, "index": 1, "demographics": {**PROFILE["demographics"], "location": "village"}}
    summary = allocation_summary([PROFILE, second], language)
    drafts, _groups = demographic_segments([PROFILE, second], language)
    prose = " ".join([facts, summary, *(d["name"] + " " + d["brief"] for d in drafts)])
    for key in ("city_100k_500k", "secondary_technical", "location", "education"):
        assert key not in prose
    # Offline provider nadal rozpoznaje płeć persony z etykiety (imię zgodne z płcią).
    from sight.llm.offline import _gender_in

    assert _gender_in(facts) == "female"


def test_a_persona_profile_for_discussions_uses_the_projects_language(user):
    project = create_project(owner=user, language="en")
    persona = create_persona(project=project, demographics=dict(FACTS), **FACTS)
    persona.refresh_from_db()
    profile = Persona.objects.select_related("project").get(pk=persona.pk).prompt_profile()
    assert "city of 100,000–500,000" in profile and "city_100k_500k" not in profile
    assert "kobieta" in persona.prompt_profile("pl")


@pytest.mark.parametrize("language", ["pl", "en"])
def test_the_distribution_editor_captions_every_preset_key_with_its_label(user, panel, language):
    project, _personas = panel
    html = client_in(user, language).get(f"/projects/{project.id}/edit/").content.decode()
    text = visible_text(html)
    for category, bucket in (("location", "city_100k_500k"), ("education", "secondary_technical")):
        assert demographics.category_label(category, buckets=[bucket], language=language) in text
        assert demographics.bucket_label(category, bucket, language=language) in text
        # Klucz zostaje wartością pola (to dane projektu), podpis obok jest etykietą.
        assert f'value="{bucket}"' in html
