"""Porównanie z próbą ludzką w przeglądarce: przesłanie pliku CSV (średniki, cp1250) ze strony ankiety, przypisanie
zaproponowane z etykiet zapisane przez htmx, podobieństwo KS per pytanie na stronie próby i na karcie ankiety.
"""

import re

from playwright.sync_api import expect

from tests.factories import create_user
from tests.test_survey_human import HUMAN, csv_bytes, make_survey


def test_a_human_csv_is_uploaded_mapped_and_compared_on_the_survey_page(open_page, step, tmp_path):
    user = create_user()
    survey, _questions = make_survey(user)
    path = tmp_path / "ludzie.csv"
    path.write_bytes(csv_bytes(HUMAN))
    page = open_page(user=user)

    step("upload the file from the survey page")
    page.goto(f"/surveys/{survey.id}/")
    card = page.locator("#human-comparison")
    expect(card).to_contain_text("Validity unknown")
    card.locator("input[type=file]").set_input_files(str(path))
    card.get_by_role("button", name="Upload").click()
    expect(page).to_have_url(re.compile(rf"/surveys/{survey.id}/human/[0-9a-f-]+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("ludzie.csv")

    step("save the proposed mapping")
    page.get_by_role("button", name="Save mapping").click()
    # Linie porównania widać już z propozycji; zapis potwierdza dopiero komunikat (we fragmencie htmx albo, gdy
    # formularz poszedł zanim htmx się załadował, po przekierowaniu).
    expect(page.get_by_text("Mapping saved.")).to_be_visible()
    result = page.locator("#human-result")
    expect(result).to_contain_text("KS similarity")
    expect(result.locator(".validity-lines li")).to_have_count(3)
    expect(result.locator(".bar--human").first).to_be_visible()

    step("read the validity lines on the survey page")
    page.goto(f"/surveys/{survey.id}/")
    expect(card.locator(".validity-lines li")).to_have_count(3)
    expect(card).not_to_contain_text("Validity unknown")
