"""Konto przez HTML: rejestracja, logowanie, wylogowanie, zmiana i reset hasła."""

import re

from django.core import mail
from django.test import Client

from sight.models import User
from tests.factories import create_user

STRONG = "Marchewka-z-groszkiem-42"


def english_client() -> Client:
    return Client(headers={"accept-language": "en"})


def test_signup_creates_an_account_and_logs_in(db):
    client = english_client()
    assert client.get("/accounts/signup/").status_code == 200
    resp = client.post("/accounts/signup/", {"email": "Nowa@Example.com", "password1": STRONG, "password2": STRONG})
    assert resp.status_code == 302 and resp["Location"] == "/projects/"
    user = User.objects.get(email="nowa@example.com")
    assert user.check_password(STRONG)
    assert client.get("/projects/").status_code == 200


def test_signup_rejects_mismatched_and_weak_passwords(db):
    client = english_client()
    resp = client.post("/accounts/signup/", {"email": "a@example.com", "password1": STRONG, "password2": STRONG + "x"})
    assert resp.status_code == 422
    assert "didn’t match" in resp.content.decode()
    resp = client.post(
        "/accounts/signup/", {"email": "a@example.com", "password1": "12345678", "password2": "12345678"}
    )
    assert resp.status_code == 422
    assert "too common" in resp.content.decode() or "entirely numeric" in resp.content.decode()
    assert not User.objects.filter(email="a@example.com").exists()


def test_signup_rejects_an_existing_email_in_any_case(db):
    create_user(email="taken@example.com")
    resp = english_client().post(
        "/accounts/signup/", {"email": "TAKEN@example.com", "password1": STRONG, "password2": STRONG}
    )
    assert resp.status_code == 422
    assert "already exists" in resp.content.decode()
    assert User.objects.filter(email__iexact="taken@example.com").count() == 1


def test_signup_with_nul_characters_is_a_form_error(db):
    resp = english_client().post(
        "/accounts/signup/", {"email": "x\x00@example.com", "password1": STRONG, "password2": STRONG}
    )
    assert resp.status_code == 422


def test_login_and_logout(db):
    create_user(email="jan@example.com", password=STRONG)
    client = english_client()
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and 'name="password"' in page.content.decode()
    resp = client.post("/accounts/login/", {"username": "jan@example.com", "password": STRONG})
    assert resp.status_code == 302 and resp["Location"] == "/projects/"
    home = client.get("/projects/").content.decode()
    assert "jan@example.com" in home
    assert re.search(r'<form action="/accounts/logout/" method="post">', home)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/projects/").status_code == 302


def test_login_with_a_wrong_password_shows_an_error(db):
    create_user(email="jan@example.com", password=STRONG)
    resp = english_client().post("/accounts/login/", {"username": "jan@example.com", "password": "wrong"})
    assert resp.status_code == 200
    assert "Please enter a correct" in resp.content.decode()


def test_pages_need_login(db):
    for url in ("/projects/", "/projects/new/", "/tokens/"):
        resp = Client().get(url)
        assert resp.status_code == 302 and resp["Location"].startswith("/accounts/login/?next=")


def test_password_change(db):
    user = create_user(password=STRONG)
    client = english_client()
    client.force_login(user)
    assert client.get("/accounts/password/change/").status_code == 200
    resp = client.post(
        "/accounts/password/change/",
        {"old_password": STRONG, "new_password1": "Inne-haslo-do-sight-7", "new_password2": "Inne-haslo-do-sight-7"},
    )
    assert resp.status_code == 302 and resp["Location"] == "/accounts/password/change/done/"
    user.refresh_from_db()
    assert user.check_password("Inne-haslo-do-sight-7")
    assert client.get("/accounts/password/change/done/").status_code == 200


def test_password_reset_sends_an_email_whose_link_sets_a_new_password(db):
    user = create_user(email="ola@example.com", password=STRONG)
    client = english_client()
    assert client.get("/accounts/password/reset/").status_code == 200
    resp = client.post("/accounts/password/reset/", {"email": "ola@example.com"})
    assert resp.status_code == 302 and resp["Location"] == "/accounts/password/reset/sent/"
    assert client.get(resp["Location"]).status_code == 200
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ola@example.com"] and "Sight" in message.subject
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body)[1]
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and 'name="new_password1"' in form_page.content.decode()
    resp = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Nowe-haslo-sight-99", "new_password2": "Nowe-haslo-sight-99"},
    )
    assert resp.status_code == 302 and resp["Location"] == "/accounts/password/reset/done/"
    assert client.get(resp["Location"]).status_code == 200
    user.refresh_from_db()
    assert user.check_password("Nowe-haslo-sight-99")


def test_password_reset_for_an_unknown_email_sends_nothing_and_reveals_nothing(db):
    resp = english_client().post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert resp.status_code == 302 and resp["Location"] == "/accounts/password/reset/sent/"
    assert mail.outbox == []
