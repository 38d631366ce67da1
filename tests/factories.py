"""Fabryki danych testowych: funkcje `create_*` z argumentami tylko nazwanymi i pomocnicy przebiegów (worker, skrypt
dyskusji). Fikstury mieszkają w `conftest.py`.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import django_rq
import psutil
from django.conf import settings
from django.test import Client
from rq import SimpleWorker

from focus_groups.models import FocusGroup
from focus_groups.setup import FocusGroupIn
from focus_groups.setup import create_focus_group as setup_focus_group
from personas.models import Persona, PersonaRun, Segment
from sight import llm
from sight.models import ApiToken, Project, User

_seq = itertools.count(1)
ROOT = Path(__file__).resolve().parent.parent

DEMOGRAPHICS = {"age_group": {"18-34": 0.5, "35+": 0.5}, "gender": {"female": 0.5, "male": 0.5}}
QUESTIONS = ("Czy zmieniłbyś bank?", "Co myślisz o opłatach?")


def create_user(*, email: str | None = None, password: str = "pass-word-123", **extra: Any) -> User:
    """Użytkownik z unikalnym e-mailem."""
    return User.objects.create_user(email or f"user{next(_seq)}@example.com", password, **extra)


def create_project(*, owner: User | None = None, **values: Any) -> Project:
    """Projekt z poprawnym rozkładem demograficznym."""
    values.setdefault("name", f"Project {next(_seq)}")
    values.setdefault("target_demographics", DEMOGRAPHICS)
    return Project.objects.create(owner=owner or create_user(), **values)


def create_persona(*, project: Project | None = None, **values: Any) -> Persona:
    """Persona zapisana wprost (bez LLM), z unikalnym nazwiskiem."""
    n = next(_seq)
    values.setdefault("full_name", f"Persona {n}")
    values.setdefault("gender", "female" if n % 2 else "male")
    values.setdefault("age", 20 + n % 40)
    values.setdefault("background_story", f"Historia persony {n}.")
    values.setdefault("demographics", {"gender": values["gender"]})
    values.setdefault("index", n)
    return Persona.objects.create(project=project or create_project(), **values)


def create_panel_persona(*, project: Project | None = None, **values: Any) -> Persona:
    """Persona panelu zgodna z rozkładem `DEMOGRAPHICS`, z unikalną, długą historią, wartościami i zainteresowaniami."""
    n = next(_seq)
    values.setdefault("demographics", {"age_group": "18-34", "gender": "female"})
    values.setdefault("gender", values["demographics"].get("gender", ""))
    values.setdefault("age", 30)
    values.setdefault("background_story", f"Historia numer {n}: " + " ".join(f"w{n}x{i}" for i in range(40)))
    values.setdefault("values", ["rodzina", "spokój"])
    values.setdefault("interests", ["rower"])
    return create_persona(project=project, **values)


def create_segment(*, project: Project | None = None, name: str = "Segment A", index: int = 0) -> Segment:
    """Segment panelu (z własnym przebiegiem generowania)."""
    project = project or create_project()
    run = PersonaRun.objects.create(project=project, num_requested=1, seed=1)
    return Segment.objects.create(run=run, project=project, index=index, name=name, brief="Opis segmentu")


def create_focus_group(
    *,
    project: Project | None = None,
    personas: Iterable[Persona] | None = None,
    name: str = "FG",
    mode: str = "discussion",
    turns: int = 4,
    questions: Sequence[str | dict[str, Any]] = QUESTIONS,
    **extra: Any,
) -> FocusGroup:
    """Grupa fokusowa przez tę samą ścieżkę co API; pytanie to sam tekst (bez sond i tezy) albo pełny słownik; bez
    `personas` — dwie nowe persony.
    """
    project = project or create_project()
    people = list(personas) if personas is not None else [create_persona(project=project) for _ in range(2)]
    data = FocusGroupIn(
        name=name,
        mode=mode,
        turns_per_question=turns,
        questions=[q if isinstance(q, dict) else {"text": q, "probes": []} for q in questions],
        participants={"persona_ids": [p.id for p in people]},
        **extra,
    )
    return setup_focus_group(project, data)


def record_stance(fg: FocusGroup, persona: Persona, when: str, value: str, *, qi: int = 0) -> None:
    """Zapisane wprost stanowisko uczestnika (`when`: before/after) przy pytaniu `qi`, jak zapisuje je silnik."""
    fg.append_event(
        "stance",
        key=f"q{qi}:stance:{when}:{persona.id}",
        payload={"when": when, "stance": value, "reason": "bo tak", "persona_name": persona.full_name},
        persona_id=persona.id,
        question_index=qi,
    )


def create_token(*, user: User | None = None) -> tuple[User, str]:
    """Użytkownik i jawny token API."""
    user = user or create_user()
    return user, ApiToken.issue(user=user, name="test")[1]


def api_client(token: str) -> Client:
    """Klient HTTP wysyłający `Authorization: Bearer`."""
    return Client(headers={"authorization": f"Bearer {token}", "accept-language": "en"})


def run_worker() -> None:
    """Wykonuje w tym procesie wszystko, co czeka w kolejkach `llm` i `default` (worker w trybie burst)."""
    SimpleWorker(
        [django_rq.get_queue("llm"), django_rq.get_queue("default")], connection=django_rq.get_connection("llm")
    ).work(burst=True)


def service_env(**extra: str) -> dict[str, str]:
    """Środowisko procesu potomnego (worker, daphne) na tej samej testowej bazie i tych samych usługach co testy."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    url = urlunsplit((parts.scheme, parts.netloc, "/" + settings.DATABASES["default"]["NAME"], parts.query, ""))
    return {**os.environ, "DATABASE_URL": url, "SIGHT_LLM_PROVIDER": "offline", **extra}


