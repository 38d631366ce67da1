"""Konto w przeglądarce: logowanie formularzem (po polsku i po angielsku) i wygasła sesja w akcji htmx."""

import re

import pytest
from django.contrib.sessions.models import Session
from playwright.sync_api import expect

from tests.factories import create_focus_group, create_project, create_user


@pytest.mark.parametrize(
    ("language", "heading", "button"), [("pl", "Projekty", "Zaloguj się"), ("en", "Projects", "Log in")]
)
def test_a_researcher_logs_in_with_the_form_and_lands_on_the_page_they_asked_for(
    open_page, step, language, heading, button
):
    user = create_user(email="anna@example.com", password="a-long-pass-phrase")
    create_project(owner=user, name="Kawa na wynos")
    page = open_page(language=language)

    step("open a protected page")
    page.goto("/projects/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/projects/$"))
    # Pierwsze przyciski każdej strony to przełącznik języka: formularz logowania wysyłamy jego własnym przyciskiem.
    form = page.locator("main form")
    expect(form.get_by_role("button", name=button)).to_be_visible()

    step("submit the form")
    form.locator("input[name=username]").fill("anna@example.com")
    form.locator("input[name=password]").fill("a-long-pass-phrase")
    form.locator("input[name=password]").press("Enter")

    step("see the projects")
    expect(page).to_have_url(re.compile(r"/projects/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    expect(page.get_by_role("link", name=re.compile("Kawa na wynos"))).to_be_visible()


def test_a_wrong_password_keeps_the_researcher_on_the_login_form_with_an_error(open_page, step):
    create_user(email="anna@example.com", password="a-long-pass-phrase")
    page = open_page()
    page.goto("/accounts/login/")
    form = page.locator("main form")
    form.locator("input[name=username]").fill("anna@example.com")
    form.locator("input[name=password]").fill("not-the-password")
    form.locator("input[name=password]").press("Enter")
    expect(form.locator(".errorlist, .form-errors").first).to_be_visible()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


def test_an_expired_session_during_an_htmx_action_sends_the_whole_page_to_the_login_form_and_back(open_page, step):
    user = create_user(email="anna@example.com", password="a-long-pass-phrase")
    fg = create_focus_group(project=create_project(owner=user), name="Bankowość")
    page = open_page(user=user)
    page.goto(f"/focus-groups/{fg.id}/")
    run = page.locator("#fg-status").get_by_role("button", name="Run")
    expect(run).to_be_visible()

    step("the session expires, then the researcher presses Run")
    Session.objects.all().delete()
    run.click()

    step("the login page replaces the whole page")
    expect(page).to_have_url(re.compile(rf"/accounts/login/\?next=/focus-groups/{fg.id}/$"))
    expect(page.locator("#fg-status")).to_have_count(0)
    fg.refresh_from_db()
    assert fg.status == "pending"

    step("logging in returns to the focus group")
    form = page.locator("main form")
    form.locator("input[name=username]").fill("anna@example.com")
    form.locator("input[name=password]").fill("a-long-pass-phrase")
    form.locator("input[name=password]").press("Enter")
    expect(page).to_have_url(re.compile(rf"/focus-groups/{fg.id}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bankowość")
