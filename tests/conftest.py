"""Fikstury testów: porządki na prawdziwych usługach (PostgreSQL, Redis, FalkorDB, kanały), dostawca `fake`, zalogowany
klient. Fabryki danych są w `tests/factories.py`.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from redis import Redis

from sight.models import User
from tests.factories import create_user


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
