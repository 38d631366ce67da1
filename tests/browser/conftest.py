"""Testy w prawdziwej przeglądarce: Chromium przez Playwright, daphne (HTTP i websockety) i worker RQ na testowej
bazie, Redisie i FalkorDB tej sesji pytest.

Przeglądarka: `SIGHT_CHROMIUM` (ścieżka albo `off`, by pominąć te testy), inaczej pierwsza z typowych nazw na `PATH`.
Bez przeglądarki testy są pomijane, a podsumowanie pytest mówi o tym jedną linią. Zrzut ekranu kroku, na którym test
padł, trafia do `.data/browser-failures/`, a jego ścieżka — do raportu porażki.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from sight.devstack import free_port
from sight.models import User
from tests.factories import ROOT, kill_tree, service_env, start_worker

try:
    from playwright.sync_api import Browser, Page, expect, sync_playwright
except ImportError:  # pragma: no cover - zależność dev; bez niej testy są pomijane z powodem
    sync_playwright = None

BROWSER_DIR = Path(__file__).resolve().parent
FAILURES = ROOT / ".data" / "browser-failures"
LOGS = ROOT / ".data" / "browser-logs"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Hojnie: dwa zajęte rdzenie, a każdy krok czeka na konkretny element, nigdy na upływ czasu.
TIMEOUT_MS = 30_000
SERVER_START_SECONDS = 120
OFFLINE_LATENCY_MS = 150
NO_PLAYWRIGHT = "playwright is not installed (pip install -e '.[dev]')"

_skipped: list[str] = []
if sync_playwright is None:
    # Moduły testów importują Playwrighta; bez niego nie zbieramy ich wcale, a podsumowanie mówi dlaczego.
    collect_ignore_glob = ["test_*.py"]
    _skipped.append(NO_PLAYWRIGHT)


def browser_unavailable() -> str | None:
    """Powód, dla którego testów przeglądarkowych nie da się uruchomić (None, gdy się da)."""
    if sync_playwright is None:
        return NO_PLAYWRIGHT
    explicit = os.environ.get("SIGHT_CHROMIUM", "")
    if explicit.lower() in {"off", "0", "no", "false"}:
        return f"turned off with SIGHT_CHROMIUM={explicit}"
    if chromium_path():
        return None
    if explicit:
        return f"SIGHT_CHROMIUM={explicit} is not an executable"
    return "no Chromium found: install it (apt-get install chromium) or set SIGHT_CHROMIUM=/path/to/chromium"


def chromium_path() -> str | None:
    """Plik wykonywalny Chromium: `SIGHT_CHROMIUM` albo pierwsza z typowych nazw na `PATH`."""
    explicit = os.environ.get("SIGHT_CHROMIUM", "")
    if explicit:
        return shutil.which(explicit) or (explicit if Path(explicit).is_file() else None)
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Bez przeglądarki wszystkie testy z tego katalogu są pomijane z jednym powodem."""
    reason = browser_unavailable()
    mine = [item for item in items if BROWSER_DIR in Path(str(item.path)).parents]
    if reason and mine:
        _skipped[:] = [reason]
        for item in mine:
            item.add_marker(pytest.mark.skip(reason=f"browser tests: {reason}"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Jedna linia w podsumowaniu, gdy testy przeglądarkowe pominięto."""
    if _skipped:
        terminalreporter.write_line(f"browser tests skipped: {_skipped[0]}", yellow=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    """Porażka testu przeglądarkowego: zrzut ekranu każdej otwartej strony i końcówki logów serwera i workera."""
    report = yield
    pages = getattr(item, "sight_pages", [])
    if report.failed and report.when in {"setup", "call"} and pages:
        FAILURES.mkdir(parents=True, exist_ok=True)
        step = re.sub(r"\W+", "-", getattr(item, "sight_step", report.when)).strip("-")
        for n, page in enumerate(pages):
            path = FAILURES / f"{re.sub(r'\W+', '-', item.name)}--{step}{f'-{n}' if n else ''}.png"
            with contextlib.suppress(Exception):
                page.screenshot(path=str(path), full_page=True)
                report.sections.append(("browser", f"screenshot of {page.url} at step '{step}': {path}"))
        for log in sorted(LOGS.glob("*.log")):
            tail = log.read_text(errors="replace").splitlines()[-40:]
            report.sections.append((f"log {log.name} (last lines)", "\n".join(tail)))
    return report


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium z systemu (bez pobierania przez Playwright), jeden na moduł testów.

    Synchroniczne API Playwrighta trzyma w wątku testu działającą pętlę zdarzeń, więc Django uznałby każde zapytanie
    ORM (także tworzenie i czyszczenie testowej bazy) za wywołanie z kodu asynchronicznego; na czas życia przeglądarki
    zezwalamy na to. Zasięg modułu: po ostatnim teście przeglądarkowym pętla znika i pozostałe testy działają jak
    zawsze.
    """
    expect.set_options(timeout=TIMEOUT_MS)
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _wait_for_http(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"daphne exited with {process.returncode}; see {log}")
        with contextlib.suppress(OSError, urllib.error.URLError):
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - własny serwer na 127.0.0.1
                if response.status == 200:
                    return
        time.sleep(0.2)
    raise RuntimeError(f"daphne did not answer {url} within {SERVER_START_SECONDS} s; see {log}")


@pytest.fixture(scope="session")
def asgi_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """daphne (HTTP i websockety) na wolnym porcie, na testowej bazie tej sesji; zwraca adres bazowy."""
    # Logi i zrzuty dotyczą tylko bieżącego uruchomienia.
    shutil.rmtree(FAILURES, ignore_errors=True)
    shutil.rmtree(LOGS, ignore_errors=True)
    LOGS.mkdir(parents=True)
    port = free_port()
    log = LOGS / "daphne.log"
    env = service_env(DJANGO_DEBUG="true", DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost")
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "sight.asgi:application"]
    with log.open("ab") as out:
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_http(f"{base}/accounts/login/", server, log)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture
def worker(transactional_db: None) -> Iterator[subprocess.Popen]:
    """Worker RQ dla jednego testu (dostawca offline z opóźnieniem, żeby przebieg dało się oglądać); zabijany przed
    czyszczeniem bazy, więc żadne zadanie nie przechodzi do następnego testu.
    """
    process = start_worker(
        service_env(SIGHT_OFFLINE_LATENCY_MS=str(OFFLINE_LATENCY_MS), SIGHT_JOB_HEARTBEAT_SECONDS="2"),
        log=LOGS / "worker.log",
    )
    yield process
    kill_tree(process)


@pytest.fixture
def open_page(
    request: pytest.FixtureRequest, browser: Browser, asgi_server: str, transactional_db: None
) -> Iterator[Callable[..., Page]]:
    """Fabryka stron: `open_page(user=…, language="pl")` daje nową kartę (własne ciasteczka) z zalogowanym
    użytkownikiem i językiem przeglądarki; strony są zamykane przed czyszczeniem bazy.
    """
    request.node.sight_pages = []
    contexts = []

    def open_page(*, user: User | None = None, language: str = "en") -> Page:
        context = browser.new_context(
            base_url=asgi_server, locale={"en": "en-GB", "pl": "pl-PL"}[language], accept_downloads=True
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        if user is not None:
            context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": session_key(user), "url": asgi_server}]
            )
        page = context.new_page()
        request.node.sight_pages.append(page)
        return page

    yield open_page
    for context in contexts:
        with contextlib.suppress(Exception):
            context.close()


@pytest.fixture
def step(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Nazywa bieżący krok testu; zrzut ekranu porażki nosi jego nazwę."""

    def name(text: str) -> None:
        request.node.sight_step = text

    return name


def session_key(user: User) -> str:
    """Klucz nowej sesji zalogowanego użytkownika (zapisanej w bazie, którą czyta daphne)."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value
