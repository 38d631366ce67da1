"""Dane demonstracyjne dla `make run`: konto i projekt oparte na presecie rynku z config/demographics; aplikacje
dokładają swoje dane demo krokami `@demo_step` w `<app>/demo.py` (wczytywanym w `SightConfig.ready`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

import config
from sight.models import Project, User

DEMO_EMAIL = "demo@sight.local"
DEMO_PASSWORD = "sight-demo"
DEMO_PROJECT = "Demo: bankowość mobilna dla młodych dorosłych"

DemoStep = Callable[[User, Project], None]
DEMO_STEPS: list[DemoStep] = []


def demo_step(func: DemoStep) -> DemoStep:
    """Rejestruje krok danych demo aplikacji: wołany przy każdym `seed_demo`, sam dba o to, by nie dublować."""
    DEMO_STEPS.append(func)
    return func


def _demo_demographics() -> dict[str, dict[str, float]]:
    """Rozkład polskiego presetu zawężony do wieku 18–44 (wagi przeskalowane tak, by sumowały się do 1)."""
    target = config.load_demographics()["poland"].target_demographics()
    ages = {k: w for k, w in target["age_group"].items() if k in {"18-24", "25-34", "35-44"}}
    total = sum(ages.values())
    target["age_group"] = {k: round(w / total, 4) for k, w in ages.items()}
    last = next(reversed(target["age_group"]))
    target["age_group"][last] = round(1 - sum(w for k, w in target["age_group"].items() if k != last), 4)
    return target


@transaction.atomic
def seed_demo() -> tuple[User, Project]:
    """Tworzy konto demo (staff, by zajrzeć do admina) i projekt demo, jeśli ich nie ma; nie nadpisuje zmian."""
    user = User.objects.filter(email=DEMO_EMAIL).first()
    if user is None:
        user = User.objects.create_user(DEMO_EMAIL, DEMO_PASSWORD, first_name="Demo", is_staff=True, is_superuser=True)
    project = Project.objects.filter(owner=user, name=DEMO_PROJECT).first()
    if project is None:
        project = Project.objects.create(
            owner=user,
            name=DEMO_PROJECT,
            description=(
                "Czy Polacy w wieku 18–44 lat przeszliby do banku wyłącznie mobilnego z niskimi opłatami i "
                "budżetowaniem opartym na AI?"
            ),
            target_audience="Dorośli mieszkańcy Polski, 18–44 lata, korzystający z bankowości internetowej",
            research_objectives=(
                "Zrozumieć bariery zmiany banku, oczekiwania wobec funkcji budżetowania i wrażliwość na opłaty."
            ),
            language="pl",
            target_demographics=_demo_demographics(),
            target_sample_size=20,
            token_budget=2_000_000,
        )
    for step in DEMO_STEPS:
        step(user, project)
    return user, project
