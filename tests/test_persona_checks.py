"""Sprawdziany panelu, które mogą go oblać: duplikaty imion, sklonowane historie, frazy z szablonu i spójność tekstów
z faktami persony (historia, tytuł, zawód, wypowiedzi z dyskusji); karta trafności (pl i en) i API.
"""

import random
from typing import Any

import pytest
from django.test import Client

from focus_groups.models import FocusGroupEvent
from personas.consistency import PersonaFacts, check_panel
from personas.models import Persona
from personas.sampling import TRAITS
from personas.validation import statements, validate_personas
from sight.models import Project
from tests.factories import create_focus_group, create_persona, create_project, create_user

pytestmark = pytest.mark.django_db

LABELS = {"gender": {"female": {"pl": "kobieta", "en": "female"}, "male": {"pl": "mężczyzna", "en": "male"}}}
TEACHER = {
    "gender": "female",
    "age": 40,
    "occupation": "nauczycielka szkoły podstawowej",
    "title": "Nauczycielka z Lublina",
    "location": "city_100k_500k",
    "income": "3000-4999",
}
_RNG_WORDS = [f"słowo{i}" for i in range(600)]


def varied_story(seed: int, lead: str = "") -> str:
    """Historia z losowych słów (bez wspólnych fraz z innymi), poprzedzona zdaniem `lead`."""
    rng = random.Random(seed)
    return (lead + " " + " ".join(rng.choice(_RNG_WORDS) for _ in range(120))).strip()


def panel_persona(project: Project, n: int, **values: Any) -> Persona:
    """Persona zgodna ze sobą: kobieta, nauczycielka, 40 lat, miasto 100–500 tys., 3000–4999 zł."""
    values = {**TEACHER, "full_name": f"Anna Nowak{n}", **values}
    values.setdefault("demographics", {"gender": values["gender"]})
    values.setdefault("background_story", varied_story(n, "Anna jest nauczycielką i mieszka w Lublinie."))
    rng = random.Random(f"traits{n}")
    for trait in TRAITS:
        values.setdefault(trait, round(rng.random(), 3))
    return create_persona(project=project, **values)


def polish_project(**values: Any) -> Project:
    return create_project(target_demographics={"gender": {"female": 1.0}}, language="pl", **values)


def check(report: dict, check_id: str) -> dict:
    return next(c for c in report["checks"] if c["id"] == check_id)


def test_a_clean_varied_panel_passes_every_check_that_can_fail():
    project = polish_project()
    for n in range(12):
        panel_persona(project, n)
    report = validate_personas(project)
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    assert statuses == {
        "demographic_fit": "pass",
        "duplicate_names": "pass",
        "cloned_stories": "pass",
        "shared_phrases": "pass",
        "consistency": "pass",
        "trait_spread": "pass",
    }
    assert report["overall"] == "pass" and all(c["flagged_ids"] == [] for c in report["checks"])
    assert check(report, "demographic_fit")["by_construction"] is True


def test_a_cloned_panel_fails_and_names_every_clone():
    project = polish_project()
    story = varied_story(99)
    clones = [panel_persona(project, 0, full_name="Ewa Lis", background_story=story) for _ in range(3)]
    for n in range(1, 6):
        panel_persona(project, n)
    report = validate_personas(project)
    ids = {str(p.id) for p in clones}
    assert report["overall"] == "fail"
    for check_id in ("duplicate_names", "cloned_stories", "shared_phrases"):
        assert check(report, check_id)["status"] == "fail" and set(check(report, check_id)["flagged_ids"]) == ids
    assert "Fit to the target holds by construction" in statements(report, "en")[1]
    assert "Zgodność z celem wynika z konstrukcji" in statements(report, "pl")[1]


def test_stories_from_one_template_fail_even_when_whole_stories_differ():
    project = polish_project()
    template = (
        "Dla mnie w zakupach liczy się przede wszystkim {v}. Zawsze porównuję ceny w kilku sklepach, zanim coś "
        "kupię. Moja pasja to {i}, więc patrzę na to bardzo praktycznie. Martwi mnie to, że ceny ciągle rosną."
    )
    rng = random.Random(4)
    for n in range(8):
        story = template.format(v=rng.choice(_RNG_WORDS), i=rng.choice(_RNG_WORDS)) + " " + varied_story(n)[:200]
        panel_persona(project, n, background_story=story)
    report = validate_personas(project)
    assert report["diversity"]["stories"]["near_duplicate_count"] == 0  # TF-IDF całych historii tego nie widzi
    phrases = check(report, "shared_phrases")
    assert phrases["status"] == "fail" and phrases["flagged_count"] == 8 and report["overall"] == "fail"
    examples = report["diversity"]["shared_phrases"]["examples"]
    words = " ".join(template.casefold().replace(",", "").replace(".", "").split())
    assert examples and all(e["stories"] == 8 and e["phrase"] in words for e in examples)


