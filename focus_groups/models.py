"""Grupy fokusowe: konfiguracja, uczestnicy i zdarzenia (źródło prawdy przebiegu dyskusji)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, models, transaction
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

    class InterviewContext(models.TextChoices):
        INDEPENDENT = "independent", _("independent answers")
        EARLIER_ANSWERS = "earlier_answers", _("each answer sees the persona's earlier answers")

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
    interview_context = models.CharField(
        _("interview answers"),
        max_length=16,
        choices=InterviewContext.choices,
        default=InterviewContext.INDEPENDENT,
        help_text=_("Interviews only: whether answers see the persona's earlier answers (then asked in order)."),
    )
    use_knowledge = models.BooleanField(
        _("participants know the project's documents"),
        default=False,
        help_text=_("Each turn receives passages from the project's knowledge base and can cite them as sources."),
    )
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

    def propositions(self) -> list[str]:
        """Teza każdego pytania („Kaucja 5 zł za kubek jest uczciwa”) albo pusty tekst: stanowiska (za, neutralnie,
        przeciw) mają sens tylko wobec tezy, więc pytanie bez niej — także w danych sprzed tez — nie ma stanowisk.
        """
        return [str(q.get("proposition") or "") for q in self.questions]

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
        item = {
            "kind": kind,
            "key": key,
            "payload": payload,
            "persona_id": persona_id,
            "question_index": question_index,
        }
        return self.append_events([item])[0]

    def append_events(self, items: list[dict[str, Any]]) -> list[tuple[FocusGroupEvent, bool]]:
        """Dopisuje zdarzenia partią (pola jak w `append_event`), w kolejności: jedno UPDATE … RETURNING rezerwuje
        kolejne numery i blokuje wiersz grupy, jedno INSERT zapisuje wszystkie. Gdy któryś klucz już jest, wycofanie
        przywraca last_seq, a zdarzenia idą po jednym (istniejące wracają bez duplikatu).
        """
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(
                        "UPDATE focus_groups_focusgroup SET last_seq = last_seq + %s WHERE id = %s RETURNING last_seq",
                        [len(items), self.pk],
                    )
                    last = cursor.fetchone()[0]
                first = last - len(items) + 1
                events = FocusGroupEvent.objects.bulk_create(
                    FocusGroupEvent(
                        focus_group=self,
                        seq=first + i,
                        kind=item["kind"],
                        key=item["key"],
                        payload=item.get("payload") or {},
                        persona_id=item.get("persona_id"),
                        question_index=item.get("question_index"),
                    )
                    for i, item in enumerate(items)
                )
        except IntegrityError:
            if len(items) == 1:
                return [(self.events.get(key=items[0]["key"]), False)]
            return [self.append_events([item])[0] for item in items]
        self.last_seq = last
        return [(event, True) for event in events]

    def set_status(self, status: str, *, error: str = "", also: tuple[str, ...] = ()) -> None:
        """Zmienia status (i czas startu/końca); `also`: inne zmienione pola zapisywane tym samym UPDATE."""
        self.status, self.error = status, error
        now = timezone.now()
        if status == self.Status.RUNNING and self.started_at is None:
            self.started_at = now
        if status in self.FINISHED:
            self.finished_at = now
        self.save(update_fields=["status", "error", "started_at", "finished_at", "updated_at", *also])


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


# --- pojęcia z dyskusji (ekstrakcja po przebiegu; graf pojęć jest z nich odbudowywany) -----------------------------


class Concept(models.Model):
    """Pojęcie w projekcie: kanoniczny klucz (lemat-ish) i nazwa; warianty i bliskie synonimy wskazują jeden wiersz."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="concepts")
    key = models.CharField(max_length=200)
    name = models.CharField(max_length=200)
    embedding = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("name",)
        constraints = (models.UniqueConstraint(fields=("project", "key"), name="unique_concept_key"),)
        verbose_name = _("concept")
        verbose_name_plural = _("concepts")

    def __str__(self) -> str:
        return self.name


class ConceptAlias(models.Model):
    """Klucz wariantu („ceny”, „wysokie ceny”) przypisany pojęciu kanonicznemu (po lematyzacji lub podobieństwie)."""

    concept = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="aliases")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)

    class Meta:
        constraints = (models.UniqueConstraint(fields=("project", "key"), name="unique_concept_alias"),)

    def __str__(self) -> str:
        return self.key


class TurnExtraction(models.Model):
    """Wynik ekstrakcji jednej wypowiedzi: zrobiona albo pominięta z powodem (ponowny przebieg jej nie powtarza)."""

    class Status(models.TextChoices):
        DONE = "done", _("done")
        SKIPPED = "skipped", _("skipped")

    event = models.OneToOneField(FocusGroupEvent, on_delete=models.CASCADE, related_name="extraction")
    focus_group = models.ForeignKey(FocusGroup, on_delete=models.CASCADE, related_name="turn_extractions")
    status = models.CharField(max_length=10, choices=Status.choices)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.event_id}:{self.status}"


class ConceptMention(models.Model):
    """Jedna wzmianka: wypowiedź, pojęcie, nastawienie mówiącego (−1..1) i cytat sprawdzony jako fragment wypowiedzi."""

    event = models.ForeignKey(FocusGroupEvent, on_delete=models.CASCADE, related_name="concept_mentions")
    concept = models.ForeignKey(Concept, on_delete=models.CASCADE, related_name="mentions")
    focus_group = models.ForeignKey(FocusGroup, on_delete=models.CASCADE, related_name="concept_mentions")
    stance = models.FloatField()
    quote = models.TextField()

    class Meta:
        ordering = ("event_id", "id")
        constraints = (models.UniqueConstraint(fields=("event", "concept"), name="unique_mention_per_turn"),)

    def __str__(self) -> str:
        return f"{self.event_id}:{self.concept_id}"


class TurnRelation(models.Model):
    """Wypowiedź odpowiada na wcześniejszą: zgoda, niezgoda albo rozwinięcie (numery sprawdzone względem pytania)."""

    class Relation(models.TextChoices):
        AGREE = "agree", _("agrees")
        DISAGREE = "disagree", _("disagrees")
        BUILDS_ON = "builds_on", _("builds on")

    event = models.ForeignKey(FocusGroupEvent, on_delete=models.CASCADE, related_name="relations")
    target = models.ForeignKey(FocusGroupEvent, on_delete=models.CASCADE, related_name="+")
    focus_group = models.ForeignKey(FocusGroup, on_delete=models.CASCADE, related_name="turn_relations")
    relation = models.CharField(max_length=10, choices=Relation.choices)

    class Meta:
        ordering = ("event_id", "target_id")
        constraints = (models.UniqueConstraint(fields=("event", "target"), name="unique_turn_relation"),)

    def __str__(self) -> str:
        return f"{self.event_id}-{self.relation}->{self.target_id}"


class TurnEmotion(models.Model):
    """Emocja wypowiedzi z ustalonej dwujęzycznej listy (`features.yaml` → `concepts.emotions`)."""

    event = models.ForeignKey(FocusGroupEvent, on_delete=models.CASCADE, related_name="emotions")
    focus_group = models.ForeignKey(FocusGroup, on_delete=models.CASCADE, related_name="turn_emotions")
    emotion = models.CharField(max_length=40)

    class Meta:
        ordering = ("event_id", "emotion")
        constraints = (models.UniqueConstraint(fields=("event", "emotion"), name="unique_turn_emotion"),)

    def __str__(self) -> str:
        return f"{self.event_id}:{self.emotion}"
