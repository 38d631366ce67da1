"""Modele rdzenia: użytkownik, projekt badawczy, token API, zadanie w tle i wywołanie LLM."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sight.demographics import validate_target_demographics
from sight.text import no_nul

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class UserManager(BaseUserManager["User"]):
    """Menedżer użytkowników logujących się adresem e-mail."""

    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        """Tworzy zwykłego użytkownika."""
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        """Tworzy administratora (staff + superuser)."""
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """Użytkownik Sight; identyfikowany adresem e-mail."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail"), unique=True)
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=settings.LANGUAGES, default="pl"
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    objects = UserManager()  # type: ignore[misc]

    def __str__(self) -> str:
        return self.email


class Language(models.TextChoices):
    """Język projektu: treści generowane przez LLM powstają w tym języku."""

    PL = "pl", _("Polish")
    EN = "en", _("English")


class ProjectQuerySet(models.QuerySet["Project"]):
    """Zapytania o projekty."""

    def for_user(self, user: User | AnonymousUser) -> ProjectQuerySet:
        """Projekty, które użytkownik może zobaczyć (na razie: własne)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)


class Project(models.Model):
    """Projekt badawczy: rynek docelowy, jego rozkład demograficzny, liczebność i budżet."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="projects", verbose_name=_("owner")
    )
    name = models.CharField(_("name"), max_length=255, validators=[no_nul])
    description = models.TextField(_("description"), max_length=2000, blank=True, validators=[no_nul])
    target_audience = models.TextField(_("target audience"), max_length=2000, blank=True, validators=[no_nul])
    research_objectives = models.TextField(_("research objectives"), max_length=4000, blank=True, validators=[no_nul])
    notes = models.TextField(_("notes"), max_length=4000, blank=True, validators=[no_nul])
    language = models.CharField(_("language"), max_length=2, choices=Language.choices, default=Language.PL)
    target_demographics = models.JSONField(
        _("target demographics"), default=dict, validators=[validate_target_demographics]
    )
    target_sample_size = models.PositiveIntegerField(
        _("target sample size"), default=20, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    token_budget = models.PositiveBigIntegerField(
        _("token budget"),
        null=True,
        blank=True,
        help_text=_("Maximum LLM tokens (in + out) this project may spend; empty means no limit."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ("-updated_at",)
        indexes = (models.Index(fields=("owner", "-updated_at")),)
        verbose_name = _("project")
        verbose_name_plural = _("projects")

    def __str__(self) -> str:
        return self.name

    @property
    def language_name(self) -> str:
        """Nazwa języka projektu w tym języku (do promptów: „pisz po …”)."""
        return {"pl": "polski", "en": "English"}.get(self.language, self.language)

    def tokens_used(self) -> int:
        """Suma tokenów (wejście + wyjście) zużytych przez wywołania LLM tego projektu."""
        agg = self.llm_calls.aggregate(total=models.Sum(models.F("input_tokens") + models.F("output_tokens")))
        return int(agg["total"] or 0)

    def budget_left(self) -> int | None:
        """Ile tokenów zostało w budżecie; None, gdy projekt nie ma limitu."""
        if self.token_budget is None:
            return None
        return max(0, self.token_budget - self.tokens_used())


def get_project_for_user(user: User | AnonymousUser, project_id: uuid.UUID | str) -> Project:
    """Jedyna droga do projektu z widoków, API i konsumentów; cudzy projekt to 404."""
    return get_object_or_404(Project.objects.for_user(user), pk=project_id)


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    """Zapytania o tokeny API."""

    def for_user(self, user: User | AnonymousUser) -> ApiTokenQuerySet:
        """Tokeny należące do użytkownika."""
        return self.filter(user=user) if user.is_authenticated else self.none()

    def active(self) -> ApiTokenQuerySet:
        """Tokeny nieodwołane."""
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """Token API (Bearer); przechowywany jako skrót SHA-256, pokazywany tylko raz przy utworzeniu."""

    PREFIX = "sight_"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100, validators=[no_nul])
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw: str) -> str:
        """Skrót tokenu zapisywany w bazie."""
        return hashlib.sha256(raw.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user: User, name: str) -> tuple[ApiToken, str]:
        """Tworzy token; zwraca wiersz i jawny token (jedyny raz, kiedy jest znany)."""
        raw = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, prefix=raw[:12], token_hash=cls.hash(raw))
        return token, raw

    @classmethod
    def authenticate(cls, raw: str) -> User | None:
        """Użytkownik tokenu albo None (token nieznany, odwołany, konto nieaktywne)."""
        if not raw.startswith(cls.PREFIX) or len(raw) > 100:
            return None
        token = cls.objects.active().select_related("user").filter(token_hash=cls.hash(raw)).first()
        if token is None or not token.user.is_active:
            return None
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            cls.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user

    def revoke(self) -> None:
        """Odwołuje token (nieodwracalnie)."""
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class JobQuerySet(models.QuerySet["Job"]):
    """Zapytania o zadania w tle."""

    def for_user(self, user: User | AnonymousUser) -> JobQuerySet:
        """Zadania użytkownika."""
        return self.filter(user=user) if user.is_authenticated else self.none()

    def active(self) -> JobQuerySet:
        """Zadania w kolejce albo w toku."""
        return self.filter(status__in=(Job.Status.QUEUED, Job.Status.RUNNING))

    def stale(self, *, now: Any = None) -> JobQuerySet:
        """Aktywne zadania, których heartbeat (albo utworzenie) jest starsze niż próg."""
        limit = (now or timezone.now()) - timedelta(seconds=settings.SIGHT_JOB_STALE_SECONDS)
        return self.active().filter(
            models.Q(heartbeat_at__lt=limit) | models.Q(heartbeat_at__isnull=True, created_at__lt=limit)
        )


