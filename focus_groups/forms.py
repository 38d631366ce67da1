"""Formularze HTML grup fokusowych: konfiguracja z przewodnikiem jako tekstem, wtrącenie badacza, filtry
transkrypcji.
"""

from __future__ import annotations

from typing import Any

import pydantic
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

import config
from focus_groups.models import FocusGroup
from focus_groups.setup import MAX_PROPOSITION_CHARS, FocusGroupIn, FocusGroupPatch
from personas.browsing import PersonaFilters, bucket_choices, filter_personas
from personas.models import Persona, Segment
from sight.demographics import bucket_label
from sight.models import Project

PROBE_PREFIX = "- "
PROPOSITION_PREFIX = "= "
MAX_PROBES = 5
MAX_QUESTION_CHARS = 1000
PARTICIPANT_MODES = (
    ("personas", _("Chosen personas")),
    ("segment", _("A whole segment")),
    ("filters", _("N personas matching filters")),
)
# Pole formularza, przy którym pokazać błąd domeny (klucz `InvalidInput.field`) — dla uczestników zależy od wybranego
# sposobu.
DOMAIN_FIELDS = {
    "name": "name",
    "description": "description",
    "questions": "guide",
    "turns_per_question": "turns_per_question",
    "mode": "mode",
    "interview_context": "interview_context",
    "use_knowledge": "use_knowledge",
}
PARTICIPANT_FIELDS = {"personas": "personas", "segment": "segment", "filters": "count"}
STANCES = (("support", _("support")), ("neutral", _("neutral")), ("oppose", _("oppose")))


def parse_guide(text: str) -> list[dict[str, Any]]:
    """Przewodnik z tekstu: pytanie w wierszu, sondy w wierszach „- ” pod nim, teza (do stanowisk) w wierszu „= ”;
    błędy jako ValidationError z numerem wiersza.
    """
    questions: list[dict[str, Any]] = []
    errors: list[ValidationError] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line == PROPOSITION_PREFIX.strip() or line.startswith(PROPOSITION_PREFIX):
            error = _proposition(questions, line[1:].strip(), number)
            if error:
                errors.append(error)
            continue
        if line == PROBE_PREFIX.strip() or line.startswith(PROBE_PREFIX):
            probe = line[1:].strip()
            if not questions:
                errors.append(
                    ValidationError(
                        _("Line %(line)d: a follow-up probe needs a question above it."),
                        params={"line": number},
                        code="orphan_probe",
                    )
                )
            elif probe:
                questions[-1]["probes"].append(probe[:MAX_QUESTION_CHARS])
            continue
        if len(line) > MAX_QUESTION_CHARS:
            errors.append(
                ValidationError(
                    _("Line %(line)d: a question can have at most %(max)d characters."),
                    params={"line": number, "max": MAX_QUESTION_CHARS},
                    code="long_question",
                )
            )
        questions.append({"text": line, "probes": [], "proposition": ""})
    limit = config.load_features().focus_groups.max_questions
    if not questions and not errors:
        errors.append(ValidationError(_("Write at least one question."), code="empty_guide"))
    if len(questions) > limit:
        errors.append(
            ValidationError(
                _("At most %(max)d questions are allowed (this guide has %(n)d)."),
                params={"max": limit, "n": len(questions)},
                code="too_many_questions",
            )
        )
    for number, question in enumerate(questions, start=1):
        if len(question["probes"]) > MAX_PROBES:
            errors.append(
                ValidationError(
                    _("Question %(n)d has more than %(max)d follow-up probes."),
                    params={"n": number, "max": MAX_PROBES},
                    code="too_many_probes",
                )
            )
    if errors:
        raise ValidationError(errors)
    return questions


def _proposition(questions: list[dict[str, Any]], proposition: str, number: int) -> ValidationError | None:
    """Teza z wiersza „= ” dla ostatniego pytania albo błąd (brak pytania, druga teza, za długa)."""
    if not questions:
        message, code, params = _("Line %(line)d: a proposition needs a question above it."), "orphan_proposition", {}
    elif questions[-1]["proposition"]:
        message, code, params = _("Line %(line)d: a question can have only one proposition."), "two_propositions", {}
    elif len(proposition) > MAX_PROPOSITION_CHARS:
        message, code = _("Line %(line)d: a proposition can have at most %(max)d characters."), "long_proposition"
        params = {"max": MAX_PROPOSITION_CHARS}
    else:
        questions[-1]["proposition"] = proposition
        return None
    return ValidationError(message, params={"line": number, **params}, code=code)


def guide_text(questions: list[dict[str, Any]]) -> str:
    """Przewodnik jako tekst do edycji (odwrotność `parse_guide`)."""
    blocks = [
        "\n".join(
            [
                q["text"],
                *([PROPOSITION_PREFIX + q["proposition"]] if q.get("proposition") else []),
                *(PROBE_PREFIX + p for p in q.get("probes", [])),
            ]
        )
        for q in questions
    ]
    return "\n\n".join(blocks)


