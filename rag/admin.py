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


# --- graf dokumentów ----------------------------------------------------------------------------------------------

from rag.graph_models import ChunkExtraction, DocEntity, DocEvidence, DocRelation  # noqa: E402


@admin.register(DocEntity)
class DocEntityAdmin(admin.ModelAdmin):
    """Encje grafu dokumentów (klucz kanoniczny z lematów, typ)."""

    list_display = ("name", "entity_type", "key", "project", "created_at")
    list_filter = ("entity_type",)
    search_fields = ("name", "key")
    raw_id_fields = ("project",)


@admin.register(DocRelation)
class DocRelationAdmin(admin.ModelAdmin):
    """Relacje encji stwierdzone w dokumentach."""

    list_display = ("source", "relation", "target", "project")
    list_filter = ("relation",)
    search_fields = ("source__name", "target__name")
    raw_id_fields = ("project", "source", "target")


@admin.register(DocEvidence)
class DocEvidenceAdmin(admin.ModelAdmin):
    """Dowody we fragmentach: wzmianki encji i stwierdzenia relacji z cytatem."""

    list_display = ("quote", "entity", "relation", "document", "chunk")
    search_fields = ("quote",)
    raw_id_fields = ("project", "document", "chunk", "entity", "relation")


@admin.register(ChunkExtraction)
class ChunkExtractionAdmin(admin.ModelAdmin):
    """Stan ekstrakcji grafu fragmentów (pominięte z powodem)."""

    list_display = ("chunk", "document", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("reason",)
    raw_id_fields = ("chunk", "document")
