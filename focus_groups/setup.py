"""Konfiguracja grupy fokusowej: przewodnik dyskusji, wybór uczestników (lista, segment albo N pasujących do
filtrów).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from django.db import transaction
from ninja import Field
from pydantic import field_validator

import config
from focus_groups.models import FocusGroup, Participant
from personas.browsing import PersonaFilters, filter_personas
from personas.models import Persona
from sight.errors import Conflict, InvalidInput
from sight.models import Project
from sight.schemas import InputSchema, json_int, schema_bound
from sight.text import CleanText, RequiredText


def _limits() -> Any:
    return config.load_features().focus_groups


# Granice z features.yaml trafiają do schematu OpenAPI przy jego budowie; serwer sprawdza je w `_questions` i
# `resolve_participants` (InvalidInput), a pydantic tylko twardy sufit.
AT_MOST_PARTICIPANTS = schema_bound(maxItems=lambda: _limits().max_participants)
AT_MOST_PARTICIPANTS_COUNT = schema_bound(maximum=lambda: _limits().max_participants)
QuestionText = Annotated[RequiredText, Field(max_length=1000)]
MAX_PROPOSITION_CHARS = 500
PersonaIds = Annotated[
    list[uuid.UUID],
    Field(
        min_length=1,
        max_length=50,
        description='Shorthand for {"persona_ids": [...]}: these personas, in order.',
        json_schema_extra=AT_MOST_PARTICIPANTS,
    ),
]


class GuideQuestionIn(InputSchema):
    """Pytanie przewodnika z opcjonalnymi sondami i opcjonalną tezą, wobec której uczestnicy zajmują stanowisko."""

    text: QuestionText
    probes: list[Annotated[CleanText, Field(max_length=1000)]] = Field(default_factory=list, max_length=5)
    proposition: CleanText = Field(
        "",
        max_length=MAX_PROPOSITION_CHARS,
        description=(
            "A statement to support, stay neutral on or oppose, e.g. 'A 5 zł deposit on cups is fair'. Discussions "
            "record each participant's private stance on it before and after the question; without one, none."
        ),
    )

    def as_stored(self) -> dict[str, Any]:
        """Pytanie w kształcie `FocusGroup.questions`: pustą sondę pomijamy, pusta teza to brak stanowisk."""
        return {"text": self.text, "probes": [p for p in self.probes if p], "proposition": self.proposition}


class ParticipantsIn(InputSchema):
    """Uczestnicy: wskazane persony, cały segment albo N person pasujących do filtrów."""

    persona_ids: Annotated[list[uuid.UUID], Field(max_length=50, json_schema_extra=AT_MOST_PARTICIPANTS)] | None = None
    segment_id: uuid.UUID | None = None
    filters: PersonaFilters | None = None
    count: json_int(ge=1, le=50, json_schema_extra=AT_MOST_PARTICIPANTS_COUNT) | None = None


GUIDE_DESCRIPTION = "Ordered questions; each is a plain string or {text, probes, proposition}."
AT_MOST_QUESTIONS = schema_bound(maxItems=lambda: _limits().max_questions)
PARTICIPANTS_DESCRIPTION = "A list of persona ids, or {persona_ids} | {segment_id} | {count, filters}."


class _Shorthands(InputSchema):
    """Skróty klienta API: pytanie jako sam tekst, uczestnicy jako lista identyfikatorów; dalej zawsze pełne formy."""

    @field_validator("questions", check_fields=False)
    @classmethod
    def _full_questions(cls, items: list[GuideQuestionIn | str] | None) -> list[GuideQuestionIn] | None:
        return None if items is None else [GuideQuestionIn(text=q) if isinstance(q, str) else q for q in items]

    @field_validator("participants", check_fields=False)
    @classmethod
    def _full_participants(cls, spec: ParticipantsIn | list[uuid.UUID] | None) -> ParticipantsIn | None:
        return ParticipantsIn(persona_ids=spec) if isinstance(spec, list) else spec


class FocusGroupIn(_Shorthands):
    """Nowa grupa fokusowa."""

    name: RequiredText = Field(max_length=255)
    description: CleanText = Field("", max_length=4000)
    mode: FocusGroup.Mode = FocusGroup.Mode.DISCUSSION
    questions: list[GuideQuestionIn | QuestionText] = Field(
        min_length=1, max_length=100, description=GUIDE_DESCRIPTION, json_schema_extra=AT_MOST_QUESTIONS
    )
    turns_per_question: json_int(ge=1, le=100) | None = None
    interview_context: FocusGroup.InterviewContext = FocusGroup.InterviewContext.INDEPENDENT
    use_knowledge: bool = Field(False, description="participants know the project's documents (turns cite passages)")
    participants: ParticipantsIn | PersonaIds = Field(description=PARTICIPANTS_DESCRIPTION)


class FocusGroupPatch(_Shorthands):
    """Zmiana grupy przed startem."""

    name: RequiredText | None = Field(None, max_length=255)
    description: CleanText | None = Field(None, max_length=4000)
    mode: FocusGroup.Mode | None = None
    questions: list[GuideQuestionIn | QuestionText] | None = Field(
        None, min_length=1, max_length=100, description=GUIDE_DESCRIPTION, json_schema_extra=AT_MOST_QUESTIONS
    )
    turns_per_question: json_int(ge=1, le=100) | None = None
    interview_context: FocusGroup.InterviewContext | None = None
    use_knowledge: bool | None = None
    participants: ParticipantsIn | PersonaIds | None = Field(None, description=PARTICIPANTS_DESCRIPTION)


def _questions(items: Sequence[GuideQuestionIn]) -> list[dict[str, Any]]:
    limit = config.load_features().focus_groups.max_questions
    if len(items) > limit:
        raise InvalidInput("questions", f"at most {limit} questions are allowed")
    # Tekst jest już czysty (CleanText, niepusty).
    return [q.as_stored() for q in items]


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
        name=data.name,
        description=data.description,
        mode=data.mode,
        questions=_questions(data.questions),
        turns_per_question=data.turns_per_question or config.load_features().focus_groups.default_turns_per_question,
        interview_context=data.interview_context,
        use_knowledge=data.use_knowledge,
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
        fg.name = values["name"]
    if values.get("description") is not None:
        fg.description = values["description"]
    if data.mode is not None:
        fg.mode = data.mode
    if data.turns_per_question is not None:
        fg.turns_per_question = data.turns_per_question
    if data.interview_context is not None:
        fg.interview_context = data.interview_context
    if data.use_knowledge is not None:
        fg.use_knowledge = data.use_knowledge
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
