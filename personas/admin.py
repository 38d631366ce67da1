"""Panel administracyjny person: przebiegi generowania, segmenty i persony (z miękkim usuwaniem)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from personas.models import Persona, PersonaRun, Segment


class DeletedFilter(admin.SimpleListFilter):
    """Filtr: persony aktywne albo usunięte miękko."""

    title = _("deleted")
    parameter_name = "deleted"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        """Dwie opcje: tak / nie."""
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Persona]) -> QuerySet[Persona]:
        """Zawęża listę według `deleted_at`."""
        if self.value() == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(deleted_at__isnull=True)
        return queryset


@admin.register(PersonaRun)
class PersonaRunAdmin(admin.ModelAdmin):
    """Przebiegi generowania person."""

    list_display = (
        "id",
        "project",
        "num_requested",
        "status",
        "seed",
        "use_rag",
        "segments_enabled",
        "segment_fallback",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "use_rag", "segments_enabled", "segment_fallback", "created_at")
    search_fields = ("id", "project__name", "project__owner__email")
    list_select_related = ("project",)
    raw_id_fields = ("project", "job")
    readonly_fields = ("id", "created_at")


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    """Segmenty rynku w przebiegach."""

    list_display = ("name", "project", "run", "index", "created_at")
    search_fields = ("name", "project__name")
    list_select_related = ("project", "run")
    raw_id_fields = ("project", "run")
    readonly_fields = ("id", "created_at")


@admin.register(Persona)
class PersonaAdmin(admin.ModelAdmin):
    """Persony: filtry listy, wyszukiwanie po nazwisku i zawodzie, miękkie usuwanie i przywracanie."""

    list_display = (
        "full_name",
        "project",
        "age",
        "gender",
        "occupation",
        "segment",
        "index",
        "created_at",
        "deleted_at",
    )
    list_filter = (
        "gender",
        ("segment", admin.RelatedOnlyFieldListFilter),
        DeletedFilter,
        ("project", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("full_name", "occupation")
    list_select_related = ("project", "segment")
    raw_id_fields = ("project", "run", "segment")
    readonly_fields = ("id", "created_at", "updated_at", "prompt_hash")
    actions = ("soft_delete", "restore")

    @admin.action(description=_("Delete selected personas (can be restored)"))
    def soft_delete(self, request: HttpRequest, queryset: QuerySet[Persona]) -> None:
        """Usuwa zaznaczone persony miękko."""
        count = queryset.filter(deleted_at__isnull=True).update(deleted_at=timezone.now(), updated_at=timezone.now())
        self.message_user(request, _("%(count)d personas deleted.") % {"count": count})

    @admin.action(description=_("Restore selected personas"))
    def restore(self, request: HttpRequest, queryset: QuerySet[Persona]) -> None:
        """Przywraca zaznaczone persony."""
        count = queryset.filter(deleted_at__isnull=False).update(deleted_at=None, updated_at=timezone.now())
        self.message_user(request, _("%(count)d personas restored.") % {"count": count})
