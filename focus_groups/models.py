"""Grupy fokusowe: konfiguracja, uczestnicy i zdarzenia (źródło prawdy przebiegu dyskusji)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, models, transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sight.models import Project
from sight.text import no_nul

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from sight.models import User


class FocusGroupQuerySet(models.QuerySet["FocusGroup"]):
    """Zapytania o grupy fokusowe."""

    def for_user(self, user: User | AnonymousUser) -> FocusGroupQuerySet:
        """Grupy w projektach, które użytkownik może zobaczyć."""
        return self.filter(project__in=Project.objects.for_user(user))


class FocusGroup(models.Model):
    """Grupa fokusowa: przewodnik dyskusji, uczestnicy, tryb, status i sterowanie badacza."""

    class Mode(models.TextChoices):
        DISCUSSION = "discussion", _("discussion")
        INTERVIEWS = "interviews", _("interviews")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        PAUSED = "paused", _("paused")
        COMPLETED = "completed", _("completed")
        STOPPED = "stopped", _("stopped")
        FAILED = "failed", _("failed")
        BUDGET_EXCEEDED = "budget_exceeded", _("budget exceeded")

    class Control(models.TextChoices):
        NONE = "", _("none")
        PAUSE = "pause", _("pause")
        STOP = "stop", _("stop")

    # Słowa stanu: trwa (worker ją ma), można wznowić, przebieg się skończył (jest `finished_at` i wyniki);
    # zamknięta to skończona bez możliwości wznowienia — nie przyjmie już ani startu, ani wtrącenia.
    ACTIVE = frozenset({Status.QUEUED, Status.RUNNING})
    RESUMABLE = frozenset({Status.PAUSED, Status.FAILED, Status.BUDGET_EXCEEDED})
    FINISHED = frozenset({Status.COMPLETED, Status.STOPPED, Status.FAILED, Status.BUDGET_EXCEEDED})
    CLOSED = FINISHED - RESUMABLE

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="focus_groups", verbose_name=_("project")
    )
    name = models.CharField(_("name"), max_length=255, validators=[no_nul])
    description = models.TextField(_("description"), max_length=4000, blank=True, validators=[no_nul])
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices, default=Mode.DISCUSSION)
    questions = models.JSONField(
        _("discussion guide"), default=list, help_text=_("Ordered questions, each with optional follow-up probes.")
    )
    turns_per_question = models.PositiveSmallIntegerField(_("turns per question"), default=8)
    participants = models.ManyToManyField(
        "personas.Persona", through="Participant", related_name="focus_groups", verbose_name=_("participants")
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    control = models.CharField(_("control"), max_length=8, choices=Control.choices, default=Control.NONE, blank=True)
    job = models.ForeignKey(
        "sight.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("job")
    )
    last_seq = models.PositiveIntegerField(_("last event number"), default=0)
    summary = models.JSONField(_("summary"), null=True, blank=True)
    summary_job = models.ForeignKey(
        "sight.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("summary job")
    )
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = FocusGroupQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)
        indexes = (models.Index(fields=("project", "-created_at")), models.Index(fields=("status",)))
        verbose_name = _("focus group")
        verbose_name_plural = _("focus groups")

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        """Konfigurację można zmieniać tylko przed startem."""
        return self.status == self.Status.PENDING

    @property
    def is_active(self) -> bool:
        """Czy przebieg trwa (w kolejce albo w toku)."""
        return self.status in self.ACTIVE

    @property
    def is_resumable(self) -> bool:
        """Czy wstrzymany albo przerwany przebieg można wznowić."""
        return self.status in self.RESUMABLE

    @property
    def is_finished(self) -> bool:
        """Czy przebieg się skończył (ukończony, zatrzymany, przerwany błędem albo budżetem)."""
        return self.status in self.FINISHED

    @property
    def is_closed(self) -> bool:
        """Czy grupa skończyła się na dobre (ukończona albo zatrzymana): nic więcej się w niej nie wydarzy."""
        return self.status in self.CLOSED

    @property
    def accepts_interjections(self) -> bool:
        """Wtrącenie przyjmujemy, dopóki dyskusja może trwać dalej (w przerwanej moderator zada je po wznowieniu)."""
        return not self.is_closed

    @property
    def group_name(self) -> str:
        """Grupa kanałów, w której worker ogłasza zdarzenia i status tej grupy."""
        return f"focus-group-{self.id}"

    def live_state(self) -> dict[str, Any]:
        """Stan przebiegu w jednym kształcie: fragment `#status` strony, powiadomienie websocketu i JSON dla API."""
        return {
            "id": str(self.id),
            "status": self.status,
            "control": self.control,
            "last_seq": self.last_seq,
            "active": self.is_active,
            "resumable": self.is_resumable,
            "finished": self.is_finished,
        }

    def question_texts(self) -> list[str]:
        """Treść pytań przewodnika w kolejności."""
        return [q["text"] for q in self.questions]

    def append_event(
        self,
        kind: str,
        *,
        key: str,
        payload: dict[str, Any] | None = None,
        persona_id: Any = None,
        question_index: int | None = None,
    ) -> tuple[FocusGroupEvent, bool]:
        """Dopisuje zdarzenie z kolejnym `seq`; ten sam klucz idempotencji zwraca istniejące (bez duplikatu)."""
        existing = self.events.filter(key=key).first()
        if existing is not None:
            return existing, False
        try:
            with transaction.atomic():
                seq = FocusGroup.objects.select_for_update().values_list("last_seq", flat=True).get(pk=self.pk) + 1
                event = FocusGroupEvent.objects.create(
                    focus_group=self,
                    seq=seq,
                    kind=kind,
                    key=key,
                    payload=payload or {},
                    persona_id=persona_id,
                    question_index=question_index,
                )
                FocusGroup.objects.filter(pk=self.pk).update(last_seq=seq)
        except IntegrityError:
            return self.events.get(key=key), False
        self.last_seq = seq
        return event, True

    def set_status(self, status: str, *, error: str = "") -> None:
        """Zmienia status (i czas startu/końca)."""
        self.status, self.error = status, error
        now = timezone.now()
        if status == self.Status.RUNNING and self.started_at is None:
            self.started_at = now
        if status in self.FINISHED:
            self.finished_at = now
        self.save(update_fields=["status", "error", "started_at", "finished_at", "updated_at"])


def get_focus_group_for_user(user: User | AnonymousUser, focus_group_id: uuid.UUID | str) -> FocusGroup:
    """Jedyna droga do grupy fokusowej z widoków, API i konsumentów; cudza grupa to 404."""
    return get_object_or_404(FocusGroup.objects.for_user(user).select_related("project"), pk=focus_group_id)


class Participant(models.Model):
    """Uczestnik grupy (persona) z kolejnością przedstawienia."""

    focus_group = models.ForeignKey(FocusGroup, on_delete=models.CASCADE, related_name="participant_links")
    persona = models.ForeignKey("personas.Persona", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ("position",)
        constraints = (models.UniqueConstraint(fields=("focus_group", "persona"), name="unique_participant"),)

    def __str__(self) -> str:
        return f"{self.focus_group_id}:{self.persona_id}"


class FocusGroupEvent(models.Model):
    """Jedno zdarzenie przebiegu (pytanie, wypowiedź, stanowisko, wtrącenie…) z numerem `seq` w obrębie grupy."""

    class Kind(models.TextChoices):
        STATUS = "status", _("status")
        QUESTION = "question", _("question")
        MODERATOR = "moderator", _("moderator")
        TURN = "turn", _("turn")
        ANSWER = "answer", _("answer")
        STANCE = "stance", _("stance")
        INTERJECTION = "interjection", _("interjection")
        QUESTION_CLOSED = "question_closed", _("question closed")
        ERROR = "error", _("error")

    id = models.BigAutoField(primary_key=True)
    focus_group = models.ForeignKey(FocusGroup, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    key = models.CharField(max_length=120)
    persona = models.ForeignKey("personas.Persona", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    question_index = models.PositiveSmallIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("focus_group", "seq")
        constraints = (
            models.UniqueConstraint(fields=("focus_group", "seq"), name="unique_event_seq"),
            models.UniqueConstraint(fields=("focus_group", "key"), name="unique_event_key"),
        )
        indexes = (models.Index(fields=("focus_group", "kind", "question_index")),)
        verbose_name = _("focus group event")
        verbose_name_plural = _("focus group events")

    def __str__(self) -> str:
        return f"#{self.seq} {self.kind}"

    @property
    def text(self) -> str:
        """Tekst wypowiedzi (albo pusty)."""
        return str(self.payload.get("text", ""))

    def as_dict(self) -> dict[str, Any]:
        """Zdarzenie jako JSON (API i websocket)."""
        return {
            "seq": self.seq,
            "kind": self.kind,
            "persona_id": str(self.persona_id) if self.persona_id else None,
            "question_index": self.question_index,
            "payload": self.payload,
            "created_at": self.created_at.isoformat(),
        }
