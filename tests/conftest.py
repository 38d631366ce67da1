"""Wspólny świat testów: fabryki i porządki na prawdziwych usługach (PostgreSQL, Redis, FalkorDB, kanały)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from redis import Redis

from sight.models import ApiToken, Project, User

_seq = itertools.count(1)

DEMOGRAPHICS = {"age_group": {"18-34": 0.5, "35+": 0.5}, "gender": {"female": 0.5, "male": 0.5}}


def create_user(*, email: str | None = None, password: str = "pass-word-123", **extra: Any) -> User:
    """Użytkownik z unikalnym e-mailem."""
    return User.objects.create_user(email or f"user{next(_seq)}@example.com", password, **extra)


def create_project(*, owner: User | None = None, **values: Any) -> Project:
    """Projekt z poprawnym rozkładem demograficznym."""
    values.setdefault("name", f"Project {next(_seq)}")
    values.setdefault("target_demographics", DEMOGRAPHICS)
    return Project.objects.create(owner=owner or create_user(), **values)


def create_persona(*, project: Project | None = None, **values: Any) -> Any:
    """Persona zapisana wprost (bez LLM), z unikalnym nazwiskiem."""
    from personas.models import Persona

    n = next(_seq)
    values.setdefault("full_name", f"Persona {n}")
    values.setdefault("gender", "female" if n % 2 else "male")
    values.setdefault("age", 20 + n % 40)
    values.setdefault("background_story", f"Historia persony {n}.")
    values.setdefault("demographics", {"gender": values["gender"]})
    return Persona.objects.create(project=project or create_project(), index=n, **values)


def create_token(*, user: User | None = None) -> tuple[User, str]:
    """Użytkownik i jawny token API."""
    user = user or create_user()
    return user, ApiToken.issue(user=user, name="test")[1]


def api_client(token: str) -> Client:
    """Klient HTTP wysyłający `Authorization: Bearer`."""
    return Client(headers={"authorization": f"Bearer {token}", "accept-language": "en"})


@pytest.fixture(autouse=True)
def _clean_redis() -> None:
    """Czyści bazy Redisa kolejek, kanałów i cache (grafy w bazie 0 zostają)."""
    for url in (settings.RQ_REDIS_URL, settings.CHANNELS_REDIS_URL, settings.CACHE_REDIS_URL):
        Redis.from_url(url).flushdb()


@pytest.fixture
def fake_llm(settings: Any) -> Any:
    """Dostawca `fake` ze skryptami czyszczonymi przed i po teście (jedyne, co w testach jest atrapą)."""
    from sight import llm

    settings.SIGHT_LLM_PROVIDER = "fake"
    llm.reset_scripts()
    yield llm
    llm.reset_scripts()


@pytest.fixture
def user(db: None) -> User:
    return create_user()


@pytest.fixture
def logged_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
