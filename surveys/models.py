"""Ankiety: kwestionariusz (pytania z opcjami, regułami pomijania i wstawianiem odpowiedzi), respondenci, odpowiedzi."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db import models
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sight.models import Language, Project
from sight.text import no_nul

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from sight.models import User


class SurveyQuerySet(models.QuerySet["Survey"]):
    """Zapytania o ankiety."""

    def for_user(self, user: User | AnonymousUser) -> SurveyQuerySet:
        """Ankiety w projektach użytkownika (dostęp jak do projektu)."""
        return self.filter(project__in=Project.objects.for_user(user))


# Konstrukty skal ocen (klucze z `builder.Construct`) jako etykiety dla ekranów.
CONSTRUCT_LABELS = {
    "agreement": _("agreement"),
    "likelihood": _("likelihood"),
    "purchase_intent": _("purchase intent"),
    "satisfaction": _("satisfaction"),
    "importance": _("importance"),
}


class Survey(models.Model):
    """Ankieta projektu: pytania w kolejności, specyfikacja respondentów, ziarno i stan badania."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        FIELDING = "fielding", _("fielding")
        COMPLETED = "completed", _("completed")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="surveys", verbose_name=_("project"))
    name = models.CharField(_("name"), max_length=255, validators=[no_nul])
    description = models.TextField(_("description"), max_length=4000, blank=True, validators=[no_nul])
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.PL)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    seed = models.BigIntegerField(_("seed"), default=42)
    use_knowledge = models.BooleanField(
        _("respondents know the project's documents"),
        default=False,
        help_text=_("Each question receives passages from the project's knowledge base; answers show their sources."),
    )
    respondents_spec = models.JSONField(
        _("respondents"), default=dict, blank=True, help_text=_("Whole panel, a segment, filters, or N matching.")
    )
    job = models.ForeignKey(
        "sight.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("job")
    )
    validity = models.JSONField(_("validity"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)
        indexes = (models.Index(fields=("project", "-created_at")), models.Index(fields=("status",)))
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")

    def __str__(self) -> str:
        return self.name

    @property
    def ladder_checks(self) -> list[dict[str, Any]]:
        """Bramki drabiny z karty trafności z etykietą konstruktu w języku widza (nie kluczem)."""
        return [
            {**check, "construct_label": CONSTRUCT_LABELS.get(check["construct"], check["construct"])}
            for check in (self.validity or {}).get("ladder", [])
        ]

    @property
    def is_editable(self) -> bool:
        """Kwestionariusz można zmieniać tylko w szkicu; wystawioną ankietę się kopiuje."""
        return self.status == self.Status.DRAFT

    @property
    def is_active(self) -> bool:
        """Czy badanie trwa."""
        return self.status == self.Status.FIELDING

    def set_status(self, status: str, *, error: str = "") -> None:
        """Zmienia status (i czas startu/końca)."""
        self.status, self.error = status, error
        now = timezone.now()
        if status == self.Status.FIELDING and self.started_at is None:
            self.started_at = now
        if status in (self.Status.COMPLETED, self.Status.FAILED):
            self.finished_at = now
        self.save(update_fields=["status", "error", "started_at", "finished_at", "updated_at"])


def get_survey_for_user(user: User | AnonymousUser, survey_id: uuid.UUID | str) -> Survey:
    """Jedyna droga do ankiety z widoków i API; cudza ankieta to 404."""
    return get_object_or_404(Survey.objects.for_user(user).select_related("project"), pk=survey_id)


class Question(models.Model):
    """Pytanie ankiety: typ, treść, opcje ze stałymi identyfikatorami, ustawienia typu i reguła pomijania."""

    class Type(models.TextChoices):
        SINGLE_CHOICE = "single_choice", _("single choice")
        MULTIPLE_CHOICE = "multiple_choice", _("multiple choice")
        RATING = "rating", _("rating scale")
        NPS = "nps", _("NPS 0–10")
        NUMERIC = "numeric", _("numeric")
        RANKING = "ranking", _("ranking")
        OPEN_TEXT = "open_text", _("open text")

    class Method(models.TextChoices):
        SSR = "ssr", _("semantic similarity rating")
        DIRECT = "direct", _("direct pick")

    WITH_OPTIONS = frozenset({Type.SINGLE_CHOICE, Type.MULTIPLE_CHOICE, Type.RANKING})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions", verbose_name=_("survey"))
    order = models.PositiveSmallIntegerField(_("order"))
    type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    text = models.TextField(_("text"), max_length=2000, validators=[no_nul])
    help_text = models.TextField(_("help text"), max_length=2000, blank=True, validators=[no_nul])
    required = models.BooleanField(_("required"), default=True)
    options = models.JSONField(_("options"), default=list, blank=True, help_text=_("[{id, label}] in display order."))
    settings = models.JSONField(
        _("settings"), default=dict, blank=True, help_text=_("Per type: picks, scale, construct, method, range, unit.")
    )
    show_if = models.JSONField(
        _("skip rule"), default=dict, blank=True, help_text=_("Show only if an earlier answer matches.")
    )
    themes = models.JSONField(
        _("themes"), default=dict, blank=True, help_text=_("Open text: themes coded by the LLM with verified quotes.")
    )

    class Meta:
        ordering = ("survey", "order")
        constraints = (models.UniqueConstraint(fields=("survey", "order"), name="unique_question_order"),)
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self) -> str:
        return f"Q{self.order + 1}: {self.text[:60]}"

    @property
    def number(self) -> int:
        """Numer pytania dla ludzi (od 1)."""
        return self.order + 1

    @property
    def method(self) -> str:
        """Metoda odpowiedzi: SSR tylko dla skal z wybraną metodą ssr, reszta to wybór wprost."""
        if self.type == self.Type.RATING:
            return self.settings.get("method", self.Method.SSR)
        return self.Method.DIRECT

    @property
    def points(self) -> int:
        """Liczba punktów skali (ocena) albo 11 (NPS)."""
        return 11 if self.type == self.Type.NPS else int(self.settings.get("points", 5))

    def option_labels(self) -> dict[str, str]:
        """Identyfikator opcji → etykieta."""
        return {o["id"]: o["label"] for o in self.options}

    def as_dict(self) -> dict[str, Any]:
        """Pytanie jako JSON (API i kopia ankiety)."""
        return {
            "id": str(self.id),
            "order": self.order,
            "type": self.type,
            "text": self.text,
            "help_text": self.help_text,
            "required": self.required,
            "options": self.options,
            "settings": self.settings,
            "show_if": self.show_if,
        }


