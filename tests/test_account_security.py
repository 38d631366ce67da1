"""Ochrona konta: blokada logowania po nieudanych próbach (konto i adres), limit e-maili resetu hasła."""

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings
from django.core import mail
from django.test import AsyncClient, Client

from tests.conftest import api_client, create_token, create_user

STRONG = "Marchewka-z-groszkiem-42"


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # Każda nieudana próba liczy skrót hasła (PBKDF2: ~1 s na współdzielonym CPU), a tu chodzi o liczenie prób.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _client(ip: str = "10.0.0.1", language: str = "en") -> Client:
    return Client(headers={"accept-language": language}, REMOTE_ADDR=ip)


def _login(client: Client, email: str, password: str, path: str = "/accounts/login/"):
    return client.post(path, {"username": email, "password": password})


def test_twenty_wrong_passwords_lock_the_account_and_then_the_right_password_is_refused(db):
    create_user(email="jan@example.com", password=STRONG)
    client = _client()
    codes = [_login(client, "jan@example.com", f"wrong-{i}").status_code for i in range(20)]
    limit = settings.AXES_FAILURE_LIMIT
    assert codes[: limit - 1] == [200] * (limit - 1) and set(codes[limit - 1 :]) == {429}
    resp = _login(client, "jan@example.com", STRONG)
    page = resp.content.decode()
    assert resp.status_code == 429 and "Too many failed login attempts" in page and 'name="password"' in page
    assert "_auth_user_id" not in client.session
    # Z innego adresu konto też jest zablokowane (limit na konto, nie tylko na adres).
    assert _login(_client(ip="10.0.0.2"), "jan@example.com", STRONG).status_code == 429


def test_failures_across_many_accounts_lock_the_address(db):
    create_user(email="ola@example.com", password=STRONG)
    attacker = _client(ip="10.0.0.9")
    for i in range(settings.AXES_FAILURE_LIMIT):
        _login(attacker, f"guess{i}@example.com", "wrong")
    assert _login(attacker, "ola@example.com", STRONG).status_code == 429
    # Właścicielka konta z własnego adresu loguje się normalnie.
    assert _login(_client(ip="10.0.0.10"), "ola@example.com", STRONG).status_code == 302


def test_a_successful_login_below_the_limit_resets_the_failure_count(db):
    create_user(email="ewa@example.com", password=STRONG)
    client = _client()
    for _ in range(2):
        for i in range(settings.AXES_FAILURE_LIMIT - 1):
            assert _login(client, "ewa@example.com", f"wrong-{i}").status_code == 200
        assert _login(client, "ewa@example.com", STRONG).status_code == 302
        client.post("/accounts/logout/")


def test_the_lockout_message_follows_the_page_language(db):
    client = _client(language="pl")
    for i in range(settings.AXES_FAILURE_LIMIT):
        resp = _login(client, "nikt@example.com", f"wrong-{i}")
    assert resp.status_code == 429
    assert "Zbyt wiele nieudanych prób logowania" in resp.content.decode()


def test_the_lockout_holds_under_asgi_as_served_by_daphne(db):
    create_user(email="asgi@example.com", password=STRONG)

    async def scenario():
        client = AsyncClient()
        client.cookies["django_language"] = "en"
        for i in range(settings.AXES_FAILURE_LIMIT):
            await client.post("/accounts/login/", {"username": "asgi@example.com", "password": f"wrong-{i}"})
        return await client.post("/accounts/login/", {"username": "asgi@example.com", "password": STRONG})

    resp = async_to_sync(scenario)()
    assert resp.status_code == 429 and "Too many failed login attempts" in resp.content.decode()


def test_admin_login_and_api_tokens_keep_working(db):
    create_user(email="admin@example.com", password=STRONG, is_staff=True, is_superuser=True)
    client = _client()
    resp = _login(client, "admin@example.com", STRONG, path="/admin/login/?next=/admin/")
    assert resp.status_code == 302 and resp["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    _, token = create_token()
    assert api_client(token).get("/api/v1/projects").status_code == 200


def test_admin_login_failures_count_towards_the_lockout(db):
    create_user(email="boss@example.com", password=STRONG, is_staff=True)
    client = _client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "boss@example.com", f"wrong-{i}", path="/admin/login/")
    assert _login(client, "boss@example.com", STRONG, path="/admin/login/").status_code == 429


def test_password_reset_emails_beyond_the_hourly_limit_are_not_sent_but_the_answer_is_the_same(db):
    create_user(email="jan@example.com", password=STRONG)
    client = _client()
    answers = [client.post("/accounts/password/reset/", {"email": "jan@example.com"}) for _ in range(6)]
    assert {(r.status_code, r["Location"]) for r in answers} == {(302, "/accounts/password/reset/sent/")}
    assert len(mail.outbox) == settings.SIGHT_PASSWORD_RESET_PER_EMAIL == 3
    # Adres bez konta dostaje tę samą odpowiedź (nic nie zdradza), a inny adres ma własny limit.
    assert (
        client.post("/accounts/password/reset/", {"email": "nobody@example.com"})["Location"] == answers[0]["Location"]
    )
    create_user(email="ola@example.com", password=STRONG)
    client.post("/accounts/password/reset/", {"email": "ola@example.com"})
    assert [m.to for m in mail.outbox[3:]] == [["ola@example.com"]]


def test_password_reset_requests_from_one_address_are_limited_across_recipients(db, settings):
    settings.SIGHT_PASSWORD_RESET_PER_IP = 4
    for i in range(6):
        create_user(email=f"u{i}@example.com")
    client = _client(ip="10.0.0.7")
    for i in range(6):
        client.post("/accounts/password/reset/", {"email": f"u{i}@example.com"})
    assert len(mail.outbox) == 4
    _client(ip="10.0.0.8").post("/accounts/password/reset/", {"email": "u5@example.com"})
    assert len(mail.outbox) == 5


def test_behind_a_proxy_the_address_is_the_one_the_proxy_appended_and_cannot_be_spoofed(db, settings):
    settings.SIGHT_BEHIND_PROXY = True
    create_user(email="ola@example.com", password=STRONG)
    proxy = "172.16.0.1"
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")
    for i in range(settings.AXES_FAILURE_LIMIT):
        # Podrobiony pierwszy wpis nie zmienia liczonego adresu (ostatni dopisało proxy).
        attacker.defaults["HTTP_X_FORWARDED_FOR"] = f"10.9.9.{i}, 203.0.113.5"
        _login(attacker, f"guess{i}@example.com", "wrong")
    assert _login(attacker, "ola@example.com", STRONG).status_code == 429
    owner = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert _login(owner, "ola@example.com", STRONG).status_code == 302
