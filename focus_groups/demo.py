"""Dane demo grup fokusowych: przewodnik z pytaniami otwartymi i pytaniami z tezą, gotowy do uruchomienia."""

from __future__ import annotations

from focus_groups.models import FocusGroup, Participant
from personas.models import Persona
from sight.demo import demo_step
from sight.models import Project, User

DEMO_GROUP = "Demo: bank tylko w aplikacji"
DEMO_PARTICIPANTS = 6
# Pytania otwarte nie mają tezy (bez stanowisk); dwa pytania niosą tezę, więc wyniki pokażą zmiany stanowisk.
DEMO_GUIDE = [
    {
        "text": "Jak dziś na co dzień zarządzasz swoimi pieniędzmi?",
        "probes": ["Z jakich aplikacji albo kanałów banku korzystasz najczęściej?"],
        "proposition": "",
    },
    {
        "text": "Co sądzisz o banku działającym wyłącznie w aplikacji, bez oddziałów?",
        "probes": ["Czego by Ci w nim brakowało?"],
        "proposition": "Bank bez oddziałów, działający tylko w aplikacji, wystarczy do codziennych finansów.",
    },
    {
        "text": "Jak oceniasz budżetowanie oparte na AI w aplikacji banku?",
        "probes": ["Co musiałoby się stać, żebyś mu zaufał(a)?"],
        "proposition": "Za budżetowanie oparte na AI warto płacić 10 zł miesięcznie.",
    },
]


@demo_step
def seed_demo_focus_group(user: User, project: Project) -> None:
    """Grupa demo (oczekująca) z przewodnikiem; uczestników dostaje, gdy panel projektu już ma persony."""
    fg, _created = FocusGroup.objects.get_or_create(
        project=project,
        name=DEMO_GROUP,
        defaults={
            "description": "Przykładowy przewodnik: pytania otwarte i pytania z tezą, wobec której padają stanowiska.",
            "questions": DEMO_GUIDE,
        },
    )
    if fg.is_editable and not fg.participant_links.exists():
        people = list(Persona.objects.filter(project=project).active().order_by("created_at")[:DEMO_PARTICIPANTS])
        if len(people) < 2:  # dyskusja potrzebuje dwóch osób; do tego czasu badacz wybiera je w formularzu
            return
        Participant.objects.bulk_create(
            [Participant(focus_group=fg, persona=p, position=i) for i, p in enumerate(people)]
        )