class Job(models.Model):
    """Długa operacja w workerze RQ; status i postęp żyją w PostgreSQL (widoczne w UI i API)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    FINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.CANCELLED})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=64)
    queue = models.CharField(_("queue"), max_length=16, default="default")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="jobs",
        null=True,
        blank=True,
        verbose_name=_("user"),
    )
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="jobs", null=True, blank=True, verbose_name=_("project")
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    progress_done = models.PositiveIntegerField(_("done"), default=0)
    progress_total = models.PositiveIntegerField(_("total"), default=0)
    message = models.CharField(
        _("message"),
        max_length=500,
        blank=True,
        help_text=_("English message id (translated when shown) or plain text such as a persona's name."),
    )
    message_params = models.JSONField(_("message parameters"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    rq_id = models.CharField(_("RQ job id"), max_length=64, blank=True, editable=False)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    heartbeat_at = models.DateTimeField(_("heartbeat"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)
        indexes = (
            models.Index(fields=("status", "heartbeat_at")),
            models.Index(fields=("user", "-created_at")),
            models.Index(fields=("project", "kind", "-created_at")),
        )
        verbose_name = _("job")
        verbose_name_plural = _("jobs")

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"

    @property
    def is_final(self) -> bool:
        """Czy zadanie się zakończyło (sukces, błąd, anulowanie)."""
        return self.status in self.FINAL

    @property
    def percent(self) -> int:
        """Postęp w procentach (0–100)."""
        if self.status == self.Status.SUCCEEDED:
            return 100
        return int(100 * self.progress_done / self.progress_total) if self.progress_total else 0

    @staticmethod
    def render_message(message: str, params: dict[str, Any] | None) -> str:
        """Komunikat postępu w bieżącym języku: msgid tłumaczony przy wyświetleniu, parametry wstawiane potem."""
        if not message:
            return ""
        text = gettext(message)
        if not params:
            return text
        try:
            return text % params
        except (KeyError, TypeError, ValueError):
            return message

    @property
    def duration_seconds(self) -> float | None:
        """Czas pracy zadania: od startu do końca (trwające — do teraz); None, gdy jeszcze nie ruszyło."""
        if self.started_at is None:
            return None
        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()

    def as_dict(self) -> dict[str, Any]:
        """Stan zadania jako JSON (API i websocket); `message` w bieżącym języku, obok msgid i parametry."""
        return {
            "id": str(self.id),
            "kind": self.kind,
            "status": self.status,
            "done": self.progress_done,
            "total": self.progress_total,
            "percent": self.percent,
            "message": self.render_message(self.message, self.message_params),
            "message_id": self.message,
            "message_params": self.message_params,
            "error": self.error,
            "result": self.result,
            "attempts": self.attempts,
            "project_id": str(self.project_id) if self.project_id else None,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }


def get_job_for_user(user: User | AnonymousUser, job_id: uuid.UUID | str) -> Job:
    """Jedyna droga do zadania z widoków, API i konsumentów; cudze zadanie to 404."""
    return get_object_or_404(Job.objects.for_user(user), pk=job_id)


class LLMCall(models.Model):
    """Jedno wywołanie modelu językowego: rola, model, tokeny, koszt, czas, trafienie w cache."""

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(
        Project, on_delete=models.SET_NULL, null=True, blank=True, related_name="llm_calls", verbose_name=_("project")
    )
    job = models.ForeignKey(
        Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="llm_calls", verbose_name=_("job")
    )
    role = models.CharField(_("role"), max_length=64)
    provider = models.CharField(_("provider"), max_length=32)
    model = models.CharField(_("model"), max_length=128)
    input_tokens = models.PositiveIntegerField(_("input tokens"), default=0)
    output_tokens = models.PositiveIntegerField(_("output tokens"), default=0)
    cost_usd = models.DecimalField(_("cost (USD)"), max_digits=12, decimal_places=6, default=Decimal(0))
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    cache_hit = models.BooleanField(_("cache hit"), default=False)
    ok = models.BooleanField(_("succeeded"), default=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = (
            models.Index(fields=("project", "-created_at")),
            models.Index(fields=("role", "-created_at")),
            models.Index(fields=("job",)),
        )
        verbose_name = _("LLM call")
        verbose_name_plural = _("LLM calls")

    def __str__(self) -> str:
        return f"{self.role} · {self.model} · {self.input_tokens}+{self.output_tokens}"