def worker_env(latency_ms: int) -> dict[str, str]:
    """Środowisko workera: dostawca offline ze stałym opóźnieniem, częsty heartbeat."""
    return service_env(SIGHT_OFFLINE_LATENCY_MS=str(latency_ms), SIGHT_JOB_HEARTBEAT_SECONDS="1")


def start_worker(env: dict[str, str], *, burst: bool = False, log: Path | None = None) -> subprocess.Popen:
    """Prawdziwy proces `manage.py rqworker llm default` (wyjście do `log` albo w nicość)."""
    args = [sys.executable, str(ROOT / "manage.py"), "rqworker", "llm", "default", *(["--burst"] if burst else [])]
    out = log.open("ab") if log else subprocess.DEVNULL
    return subprocess.Popen(args, env=env, cwd=ROOT, start_new_session=True, stdout=out, stderr=subprocess.STDOUT)


def kill_tree(process: subprocess.Popen) -> None:
    """SIGKILL procesu i wszystkich potomków (koń roboczy RQ działa we własnej sesji)."""
    with contextlib.suppress(psutil.NoSuchProcess):
        parent = psutil.Process(process.pid)
        for proc in [*parent.children(recursive=True), parent]:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(signal.SIGKILL)
    process.wait(10)


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    """Czeka, aż warunek będzie spełniony (sprawdzany co 50 ms); po `timeout` sekundach AssertionError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


_lines = itertools.count(1)


def moderator_line(messages: Any) -> dict[str, Any]:
    """Skryptowana wypowiedź moderatora."""
    return {"text": f"Moderator line {next(_lines)}: what do you think?"}


def participant_turn(messages: Any) -> dict[str, Any]:
    """Skryptowana wypowiedź uczestnika (dwa zdania, nikt nie jest wskazany)."""
    return {
        "text": f"I think this matters to me, point {next(_lines)}. Second sentence here.",
        "addressed_to": None,
        "agrees_with": [],
        "disagrees_with": [],
    }


def private_stance(messages: Any) -> dict[str, Any]:
    """Skryptowane stanowisko: po kolei za, neutralnie, przeciw."""
    return {"stance": ["support", "neutral", "oppose"][next(_lines) % 3], "reason": "Because of price and trust."}


def script_discussion(*, turn: Callable[[Any], dict[str, Any]] = participant_turn, n: int = 400) -> None:
    """Skrypt dostawcy `fake` na całą dyskusję: moderator, wypowiedzi i stanowiska (po `n` odpowiedzi)."""
    llm.script("moderator", [moderator_line] * n)
    llm.script("focus_group_turn", [turn] * n)
    llm.script("stance", [private_stance] * n)


class _VisibleText(HTMLParser):
    """Tekst, który człowiek widzi: węzły tekstowe poza <script> i <style> (atrybuty `value` się nie liczą)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.hidden += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())
