"""Ankieta w przeglądarce, ścieżka z „Done when” (dostawca offline): test koncepcji z szablonu, badanie 30 person z
postępem na żywo, rozkłady z wykresem i tabelą danych, tabela krzyżowa według płci z literami istotności (i bazami
poniżej 30 oznaczonymi jako nietestowane), potem plik CSV próby ludzkiej na te same pytania i podobieństwo KS per
pytanie.
"""

import re

from playwright.sync_api import expect

from surveys.models import Answer, Survey
from tests.factories import create_panel_persona, create_project, create_user

GENDERS = ("female", "male")


def human_csv(questions) -> bytes:
    """Odpowiedzi ludzi (średniki, cp1250) na dwa pytania skali testu koncepcji: kolumny nazwane treścią pytań."""
    header = ["Płeć", *(q.text for q in questions)]
    rows = [[("Kobieta", "Mężczyzna")[i % 2], str(1 + i % 5), str(1 + (i * 3) % 5)] for i in range(24)]
    return "\r\n".join(";".join(row) for row in [header, *rows]).encode("cp1250")


def test_a_concept_test_is_fielded_to_thirty_personas_read_by_gender_and_compared_with_people(open_page, step, worker):
    user = create_user()
    project = create_project(owner=user, name="Kawa", language="pl", target_sample_size=30)
    for i in range(30):
        gender = GENDERS[i % 2]
        create_panel_persona(
            project=project, full_name=f"Osoba {i}", demographics={"gender": gender, "age_group": "18-34"}
        )
    page = open_page(user=user, language="pl")

    step("build a concept test from its template")
    page.goto(f"/projects/{project.id}/surveys/new/")
    page.locator("label.radio", has_text="Test koncepcji").locator("input").check()
    page.locator("#survey-name").fill("Kubek z kaucją")
    page.get_by_role("button", name="Utwórz ankietę").click()
    expect(page).to_have_url(re.compile(r"/surveys/[0-9a-f-]+/edit/$"))
    page.get_by_role("button", name="Zapisz ankietę").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kubek z kaucją")
    survey = Survey.objects.get(project=project)

    step("field it to the 30 personas and watch the progress live")
    page.get_by_role("button", name="Przeprowadź badanie").click()
    expect(page.locator("#survey-status .job--succeeded")).to_be_visible(timeout=240_000)
    assert Answer.objects.filter(survey=survey, failed=False).count() == 30 * 4

    step("read the distributions: a chart with its data table")
    page.reload()
    page.get_by_role("link", name="Wyniki").click()
    expect(page.locator("svg.chart__svg[role=img]").first).to_be_visible()
    expect(page.locator("table.chart-table").first).to_contain_text("%")

    step("a crosstab by gender with significance letters")
    crosstab = page.locator("#crosstab-section")
    crosstab.locator("select[name=by]").select_option(label="Płeć")
    table = page.locator("#crosstab table.crosstab")
    expect(table.locator("thead")).to_contain_text("kobieta (A)")
    expect(table.locator("thead")).to_contain_text("mężczyzna (B)")
    expect(table.locator("thead")).to_contain_text("15*")  # baza 15 < 30: kolumna nietestowana, co strona mówi
    expect(page.locator("#crosstab")).to_contain_text("Cramér")
    expect(page.locator("#crosstab")).to_contain_text("baza poniżej 30, bez testu")

    step("upload a human CSV for the same questions and read KS similarity per question")
    page.goto(f"/surveys/{survey.id}/")
    card = page.locator("#human-comparison")
    ratings = list(survey.questions.filter(type="rating").order_by("order"))
    card.locator("input[type=file]").set_input_files(
        {"name": "ludzie.csv", "mimeType": "text/csv", "buffer": human_csv(ratings)}
    )
    card.get_by_role("button", name="Prześlij").click()
    expect(page).to_have_url(re.compile(rf"/surveys/{survey.id}/human/[0-9a-f-]+/$"))
    page.get_by_role("button", name="Zapisz przypisanie").click()
    result = page.locator("#human-result")
    expect(result.locator(".validity-lines li")).to_have_count(2)
    expect(result).to_contain_text("KS")