class Respondent(models.Model):
    """Persona wylosowana do ankiety (lista ustalana raz przy starcie, więc wznowienie pyta te same osoby)."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="respondents")
    persona = models.ForeignKey("personas.Persona", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ("survey", "position")
        constraints = (models.UniqueConstraint(fields=("survey", "persona"), name="unique_survey_respondent"),)

    def __str__(self) -> str:
        return f"{self.survey_id}:{self.persona_id}"


class Answer(models.Model):
    """Odpowiedź persony na pytanie: wartość, tekst, rozkład SSR albo nieudana odpowiedź z powodem (bez domyślnej)."""

    id = models.BigAutoField(primary_key=True)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    persona = models.ForeignKey("personas.Persona", on_delete=models.CASCADE, related_name="+")
    value = models.JSONField(_("value"), null=True, blank=True)
    text = models.TextField(_("text"), blank=True)
    intent = models.TextField(_("intent sentence"), blank=True)
    pmf = models.JSONField(_("probability mass"), null=True, blank=True)
    expected_value = models.FloatField(_("expected value"), null=True, blank=True)
    draw = models.SmallIntegerField(_("seeded draw"), null=True, blank=True)
    method = models.CharField(_("method"), max_length=8, choices=Question.Method.choices)
    embedding_model = models.CharField(_("embedding model"), max_length=120, blank=True)
    anchors_version = models.CharField(_("anchors version"), max_length=64, blank=True)
    failed = models.BooleanField(_("failed"), default=False)
    reason = models.TextField(_("failure reason"), blank=True)
    # Pochodzenie: fragmenty podane modelowi i migawki przyjętych cytatów (przetrwają usunięcie dokumentu).
    supplied_chunk_ids = models.JSONField(_("passages given to the model"), default=list, blank=True)
    sources = models.JSONField(_("sources"), default=list, blank=True)
    rejected_sources = models.PositiveSmallIntegerField(_("rejected citations"), default=0)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ("survey", "question__order", "id")
        constraints = (models.UniqueConstraint(fields=("survey", "persona", "question"), name="unique_survey_answer"),)
        # Unikalność (ankieta, persona, pytanie) służy też filtrom po personie; wyniki czytają po pytaniu.
        indexes = (models.Index(fields=("survey", "question", "failed")),)
        verbose_name = _("answer")
        verbose_name_plural = _("answers")

    def __str__(self) -> str:
        return f"{self.question_id}:{self.persona_id}"


class HumanSampleQuerySet(models.QuerySet["HumanSample"]):
    """Zapytania o próby ludzkie."""

    def for_user(self, user: User | AnonymousUser) -> HumanSampleQuerySet:
        """Próby w ankietach projektów użytkownika."""
        return self.filter(survey__in=Survey.objects.for_user(user))


class HumanSample(models.Model):
    """Odpowiedzi prawdziwych ludzi na tę samą ankietę (z pliku CSV, XLSX albo .sav) i ich przypisanie do pytań.

    `columns`: `[{name, label, value_labels, values: [{code, label, count}], distinct, numeric}]`; `data`: wartości
    kolumna po kolumnie (tekst kanoniczny albo null); `mapping`: `{questions: [{question, column, values}], segment}`.
    """

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"
        SAV = "sav", "SPSS .sav"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("uploaded")
        MAPPED = "mapped", _("mapped")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="human_samples", verbose_name=_("survey"))
    filename = models.CharField(_("file name"), max_length=300, validators=[no_nul])
    file_format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    size = models.PositiveIntegerField(_("size"), default=0)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    columns = models.JSONField(_("columns"), default=list, blank=True)
    data = models.JSONField(_("data"), default=list, blank=True)
    mapping = models.JSONField(_("mapping"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.UPLOADED)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = HumanSampleQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)
        indexes = (models.Index(fields=("survey", "-created_at")),)
        verbose_name = _("human sample")
        verbose_name_plural = _("human samples")

    def __str__(self) -> str:
        return self.filename

    def column(self, name: str) -> dict[str, Any] | None:
        """Opis kolumny po nazwie."""
        return next((c for c in self.columns if c["name"] == name), None)

    def column_values(self, names: list[str]) -> dict[str, list[str | None]]:
        """Wartości wskazanych kolumn (wiersz po wierszu); gdy `data` jest odroczone — jednym zapytaniem tylko o nie.

        Plik może mieć 300 kolumn po 20 000 wierszy: porównanie czyta z bazy tylko przypisane kolumny.
        """
        index = {c["name"]: i for i, c in enumerate(self.columns)}
        wanted = list(dict.fromkeys(n for n in names if n in index))
        if not wanted:
            return {}
        if "data" not in self.get_deferred_fields():
            return {n: self.data[index[n]] for n in wanted}
        row = HumanSample.objects.filter(pk=self.pk).values_list(*(f"data__{index[n]}" for n in wanted)).get()
        return {n: list(values or []) for n, values in zip(wanted, row, strict=True)}


def get_human_sample_for_user(
    user: User | AnonymousUser, survey_id: uuid.UUID | str, sample_id: uuid.UUID | str
) -> HumanSample:
    """Próba ludzka ankiety użytkownika; cudza ankieta albo próba innej ankiety to 404."""
    queryset = HumanSample.objects.for_user(user).select_related("survey__project").defer("data")
    return get_object_or_404(queryset, pk=sample_id, survey_id=survey_id)