def test_planted_contradictions_are_flagged_linked_and_explained_on_the_card(client: Client):
    owner = create_user()
    project = polish_project(owner=owner)
    for n in range(6):
        panel_persona(project, n)
    farmer = panel_persona(
        project,
        10,
        full_name="Halina Wrona",
        age=73,
        occupation="rolniczka",
        title="Rolniczka z Podlasia",
        location="village",
        background_story=varied_story(10, "Halina jest doświadczoną weterynarką z Podlasia."),
    )
    stated = panel_persona(project, 11, full_name="Irena Sowa", age=73, occupation="emerytka", title="Emerytka")
    stated.background_story = varied_story(11, "„Mam 35 lat i wciąż dużo pracuję” — mówi Irena.")
    stated.save()
    report = validate_personas(project)
    consistency = check(report, "consistency")
    assert consistency["status"] == "warn" and set(consistency["flagged_ids"]) == {str(farmer.id), str(stated.id)}
    problems = {p["id"]: p["problems"] for p in report["consistency"]["flagged"]}
    assert [(p["code"], p["source"]) for p in problems[str(farmer.id)]] == [("occupation_claim", "story")]
    assert "weterynarką" in problems[str(farmer.id)][0]["quote"]
    assert [(p["code"], p["expected"]["en"]) for p in problems[str(stated.id)]] == [("age_stated", "73")]
    client.force_login(owner)
    for language, words in (
        ("en", ("names a different occupation", "states a different age", "Personas whose texts contradict")),
        ("pl", ("podaje inny zawód", "podaje inny wiek", "Persony, których teksty przeczą")),
    ):
        html = client.get(f"/projects/{project.id}/", headers={"accept-language": language}).content.decode()
        row = html[html.index('id="check-consistency"') : html.index('id="check-trait_spread"')]
        assert f'href="/personas/{farmer.id}/"' in row and f'href="/personas/{stated.id}/"' in row
        assert all(word in html for word in words) and "Halina jest doświadczoną weterynarką" in row


def test_a_discussion_statement_that_contradicts_the_persona_is_flagged():
    project = polish_project()
    people = [panel_persona(project, n) for n in range(3)]
    group = create_focus_group(project=project, personas=people)
    FocusGroupEvent.objects.create(
        focus_group=group,
        seq=1000,
        kind="turn",
        key="turn-test",
        persona=people[0],
        payload={"text": "Jako student nie mam na to pieniędzy, sam zrobiłem rachunek i wyszło mi, że mam 19 lat."},
    )
    flagged = validate_personas(project)["consistency"]["flagged"]
    assert [p["id"] for p in flagged] == [str(people[0].id)]
    codes = {(p["code"], p["source"]) for p in flagged[0]["problems"]}
    assert codes == {("gender_form", "statement"), ("age_stated", "statement")}


def test_the_api_report_carries_the_checks_with_labels_statuses_and_flagged_ids():
    user = create_user()
    project = polish_project(owner=user)
    for n in range(4):
        panel_persona(project, n, full_name="Ola Kos")
    client = Client()
    client.force_login(user)
    body = client.get(f"/api/v1/projects/{project.id}/personas/validation").json()
    names = next(c for c in body["checks"] if c["id"] == "duplicate_names")
    assert names["label"] == {"pl": "Powtórzone imiona i nazwiska", "en": "Repeated full names"}
    assert names["status"] == "fail" and len(names["flagged_ids"]) == 4 and body["overall"] == "fail"
    assert {c["id"] for c in body["checks"]} >= {"consistency", "shared_phrases", "cloned_stories"}


def facts(**values: Any) -> PersonaFacts:
    """Fakty nauczycielki bez miejsca i dochodu (reguły miejsca i dochodu działają tylko, gdy test je poda)."""
    return PersonaFacts(
        **{**TEACHER, "id": "1", "full_name": "Anna Nowak", "location": "", "income": "", "story": "", **values}
    )


@pytest.mark.parametrize(
    ("language", "values", "codes"),
    [
        ("pl", {"story": "Anna jest weterynarką."}, ["occupation_claim"]),
        ("pl", {"story": "Jej mąż jest weterynarzem, a we wsi jest weterynarz."}, []),
        ("pl", {"story": "Anna była kiedyś kelnerką. Jest emerytowaną księgową."}, []),
        ("pl", {"story": "Anna ma 52 lata. Jej syn ma 10 lat."}, ["age_stated"]),
        ("pl", {"story": "Anna ma 41 lat."}, []),
        ("pl", {"age": 70, "occupation": "studentka", "title": "Studentka"}, ["occupation_age"]),
        ("pl", {"occupation": "rolnik", "title": "Rolnik z Podlasia"}, ["gender_form", "gender_form"]),
        ("pl", {"story": "Wczoraj byłem w sklepie z udziałem sąsiadów."}, ["gender_form"]),
        ("pl", {"story": "Anna i Paweł pojechali nad morze. Pracowałam wtedy z zapałem."}, []),
        ("pl", {"location": "village", "story": "Mieszka z mężem w Warszawie."}, ["location_claim"]),
        ("pl", {"location": "city_500k_plus", "story": "Mieszka w dużym mieście."}, []),
        ("pl", {"income": "3000-4999", "story": "Zarabia 12 tys. zł miesięcznie."}, ["income_claim"]),
        ("pl", {"income": "3000-4999", "story": "Zarabia 4 200 zł na rękę, a mąż zarabia 12 000 zł."}, []),
        ("en", {"occupation": "farmer", "title": "Farmer", "story": "Anna is a veterinarian."}, ["occupation_claim"]),
        ("en", {"occupation": "farmer", "title": "Farmer", "story": "Her husband is a veterinarian."}, []),
        ("en", {"story": "Anna is 35 years old. I am a grandfather."}, ["age_stated", "gender_form"]),
        ("en", {"age": 70, "story": "She is a student at the local college."}, ["occupation_age"]),
        ("en", {"location": "rural", "story": "She lives downtown."}, ["location_claim"]),
    ],
)
def test_consistency_rules_flag_stated_contradictions_and_leave_other_people_alone(language, values, codes):
    flagged = check_panel([facts(**values)], language, labels=LABELS)
    assert sorted(p["code"] for f in flagged for p in f["problems"]) == sorted(codes)
