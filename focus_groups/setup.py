"""Konfiguracja grupy fokusowej: przewodnik dyskusji, wybór uczestników (lista, segment albo N pasujących do
filtrów).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from ninja import Field, Schema

import config
from focus_groups.models import FocusGroup, Participant
from personas.browsing import PersonaFilters, filter_personas
from personas.models import Persona
from sight.errors import Conflict, InvalidInput
from sight.models import Project


class QuestionIn(Schema):
    """Pytanie przewodnika z opcjonalnymi sondami."""

    text: str = Field(min_length=1, max_length=1000)
    probes: list[str] = Field(default_factory=list, max_length=5)


class ParticipantsIn(Schema):
    """Uczestnicy: wskazane persony, cały segment albo N person pasujących do filtrów."""

    persona_ids: list[uuid.UUID] | None = Field(None, max_length=50)
    segment_id: uuid.UUID | None = None
    filters: PersonaFilters | None = None
    count: int | None = Field(None, ge=1, le=50)


class FocusGroupIn(Schema):
    """Nowa grupa fokusowa."""

    name: str = Field(min_length=1, max_length=255)
    description: str = Field("", max_length=4000)
    mode: FocusGroup.Mode = FocusGroup.Mode.DISCUSSION
    questions: list[QuestionIn] = Field(min_length=1, max_length=100)
    turns_per_question: int | None = Field(None, ge=1, le=100)
    interview_context: FocusGroup.InterviewContext = FocusGroup.InterviewContext.INDEPENDENT
    participants: ParticipantsIn


class FocusGroupPatch(Schema):
    """Zmiana grupy przed startem."""

    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=4000)
    mode: FocusGroup.Mode | None = None
    questions: list[QuestionIn] | None = Field(None, min_length=1, max_length=100)
    turns_per_question: int | None = Field(None, ge=1, le=100)
    interview_context: FocusGroup.InterviewContext | None = None
    participants: ParticipantsIn | None = None


def clean_text(text: str, field: str) -> str:
    """Tekst bez znaku NUL (inaczej InvalidInput przy polu), bez skrajnych spacji."""
    if "\x00" in text:
        raise InvalidInput(field, "Text must not contain NUL characters.")
    return text.strip()


def _name(text: str) -> str:
    name = clean_text(text, "name")
    if not name:
        raise InvalidInput("name", "the name must not be blank")
    return name


def _questions(items: Sequence[QuestionIn]) -> list[dict[str, Any]]:
    limit = config.load_features().focus_groups.max_questions
    if len(items) > limit:
        raise InvalidInput("questions", f"at most {limit} questions are allowed")
    result = [
        {
            "text": clean_text(q.text, "questions"),
            "probes": [p for p in (clean_text(x, "questions") for x in q.probes) if p],
        }
        for q in items
    ]
    if any(not q["text"] for q in result):
        raise InvalidInput("questions", "every question needs text")
    return result


def resolve_participants(project: Project, spec: ParticipantsIn, *, mode: str) -> list[Persona]:
    """Persony projektu według specyfikacji; za mało, za dużo albo obce persony to InvalidInput (422)."""
    limit = config.load_features().focus_groups.max_participants
    active = Persona.objects.filter(project=project).active()
    if spec.persona_ids:
        found = {p.id: p for p in active.filter(pk__in=spec.persona_ids)}
        missing = [str(i) for i in spec.persona_ids if i not in found]
        if missing:
            raise InvalidInput("participants", f"personas not in this project's panel: {', '.join(missing[:5])}")
        people = [found[i] for i in dict.fromkeys(spec.persona_ids)]
    elif spec.segment_id:
        people = list(active.filter(segment_id=spec.segment_id).order_by("created_at", "index")[: limit + 1])
    elif spec.count:
        pool = list(filter_personas(project, spec.filters or PersonaFilters()))
        step = max(1, len(pool) // spec.count) if pool else 1
        people = pool[::step][: spec.count]
        if len(people) < spec.count:
            raise InvalidInput(
                "participants", f"only {len(people)} personas match these filters, {spec.count} requested"
            )
    else:
        raise InvalidInput("participants", "choose personas, a segment, or a number of personas matching filters")
    minimum = 2 if mode == FocusGroup.Mode.DISCUSSION else 1
    if not minimum <= len(people) <= limit:
        raise InvalidInput("participants", f"a focus group needs {minimum} to {limit} participants, got {len(people)}")
    return people


@transaction.atomic
def create_focus_group(project: Project, data: FocusGroupIn) -> FocusGroup:
    """Tworzy grupę (status `pending`) z przewodnikiem i uczestnikami."""
    people = resolve_participants(project, data.participants, mode=data.mode)
    fg = FocusGroup.objects.create(
        project=project,
        name=_name(data.name),
        description=clean_text(data.description, "description"),
        mode=data.mode,
        questions=_questions(data.questions),
        turns_per_question=data.turns_per_question or config.load_features().focus_groups.default_turns_per_question,
        interview_context=data.interview_context,
    )
    Participant.objects.bulk_create([Participant(focus_group=fg, persona=p, position=i) for i, p in enumerate(people)])
    return fg


@transaction.atomic
def update_focus_group(fg: FocusGroup, data: FocusGroupPatch) -> FocusGroup:
    """Zmienia grupę; po starcie to Conflict (409)."""
    fg = FocusGroup.objects.select_for_update().get(pk=fg.pk)
    if not fg.is_editable:
        raise Conflict("a focus group can be edited only while it is pending")
    values = data.dict(exclude_unset=True)
    if values.get("name") is not None:
        fg.name = _name(values["name"])
    if values.get("description") is not None:
        fg.description = clean_text(values["description"], "description")
    if data.mode is not None:
        fg.mode = data.mode
    if data.turns_per_question is not None:
        fg.turns_per_question = data.turns_per_question
    if data.interview_context is not None:
        fg.interview_context = data.interview_context
    if data.questions is not None:
        fg.questions = _questions(data.questions)
    if data.participants is not None:
        people = resolve_participants(fg.project, data.participants, mode=fg.mode)
        fg.participant_links.all().delete()
        Participant.objects.bulk_create(
            [Participant(focus_group=fg, persona=p, position=i) for i, p in enumerate(people)]
        )
    elif data.mode is not None and fg.mode == FocusGroup.Mode.DISCUSSION and fg.participant_links.count() < 2:
        # Zmiana trybu bez nowej listy uczestników nie może ominąć minimum dyskusji (dwie osoby).
        raise InvalidInput(
            "participants", "a discussion needs at least 2 participants; send participants with the new mode"
        )
    fg.save()
    return fg
