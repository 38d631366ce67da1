"""Modele person: przebieg generowania, segment i persona (z miękkim usuwaniem)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import config
from personas.sampling import BIG_FIVE, HOFSTEDE, TRAITS
from sight.demographics import bucket_label
from sight.models import Job, Project
from sight.text import no_nul

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from sight.models import User


def validate_num_personas(value: int) -> None:
    """Liczba person w przebiegu: od 1 do limitu `personas.max_per_run` z features.yaml."""
    limit = config.load_features().personas.max_per_run
    if not 1 <= value <= limit:
        raise ValidationError(
            _("The number of personas must be between 1 and %(limit)d.") % {"limit": limit}, code="num_personas"
        )


def _unit_interval() -> list[Any]:
    return [MinValueValidator(0.0), MaxValueValidator(1.0)]


class PersonaRunQuerySet(models.QuerySet["PersonaRun"]):
    """Zapytania o przebiegi generowania."""

    def for_user(self, user: User | AnonymousUser) -> PersonaRunQuerySet:
        """Przebiegi w projektach, które użytkownik może zobaczyć."""
        return self.filter(project__in=Project.objects.for_user(user))


class PersonaRun(models.Model):
    """Jeden przebieg generowania person: parametry, plan profili, segmenty, raport walidacji i porażki."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        PARTIAL = "partial", _("partially succeeded")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="persona_runs", verbose_name=_("project")
    )
    job = models.ForeignKey(
        Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="persona_runs", verbose_name=_("job")
    )
    num_requested = models.PositiveIntegerField(_("personas requested"), validators=[validate_num_personas])
    seed = models.BigIntegerField(_("seed"))
    trait_preset = models.CharField(_("trait preset"), max_length=64, blank=True)
    use_rag = models.BooleanField(_("use knowledge base"), default=True)
    segments_enabled = models.BooleanField(_("segments enabled"), default=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PLANNED)
    allocation = models.JSONField(
        _("planned profiles"),
        default=list,
        blank=True,
        help_text=_("One planned profile per persona index (demographics, age, occupation, traits)."),
    )
    segment_plan = models.JSONField(
        _("segment plan"),
        default=list,
        blank=True,
        help_text=_("Segments proposed for this run, before they are saved as Segment rows."),
    )
    segment_fallback = models.BooleanField(
        _("segment fallback"),
        default=False,
        help_text=_("Segments could not be built and personas were generated without them."),
    )
    segment_fallback_reason = models.TextField(_("segment fallback reason"), blank=True)
    validation = models.JSONField(_("validation report"), default=dict, blank=True)
    failed = models.JSONField(
        _("failed personas"),
        default=list,
        blank=True,
        help_text=_("List of {index, reason} for planned personas that could not be generated."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = PersonaRunQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)
        indexes = (models.Index(fields=("project", "-created_at"), name="persona_run_project_idx"),)
        verbose_name = _("persona generation run")
        verbose_name_plural = _("persona generation runs")

    def __str__(self) -> str:
        return (
            f"{self.num_requested} personas · {self.created_at:%Y-%m-%d %H:%M}"
            if self.created_at
            else f"{self.num_requested} personas"
        )

    def missing_indexes(self) -> list[int]:
        """Indeksy z planu, dla których nie zapisano jeszcze persony (wznowienie bez duplikatów)."""
        saved = set(self.personas.values_list("index", flat=True))
        return [profile["index"] for profile in self.allocation if profile["index"] not in saved]


def get_persona_run_for_user(user: User | AnonymousUser, run_id: uuid.UUID | str) -> PersonaRun:
    """Jedyna droga do przebiegu z widoków, API i konsumentów; cudzy przebieg to 404."""
    return get_object_or_404(PersonaRun.objects.for_user(user).select_related("project"), pk=run_id)


class Segment(models.Model):
    """Segment rynku w przebiegu: nazwa, brief dla generatora i cechy wspólne jego person."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    run = models.ForeignKey(PersonaRun, on_delete=models.CASCADE, related_name="segments", verbose_name=_("run"))
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="segments", verbose_name=_("project"))
    index = models.PositiveSmallIntegerField(_("index"))
    name = models.CharField(_("name"), max_length=200, validators=[no_nul])
    brief = models.TextField(_("brief"), blank=True, validators=[no_nul])
    characteristics = models.JSONField(_("characteristics"), default=list, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ("run", "index")
        constraints = (models.UniqueConstraint(fields=("run", "index"), name="segment_unique_run_index"),)
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self) -> str:
        return self.name


class PersonaQuerySet(models.QuerySet["Persona"]):
    """Zapytania o persony."""

    def for_user(self, user: User | AnonymousUser) -> PersonaQuerySet:
        """Persony w projektach, które użytkownik może zobaczyć."""
        return self.filter(project__in=Project.objects.for_user(user))

    def active(self) -> PersonaQuerySet:
        """Persony nieusunięte."""
        return self.filter(deleted_at__isnull=True)

    def deleted(self) -> PersonaQuerySet:
        """Persony usunięte miękko (do przywrócenia)."""
        return self.filter(deleted_at__isnull=False)


class Persona(models.Model):
    """Syntetyczny respondent: demografia z przydziału kwotowego, cechy osobowości i profil napisany przez LLM."""

    BIG_FIVE = BIG_FIVE
    HOFSTEDE = HOFSTEDE
    TRAITS = TRAITS

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="personas", verbose_name=_("project"))
    run = models.ForeignKey(
        PersonaRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="personas", verbose_name=_("run")
    )
    segment = models.ForeignKey(
        Segment, on_delete=models.SET_NULL, null=True, blank=True, related_name="personas", verbose_name=_("segment")
    )
    index = models.PositiveIntegerField(_("index in run"), default=0)

    age = models.PositiveSmallIntegerField(_("age"), null=True, blank=True, validators=[MaxValueValidator(120)])
    gender = models.CharField(_("gender"), max_length=64, blank=True)
    education = models.CharField(_("education"), max_length=64, blank=True)
    income = models.CharField(_("income"), max_length=64, blank=True)
    location = models.CharField(_("location"), max_length=64, blank=True)
    demographics = models.JSONField(
        _("demographics"), default=dict, blank=True, help_text=_("Bucket of every target category: {category: bucket}.")
    )

    openness = models.FloatField(_("openness"), default=0.5, validators=_unit_interval())
    conscientiousness = models.FloatField(_("conscientiousness"), default=0.5, validators=_unit_interval())
    extraversion = models.FloatField(_("extraversion"), default=0.5, validators=_unit_interval())
    agreeableness = models.FloatField(_("agreeableness"), default=0.5, validators=_unit_interval())
    neuroticism = models.FloatField(_("neuroticism"), default=0.5, validators=_unit_interval())
    power_distance = models.FloatField(_("power distance"), default=0.5, validators=_unit_interval())
    individualism = models.FloatField(_("individualism"), default=0.5, validators=_unit_interval())
    masculinity = models.FloatField(_("masculinity"), default=0.5, validators=_unit_interval())
    uncertainty_avoidance = models.FloatField(_("uncertainty avoidance"), default=0.5, validators=_unit_interval())
    long_term_orientation = models.FloatField(_("long-term orientation"), default=0.5, validators=_unit_interval())
    indulgence = models.FloatField(_("indulgence"), default=0.5, validators=_unit_interval())

    full_name = models.CharField(_("full name"), max_length=200, validators=[no_nul])
    title = models.CharField(_("title"), max_length=200, blank=True, validators=[no_nul])
    headline = models.CharField(_("headline"), max_length=300, blank=True, validators=[no_nul])
    background_story = models.TextField(_("background story"), blank=True, validators=[no_nul])
    values = models.JSONField(_("values"), default=list, blank=True)
    interests = models.JSONField(_("interests"), default=list, blank=True)
    occupation = models.CharField(_("occupation"), max_length=200, blank=True, validators=[no_nul])
    communication_style = models.TextField(_("communication style"), blank=True, validators=[no_nul])
    decision_style = models.TextField(_("decision style"), blank=True, validators=[no_nul])
    concerns = models.JSONField(_("concerns"), default=list, blank=True)
    needs = models.JSONField(
        _("needs and pains"),
        null=True,
        blank=True,
        help_text=_("Jobs to be done, desired outcomes and pain points; empty until generated."),
    )

    rag_context_used = models.BooleanField(_("knowledge base used"), default=False)
    # Pochodzenie: fragmenty podane modelowi i migawki przyjętych cytatów (przetrwają usunięcie dokumentu).
    supplied_chunk_ids = models.JSONField(_("passages given to the model"), default=list, blank=True)
    sources = models.JSONField(_("sources"), default=list, blank=True)
    rejected_sources = models.PositiveSmallIntegerField(_("rejected citations"), default=0)
    prompt_hash = models.CharField(_("prompt hash"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    objects = PersonaQuerySet.as_manager()

    class Meta:
        ordering = ("created_at", "index")
        constraints = (
            models.UniqueConstraint(fields=("run", "index"), name="persona_unique_run_index"),
            models.CheckConstraint(
                condition=models.Q(**{f"{trait}__range": (0.0, 1.0) for trait in TRAITS}),
                name="persona_traits_in_unit_interval",
            ),
        )
        indexes = (
            # Lista panelu: filtr projektu i nieusuniętych, porządek (created_at, index) wprost z indeksu (bez
            # sortowania na dalekich stronach).
            models.Index(
                fields=("project", "deleted_at", "created_at", "index"),
                include=("id",),
                name="persona_project_live_order_idx",
            ),
            models.Index(fields=("project", "gender"), name="persona_project_gender_idx"),
            models.Index(fields=("project", "age"), name="persona_project_age_idx"),
            models.Index(fields=("project", "location"), name="persona_project_location_idx"),
            models.Index(fields=("project", "occupation"), name="persona_project_occupation_idx"),
            # Wyszukiwanie `icontains` w Django to UPPER(kolumna) LIKE UPPER(%s): indeks trigramowy na tym samym
            # wyrażeniu.
            GinIndex(OpClass(Upper("full_name"), name="gin_trgm_ops"), name="persona_full_name_trgm"),
            GinIndex(OpClass(Upper("occupation"), name="gin_trgm_ops"), name="persona_occupation_trgm"),
        )
        verbose_name = _("persona")
        verbose_name_plural = _("personas")

    def __str__(self) -> str:
        return self.full_name or f"#{self.index}"

    @property
    def is_deleted(self) -> bool:
        """Czy persona jest usunięta (miękko)."""
        return self.deleted_at is not None

    @classmethod
    def trait_label(cls, trait: str) -> str:
        """Nazwa cechy w bieżącym języku, małą literą (verbose_name pola)."""
        return str(cls._meta.get_field(trait).verbose_name)

    @property
    def traits(self) -> dict[str, float]:
        """Wszystkie 11 cech: Big Five, potem Hofstede."""
        return {trait: getattr(self, trait) for trait in TRAITS}

    @property
    def big_five(self) -> dict[str, float]:
        """Cechy Big Five."""
        return {trait: getattr(self, trait) for trait in BIG_FIVE}

    @property
    def hofstede(self) -> dict[str, float]:
        """Wymiary kulturowe Hofstede."""
        return {trait: getattr(self, trait) for trait in HOFSTEDE}

    def prompt_profile(self, language: str | None = None) -> str:
        """Zwięzły profil persony do promptów rozmowy i ankiet; koszyki etykietami w języku badania (projekt, gdy jest
        już wczytany, inaczej bieżący język), nigdy kluczami danych.
        """
        if language is None and Persona.project.is_cached(self):
            language = self.project.language
        age = f"{self.age}" if self.age else ""
        place = bucket_label("location", self.location, language=language)
        facts = ", ".join(
            v for v in [age, bucket_label("gender", self.gender, language=language), self.occupation, place] if v
        )
        return "\n".join(
            x
            for x in [
                f"{self.full_name} ({facts})",
                self.headline,
                f"Values: {', '.join(self.values)}",
                f"Communication style: {self.communication_style}",
                f"Decision style: {self.decision_style}",
                f"Concerns: {', '.join(self.concerns)}",
                self.background_story[:1500],
            ]
            if x
        )

    def soft_delete(self, *, at: datetime | None = None) -> None:
        """Usuwa personę miękko (znika z list i walidacji, da się przywrócić)."""
        if self.deleted_at is None:
            self.deleted_at = at or timezone.now()
            self.save(update_fields=["deleted_at", "updated_at"])

    def restore(self) -> None:
        """Przywraca miękko usuniętą personę."""
        if self.deleted_at is not None:
            self.deleted_at = None
            self.save(update_fields=["deleted_at", "updated_at"])


def get_persona_for_user(
    user: User | AnonymousUser, persona_id: uuid.UUID | str, *, include_deleted: bool = False
) -> Persona:
    """Jedyna droga do persony z widoków, API i konsumentów; cudza (lub usunięta, chyba że include_deleted) to 404."""
    personas = Persona.objects.for_user(user).select_related("project", "segment")
    return get_object_or_404(personas if include_deleted else personas.active(), pk=persona_id)
