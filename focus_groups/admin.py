"""Panel administracyjny grup fokusowych: lista z filtrami, uczestnicy i zdarzenia (tylko do odczytu)."""

from __future__ import annotations

from typing import Any

import pydantic
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from focus_groups.models import FocusGroup, FocusGroupEvent, Participant
from focus_groups.setup import GuideQuestionIn


class FocusGroupAdminForm(forms.ModelForm):
    """Przewodnik jako JSON, sprawdzony tym samym schematem co w API (tekst, sondy, opcjonalna teza)."""

    class Meta:
        model = FocusGroup
        fields = "__all__"  # noqa: DJ007 - pola wybiera ModelAdmin, formularz dokłada tylko walidację przewodnika
        help_texts = {
            "questions": _(
                'A list of {"text": …, "probes": […], "proposition": …}; an empty proposition means no stances.'
            )
        }

    def clean_questions(self) -> list[dict[str, Any]]:
        """Pytania w pełnej formie (także z tezą); zły kształt, za długi tekst albo NUL to błąd pola."""
        value = self.cleaned_data["questions"]
        if not isinstance(value, list):
            raise ValidationError(_("The guide must be a list of questions."))
        try:
            items = [GuideQuestionIn.model_validate({"text": q} if isinstance(q, str) else q) for q in value]
        except pydantic.ValidationError as exc:
            errors = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ValidationError(errors) from exc
        return [q.as_stored() for q in items]


class ParticipantInline(admin.TabularInline):
    """Uczestnicy w kolejności."""

    model = Participant
    extra = 0
    raw_id_fields = ("persona",)


class EventInline(admin.TabularInline):
    """Zdarzenia przebiegu: źródło prawdy, więc tylko do odczytu."""

    model = FocusGroupEvent
    extra = 0
    can_delete = False
    fields = ("seq", "kind", "question_index", "persona", "payload", "created_at")
    readonly_fields = fields
    ordering = ("seq",)
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: FocusGroup | None = None) -> bool:
        """Zdarzeń nie dopisuje się ręcznie."""
        return False


@admin.register(FocusGroup)
class FocusGroupAdmin(admin.ModelAdmin):
    """Grupy fokusowe."""

    form = FocusGroupAdminForm
    list_display = ("name", "project", "mode", "status", "event_count", "created_at", "finished_at")
    list_filter = ("status", "mode", "created_at")
    search_fields = ("name", "description", "project__name", "project__owner__email")
    list_select_related = ("project",)
    raw_id_fields = ("project", "job", "summary_job")
    readonly_fields = ("id", "last_seq", "created_at", "updated_at", "started_at", "finished_at")
    inlines = (ParticipantInline, EventInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[FocusGroup]:
        """Liczba zdarzeń w tym samym zapytaniu."""
        return super().get_queryset(request).annotate(events_total=Count("events"))

    @admin.display(description=_("number of events"), ordering="events_total")
    def event_count(self, obj: FocusGroup) -> int:
        """Liczba zdarzeń."""
        return obj.events_total  # type: ignore[attr-defined]


@admin.register(FocusGroupEvent)
class FocusGroupEventAdmin(admin.ModelAdmin):
    """Zdarzenia wszystkich grup (tylko do odczytu)."""

    list_display = ("focus_group", "seq", "kind", "question_index", "persona", "created_at")
    list_filter = ("kind", "created_at")
    search_fields = ("focus_group__name", "key")
    list_select_related = ("focus_group", "persona")
    readonly_fields = ("focus_group", "seq", "kind", "key", "persona", "question_index", "payload", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Zdarzeń nie dodaje się ręcznie."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: FocusGroupEvent | None = None) -> bool:
        """Zdarzeń się nie zmienia."""
        return False
