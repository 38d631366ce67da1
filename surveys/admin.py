"""Panel administracyjny ankiet: ankiety z pytaniami i respondentami, odpowiedzi (tylko do odczytu)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from surveys.models import Answer, HumanSample, Question, Respondent, Survey


class QuestionInline(admin.StackedInline):
    """Pytania w kolejności."""

    model = Question
    extra = 0
    ordering = ("order",)


class RespondentInline(admin.TabularInline):
    """Respondenci ankiety."""

    model = Respondent
    extra = 0
    raw_id_fields = ("persona",)


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    """Ankiety."""

    list_display = ("name", "project", "language", "status", "created_at", "finished_at")
    list_filter = ("status", "language", "created_at")
    search_fields = ("name", "description", "project__name", "project__owner__email")
    list_select_related = ("project",)
    raw_id_fields = ("project", "job")
    readonly_fields = ("id", "created_at", "updated_at", "started_at", "finished_at")
    inlines = (QuestionInline, RespondentInline)


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    """Odpowiedzi wszystkich ankiet (tylko do odczytu: to wynik badania)."""

    list_display = ("survey", "question", "persona", "method", "failed", "created_at")
    list_filter = ("method", "failed", "created_at")
    search_fields = ("survey__name", "text", "reason")
    list_select_related = ("survey", "question", "persona")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Odpowiedzi nie dodaje się ręcznie."""
        return False

    def has_change_permission(self, request: HttpRequest, obj: Answer | None = None) -> bool:
        """Odpowiedzi się nie zmienia."""
        return False


@admin.register(HumanSample)
class HumanSampleAdmin(admin.ModelAdmin):
    """Próby ludzkie ankiet: plik, liczba wierszy, stan i przypisanie (dane z pliku tylko do odczytu)."""

    list_display = ("filename", "survey", "file_format", "row_count", "status", "created_at")
    list_filter = ("file_format", "status", "created_at")
    search_fields = ("filename", "survey__name", "survey__project__name")
    list_select_related = ("survey",)
    raw_id_fields = ("survey",)
    readonly_fields = ("id", "file_format", "size", "row_count", "columns", "created_at", "updated_at")
    exclude = ("data",)  # do 20 000 wierszy × 300 kolumn: nie do pokazania w formularzu

    def get_queryset(self, request: HttpRequest) -> Any:
        """Lista i formularz bez danych z pliku."""
        return super().get_queryset(request).defer("data")