class PersonaChoiceField(forms.ModelMultipleChoiceField):
    """Persony panelu jako pola wyboru z krótkim opisem."""

    def label_from_instance(self, obj: Persona) -> str:
        """Imię i nazwisko oraz wiek, płeć i zawód."""
        facts = ", ".join(str(v) for v in (obj.age, bucket_label("gender", obj.gender), obj.occupation) if v)
        return f"{obj.full_name} ({facts})" if facts else obj.full_name


class SegmentChoiceField(forms.ModelChoiceField):
    """Segment z liczbą aktywnych person."""

    def label_from_instance(self, obj: Segment) -> str:
        """Nazwa i liczba person."""
        return f"{obj.name} ({obj.active_count})"


class FocusGroupForm(forms.Form):
    """Nowa albo zmieniana grupa: nazwa, tryb, przewodnik (tekst), uczestnicy — wybrane persony, segment albo N
    pasujących do filtrów.
    """

    name = forms.CharField(label=_("Name"), max_length=255)
    description = forms.CharField(
        label=_("Description"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    mode = forms.ChoiceField(
        label=_("Mode"),
        choices=[(value, capfirst(label)) for value, label in FocusGroup.Mode.choices],
        initial=FocusGroup.Mode.DISCUSSION,
        widget=forms.RadioSelect,
        help_text=_(
            "A discussion lets the participants hear and answer each other; interviews ask everyone separately."
        ),
    )
    turns_per_question = forms.IntegerField(
        label=_("Turns per question"),
        min_value=1,
        max_value=100,
        help_text=_("How many times participants speak on each question (discussion only)."),
    )
    interview_context = forms.ChoiceField(
        label=_("Interview answers"),
        choices=[(value, capfirst(label)) for value, label in FocusGroup.InterviewContext.choices],
        initial=FocusGroup.InterviewContext.INDEPENDENT,
        required=False,
        widget=forms.RadioSelect,
        help_text=_(
            "Interviews only. Independent answers are all asked at once; answers that see the persona's earlier "
            "ones are asked in order, question by question."
        ),
    )
    use_knowledge = forms.BooleanField(
        label=_("Participants know the project's documents"),
        required=False,
        help_text=_("Each turn receives passages from the knowledge base and shows the sources it cites."),
    )
    guide = forms.CharField(
        label=_("Questions and probes"),
        max_length=40000,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "true"}),
        help_text=_(
            "One question per line. Put follow-up probes on the lines under their question, starting with “- ”. "
            "To record stances, state the question's proposition on a line under it starting with “= ”: participants "
            "say privately whether they support it, are neutral or oppose it, before and after the question. "
            "Questions without a proposition take no stances."
        ),
    )
    participants = forms.ChoiceField(
        label=_("Participants"), choices=PARTICIPANT_MODES, initial="personas", widget=forms.RadioSelect
    )
    personas = PersonaChoiceField(
        label=_("Personas"), queryset=Persona.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    segment = SegmentChoiceField(
        label=_("Segment"), queryset=Segment.objects.none(), required=False, empty_label=_("choose a segment")
    )
    count = forms.IntegerField(label=_("Number of personas"), required=False, min_value=1, max_value=50, initial=6)
    gender = forms.ChoiceField(label=_("Gender"), required=False)
    age_min = forms.IntegerField(label=_("Age from"), required=False, min_value=0, max_value=120)
    age_max = forms.IntegerField(label=_("Age to"), required=False, min_value=0, max_value=120)
    location = forms.ChoiceField(label=_("Location"), required=False)
    occupation = forms.CharField(
        label=_("Occupation"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": _("e.g. teacher")}),
    )

    def __init__(self, data: Any = None, *, project: Project, instance: FocusGroup | None = None) -> None:
        self.project, self.instance, self.schema = project, instance, None
        features = config.load_features().focus_groups
        initial: dict[str, Any] = {"turns_per_question": features.default_turns_per_question}
        if instance is not None:
            initial.update(
                name=instance.name,
                description=instance.description,
                mode=instance.mode,
                turns_per_question=instance.turns_per_question,
                interview_context=instance.interview_context,
                use_knowledge=instance.use_knowledge,
                guide=guide_text(instance.questions),
                participants="personas",
                personas=[link.persona_id for link in instance.participant_links.all()],
            )
        super().__init__(data, initial=initial)
        panel = Persona.objects.filter(project=project).active()
        self.fields["personas"].queryset = panel
        self.fields["segment"].queryset = (
            Segment.objects.filter(project=project)
            .annotate(active_count=Count("personas", filter=Q(personas__deleted_at__isnull=True)))
            .order_by("-run__created_at", "index")
        )
        anything = [("", _("any"))]
        self.fields["gender"].choices = anything + bucket_choices(panel, "gender")
        self.fields["location"].choices = anything + bucket_choices(panel, "location")
        self.fields["personas"].help_text = _(
            "Discussions need 2 to %(max)d participants, interviews 1 to %(max)d."
        ) % {"max": features.max_participants}

    def clean_guide(self) -> list[dict[str, Any]]:
        """Pytania z sondami."""
        return parse_guide(self.cleaned_data["guide"])

    def clean(self) -> dict[str, Any]:
        """Uczestnicy według wybranego sposobu; liczby sprawdzone tu, by błąd trafił do właściwego pola w języku
        użytkownika.
        """
        data = super().clean()
        if data.get("age_min") is not None and data.get("age_max") is not None and data["age_min"] > data["age_max"]:
            self.add_error("age_max", _("“Age to” must not be lower than “Age from”."))
        how, mode = data.get("participants"), data.get("mode")
        if (
            how
            and mode
            and not any(
                name in self.errors
                for name in ("personas", "segment", "count", "gender", "age_min", "age_max", "location", "occupation")
            )
        ):
            participants = self._participants(data, how, mode)
            if participants is not None and not self.errors:
                self._build_schema(data, participants)
        return data

    def _participants(self, data: dict[str, Any], how: str, mode: str) -> dict[str, Any] | None:
        """Specyfikacja uczestników (jak w API) albo None z błędem przy polu wybranego sposobu."""
        limit = config.load_features().focus_groups.max_participants
        minimum = 2 if mode == FocusGroup.Mode.DISCUSSION else 1
        field = PARTICIPANT_FIELDS[how]
        if how == "personas":
            chosen = list(data.get("personas") or [])
            spec, available = {"persona_ids": [p.id for p in chosen]}, len(chosen)
        elif how == "segment":
            if not data.get("segment"):
                self.add_error(field, _("Choose a segment."))
                return None
            spec, available = {"segment_id": data["segment"].id}, data["segment"].active_count
        else:
            if data.get("count") is None:
                self.add_error(field, _("Say how many personas to invite."))
                return None
            filters = PersonaFilters(
                **{
                    k: data[k]
                    for k in ("gender", "age_min", "age_max", "location", "occupation")
                    if data.get(k) not in ("", None)
                }
            )
            spec, available = {"filters": filters, "count": data["count"]}, data["count"]
            matching = filter_personas(self.project, filters).count()
            if matching < data["count"] and minimum <= data["count"] <= limit:
                self.add_error(field, _("Only %(n)d personas in the panel match these filters.") % {"n": matching})
                return None
        if not minimum <= available <= limit:
            self.add_error(
                field,
                _("Choose %(min)d to %(max)d participants for this mode; this choice gives %(n)d.")
                % {"min": minimum, "max": limit, "n": available},
            )
            return None
        return spec

    def _build_schema(self, data: dict[str, Any], participants: dict[str, Any]) -> None:
        values = {
            "name": data["name"],
            "description": data.get("description", ""),
            "mode": data["mode"],
            "questions": data["guide"],
            "turns_per_question": data["turns_per_question"],
            "interview_context": data.get("interview_context") or FocusGroup.InterviewContext.INDEPENDENT,
            "use_knowledge": bool(data.get("use_knowledge")),
            "participants": participants,
        }
        try:
            self.schema = (FocusGroupPatch if self.instance else FocusGroupIn)(**values)
        except pydantic.ValidationError as exc:
            # Formularz sprawdza te same granice; to tylko siatka bezpieczeństwa, by zła wartość nigdy nie dała 500.
            for error in exc.errors():
                loc = str(error["loc"][0]) if error["loc"] else ""
                target = PARTICIPANT_FIELDS[data["participants"]] if loc == "participants" else DOMAIN_FIELDS.get(loc)
                self.add_error(target, error["msg"])

    def field_for_domain(self, field: str) -> str | None:
        """Pole formularza, przy którym pokazać błąd domeny (`InvalidInput.field`), albo None (nad formularzem)."""
        how = self.cleaned_data.get("participants") or "personas"
        return PARTICIPANT_FIELDS[how] if field == "participants" else DOMAIN_FIELDS.get(field)


class InterjectForm(forms.Form):
    """Pytanie albo sonda badacza, którą moderator zada jako następną kwestię."""

    text = forms.CharField(
        label=_("Ask the group"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The moderator puts your question to the group before the next turn."),
    )


class TranscriptFilterForm(forms.Form):
    """Wyszukiwanie i filtry transkrypcji (GET); niepoprawne pole nie zawęża wyników i jest pokazane jako błąd."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("words in a turn")}),
    )
    persona = forms.ChoiceField(label=_("Persona"), required=False)
    question = forms.TypedChoiceField(label=_("Question"), required=False, coerce=int, empty_value=None)
    stance = forms.ChoiceField(
        label=_("Stance on the proposition after the question"),
        required=False,
        choices=[("", _("any")), *STANCES],
    )

    def __init__(self, data: Any, *, focus_group: FocusGroup, people: list[Persona]) -> None:
        super().__init__(data)
        self.fields["persona"].choices = [("", _("anyone")), *((str(p.id), p.full_name) for p in people)]
        self.fields["question"].choices = [
            ("", _("all questions")),
            *((str(i), f"Q{i + 1}. {text[:60]}") for i, text in enumerate(focus_group.question_texts())),
        ]

    def filters(self) -> dict[str, Any]:
        """Argumenty `summary.transcript` z poprawnych pól."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None)}
