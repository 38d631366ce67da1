"""Formularze HTML person: start generowania panelu i filtry listy."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

import config
from personas.browsing import PersonaFilters, bucket_choices
from personas.models import Persona, Segment
from sight.models import Project
from sight.text import localized_number

MAX_SEED = 2**62
MAX_POSTED_IDS = 1000


def posted_persona_ids(values: list[str]) -> list[uuid.UUID]:
    """Poprawne identyfikatory UUID z pola `ids` formularza zbiorczego (reszta jest pomijana, najwyżej 1000)."""
    field = forms.UUIDField()
    ids = []
    for value in values[:MAX_POSTED_IDS]:
        try:
            ids.append(field.clean(value))
        except forms.ValidationError:
            continue
    return ids


def trait_preset_label(name: str, shifts: dict[str, float]) -> str:
    """Etykieta presetu cech: nazwa i przesunięcia średnich w bieżącym języku (np. „innovators: otwartość +0,2”)."""
    if not shifts:
        return name
    return f"{name}: " + ", ".join(
        f"{Persona.trait_label(trait)} {'+' if shift > 0 else ''}{localized_number(shift)}"
        for trait, shift in shifts.items()
    )


class GenerateForm(forms.Form):
    """Parametry nowego przebiegu generowania (te same co w API)."""

    num_personas = forms.IntegerField(label=_("Number of personas"), min_value=1)
    seed = forms.IntegerField(
        label=_("Seed"),
        required=False,
        min_value=0,
        max_value=MAX_SEED,
        help_text=_(
            "Optional. Left empty, the run draws a fresh random seed and shows it. The same seed on the same panel "
            "gives the same plan, traits and names."
        ),
    )
    segments = forms.BooleanField(label=_("Group personas into market segments"), required=False, initial=True)
    use_rag = forms.BooleanField(
        label=_("Use the knowledge base"),
        required=False,
        initial=True,
        help_text=_("Ground the personas in the project's documents, if any."),
    )
    trait_preset = forms.ChoiceField(label=_("Personality preset"), required=False)

    def __init__(self, *args: Any, project: Project, **kwargs: Any) -> None:
        settings = config.load_features().personas
        kwargs.setdefault("initial", {"num_personas": min(project.target_sample_size, settings.max_per_run)})
        super().__init__(*args, **kwargs)
        # Limit pochodzi z konfiguracji, więc walidator dokładamy przy tworzeniu formularza, nie przy imporcie.
        self.fields["num_personas"].max_value = settings.max_per_run
        self.fields["num_personas"].validators.append(MaxValueValidator(settings.max_per_run))
        self.fields["num_personas"].widget.attrs["max"] = settings.max_per_run
        self.fields["num_personas"].help_text = _("From 1 to %(limit)d.") % {"limit": settings.max_per_run}
        self.fields["trait_preset"].choices = [
            ("", _("none (traits drawn around the middle)")),
            *((name, trait_preset_label(name, shifts)) for name, shifts in settings.trait_presets.items()),
        ]


class PersonaFilterForm(forms.Form):
    """Filtry listy person (GET); niepoprawne pole jest pomijane i pokazane jako błąd."""

    q = forms.CharField(
        label=_("Name"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Search by name")}),
    )
    gender = forms.ChoiceField(label=_("Gender"), required=False)
    age_min = forms.IntegerField(label=_("Age from"), required=False, min_value=0, max_value=120)
    age_max = forms.IntegerField(label=_("Age to"), required=False, min_value=0, max_value=120)
    location = forms.ChoiceField(label=_("Location"), required=False)
    segment = forms.TypedChoiceField(label=_("Segment"), required=False, coerce=uuid.UUID, empty_value=None)
    occupation = forms.CharField(label=_("Occupation"), required=False, max_length=100)
    deleted = forms.BooleanField(label=_("Deleted"), required=False, widget=forms.HiddenInput)

    def __init__(self, data: Any, *, project: Project) -> None:
        super().__init__(data)
        everyone = Persona.objects.filter(project=project)
        anything = [("", _("any"))]
        self.fields["gender"].choices = anything + bucket_choices(everyone, "gender")
        self.fields["location"].choices = anything + bucket_choices(everyone, "location")
        self.fields["segment"].choices = anything + [
            (str(s.id), s.name) for s in Segment.objects.filter(project=project).order_by("-run__created_at", "index")
        ]

    def clean(self) -> dict[str, Any]:
        """Odwrócony zakres wieku to błąd widoczny przy filtrach (oba pola pominięte), nie cicho pusta lista."""
        data = super().clean()
        if data.get("age_min") is not None and data.get("age_max") is not None and data["age_min"] > data["age_max"]:
            self.add_error("age_max", _("“Age to” must not be lower than “Age from”."))
            data.pop("age_min", None)
        return data

    def filters(self) -> PersonaFilters:
        """Filtry domenowe z poprawnych pól (błędne pola nie zawężają listy)."""
        if not self.is_bound:
            return PersonaFilters()
        self.is_valid()
        return PersonaFilters(**{name: value for name, value in self.cleaned_data.items() if value not in ("", None)})
