"""Panel administracyjny rdzenia: użytkownicy, projekty, tokeny, zadania, wywołania LLM."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from sight import jobs
from sight.models import ApiToken, Job, LLMCall, Project, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Użytkownicy logujący się e-mailem."""

    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "date_joined", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "preferred_language")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "preferred_language")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """Projekty badawcze."""

    list_display = ("name", "owner", "language", "target_sample_size", "token_budget", "updated_at")
    list_filter = ("language", "created_at")
    search_fields = ("name", "description", "owner__email")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = ("id", "created_at", "updated_at")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokeny API: tworzenie pokazuje jawny token raz, w komunikacie."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at", "created_at")
    search_fields = ("name", "prefix", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    fields = ("user", "name", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "created_at", "last_used_at", "revoked_at")
    actions = ("revoke",)

    def save_model(self, request: HttpRequest, obj: ApiToken, form: object, change: bool) -> None:
        """Nowy token: wystawia go i pokazuje jawną wartość jeden raz."""
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = ApiToken.issue(user=obj.user, name=obj.name)
        obj.pk, obj.prefix, obj.token_hash, obj.created_at = token.pk, token.prefix, token.token_hash, token.created_at
        self.message_user(
            request, _("Token created. Copy it now, it will not be shown again: %(token)s") % {"token": raw}
        )

    @admin.action(description=_("Revoke selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        """Odwołuje zaznaczone tokeny."""
        for token in queryset:
            token.revoke()


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    """Zadania w tle: status, postęp, błędy; anulowanie z listy."""

    list_display = (
        "kind",
        "status",
        "progress_done",
        "progress_total",
        "attempts",
        "user",
        "project",
        "created_at",
        "heartbeat_at",
    )
    list_filter = ("status", "kind", "queue", "created_at")
    search_fields = ("id", "kind", "message", "error", "user__email", "project__name")
    list_select_related = ("user", "project")
    raw_id_fields = ("user", "project")
    readonly_fields = [f.name for f in Job._meta.fields]
    actions = ("cancel",)

    @admin.action(description=_("Cancel selected jobs"))
    def cancel(self, request: HttpRequest, queryset: QuerySet[Job]) -> None:
        """Anuluje zaznaczone zadania."""
        for job in queryset:
            jobs.cancel(job)


@admin.register(LLMCall)
class LLMCallAdmin(admin.ModelAdmin):
    """Wywołania LLM: zużycie tokenów i koszt."""

    list_display = (
        "created_at",
        "role",
        "provider",
        "model",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "latency_ms",
        "cache_hit",
        "ok",
        "project",
    )
    list_filter = ("role", "provider", "model", "cache_hit", "ok", "created_at")
    search_fields = ("role", "model", "project__name", "error")
    list_select_related = ("project",)
    readonly_fields = [f.name for f in LLMCall._meta.fields]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Wywołań nie dodaje się ręcznie."""
        return False
