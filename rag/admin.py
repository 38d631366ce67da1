"""Admin bazy wiedzy: dokumenty ze stanem i licznikami (fragmenty i indeks tylko przez dokument)."""

from django.contrib import admin

from rag.models import Document


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    """Dokumenty projektów."""

    list_display = ("title", "project", "kind", "status", "failure_code", "chunk_count", "language", "created_at")
    list_filter = ("status", "kind", "language")
    search_fields = ("title", "original_name", "sha256")
    readonly_fields = ("sha256", "size", "file", "job", "timings", "ingested_at", "created_at")
    raw_id_fields = ("project",)
