"""Modele bazy wiedzy: dokument projektu, jego fragmenty z wektorami i indeks leksykalny (BM25 w SQL)."""

from __future__ import annotations

import uuid
from pathlib import PurePath
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.storage import Storage, default_storage, storages
from django.db import models
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from pgvector.django import VectorField

from sight.models import Job, Project

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from sight.models import User


# Powody porażki po polsku i angielsku: kod z procesu parsującego → zdanie dla badacza (gettext przy wyświetleniu).
FAILURE_REASONS = {
    "empty": _("The file is empty."),
    "type_mismatch": _("The file content does not match its type (for example a renamed program)."),
    "corrupt": _("The file is damaged and cannot be read."),
    "encrypted": _("The PDF is password-protected (encrypted)."),
    "no_text_layer": _("The PDF has no text layer (probably scanned); OCR is not supported."),
    "no_text": _("The document contains no text."),
    "too_large_unpacked": _("The document is too large after decompression."),
    "too_much_text": _("The document holds more text than the knowledge base accepts."),
    "too_many_pages": _("The PDF has too many pages."),
    "resources": _("Reading the document exceeded the memory or time limit."),
    "timeout": _("Reading the document took too long."),
    "parser_error": _("The document could not be read."),
    "cancelled": _("Processing was cancelled."),
    "ingest_error": _("Indexing the document failed; try again later."),
}


def knowledge_storage() -> Storage:
    """Magazyn plików bazy wiedzy: alias `knowledge` z STORAGES, gdy jest skonfigurowany, inaczej domyślny."""
    return storages["knowledge"] if "knowledge" in settings.STORAGES else default_storage


def document_path(document: Document, filename: str) -> str:
    """Nazwa pliku po stronie serwera: katalog projektu i UUID dokumentu; nazwa od badacza nie trafia na dysk."""
    return f"knowledge/{document.project_id}/{document.id}{PurePath(filename).suffix.lower()[:10]}"


class DocumentQuerySet(models.QuerySet["Document"]):
    """Zapytania o dokumenty."""

    def for_user(self, user: User | AnonymousUser) -> DocumentQuerySet:
        """Dokumenty w projektach, które użytkownik może zobaczyć."""
        return self.filter(project__in=Project.objects.for_user(user))

    def ready(self) -> DocumentQuerySet:
        """Dokumenty przetworzone i gotowe do wyszukiwania."""
        return self.filter(status=Document.Status.READY)


class Document(models.Model):
    """Plik badacza w projekcie: stan przetwarzania, powód porażki, liczniki i czasy etapów."""

    class Kind(models.TextChoices):
        PDF = "pdf", "PDF"
        DOCX = "docx", "DOCX"
        TXT = "txt", _("plain text")
        MARKDOWN = "md", "Markdown"

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PARSING = "parsing", _("parsing")
        INGESTING = "ingesting", _("ingesting")
        READY = "ready", _("ready")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="documents", verbose_name=_("project"))
    job = models.ForeignKey(
        Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="documents", verbose_name=_("job")
    )
    title = models.CharField(_("title"), max_length=300)
    original_name = models.CharField(_("original file name"), max_length=300)
    file = models.FileField(_("file"), upload_to=document_path, storage=knowledge_storage, max_length=300)
    sha256 = models.CharField(_("content hash (SHA-256)"), max_length=64)
    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    failure_code = models.CharField(_("failure reason code"), max_length=32, blank=True)
    failure_message = models.CharField(_("failure reason"), max_length=500, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    page_count = models.PositiveIntegerField(_("pages"), default=0)
    char_count = models.PositiveBigIntegerField(_("characters"), default=0)
    chunk_count = models.PositiveIntegerField(_("chunks"), default=0)
    timings = models.JSONField(_("stage timings (s)"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    ingested_at = models.DateTimeField(_("ingested at"), null=True, blank=True)

    objects = DocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["project", "sha256"], name="document_unique_content")]

    def __str__(self) -> str:
        return self.title

    @property
    def failure_text(self) -> str:
        """Powód porażki w języku widza (kod z parsera), a dla nieznanego kodu zapisany komunikat."""
        return str(FAILURE_REASONS.get(self.failure_code, self.failure_message))

    def mark(self, status: str, **fields: object) -> None:
        """Ustawia stan (i podane pola) jednym UPDATE."""
        self.status = status
        for name, value in fields.items():
            setattr(self, name, value)
        self.save(update_fields=["status", *fields])

    def mark_failed(self, code: str, message: str) -> None:
        """Porażka z kodem i zdaniem dla badacza; fragmenty częściowego przetwarzania znikają."""
        from rag import lexicon

        deleted, _counts = self.chunks.all().delete()
        if deleted:
            lexicon.refresh_term_stats(self.project_id)
        self.mark(self.Status.FAILED, failure_code=code[:32], failure_message=str(message)[:500], chunk_count=0)

    def delete_with_file(self) -> None:
        """Usuwa dokument, jego fragmenty, wiersze indeksu, dowody grafu (kaskada), węzły grafu i plik w magazynie."""
        from rag import docgraph, lexicon

        name, storage, project_id, document_id = self.file.name, self.file.storage, self.project_id, self.id
        self.delete()
        lexicon.refresh_term_stats(project_id)
        docgraph.forget_document(project_id, document_id)
        if name:
            storage.delete(name)


def get_document_for_user(user: User | AnonymousUser, document_id: uuid.UUID | str) -> Document:
    """Jedyna droga do dokumentu z widoków i API; cudzy dokument to 404."""
    return get_object_or_404(Document.objects.for_user(user).select_related("project", "job"), pk=document_id)


class Chunk(models.Model):
    """Fragment dokumentu: tekst z przesunięciami znaków i stroną, lematy, wektor z modelem i wymiarem."""

    id = models.BigAutoField(primary_key=True)
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    # Powielony projekt: każde wyszukiwanie filtruje po nim bez złączenia z dokumentem.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    ordinal = models.PositiveIntegerField()
    text = models.TextField()
    page = models.PositiveIntegerField(null=True, blank=True)
    char_start = models.PositiveIntegerField()
    char_end = models.PositiveIntegerField()
    heading = models.CharField(max_length=300, blank=True)
    language = models.CharField(max_length=8, blank=True)
    lemmas = models.TextField(blank=True)
    length = models.PositiveIntegerField(default=0)
    # Wymiar zależy od modelu, więc kolumna bez wymiaru; indeks HNSW jest wyrażeniowy i częściowy per wymiar.
    embedding = VectorField(null=True)
    embedding_model = models.CharField(max_length=120, blank=True)
    embedding_dimension = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["document", "ordinal"]
        constraints = [models.UniqueConstraint(fields=["document", "ordinal"], name="chunk_unique_ordinal")]
        indexes = [models.Index(fields=["project", "embedding_model"], name="chunk_project_model")]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.ordinal}"


class Posting(models.Model):
    """Wiersz indeksu odwróconego: lemat w fragmencie z liczbą wystąpień i długością fragmentu (BM25)."""

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    chunk = models.ForeignKey(Chunk, on_delete=models.CASCADE, related_name="postings")
    term = models.CharField(max_length=100)
    tf = models.PositiveIntegerField()
    length = models.PositiveIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["project", "term"], name="posting_project_term", include=["chunk", "tf", "length"])
        ]

    def __str__(self) -> str:
        return f"{self.term}@{self.chunk_id}"


class TermStat(models.Model):
    """Liczba fragmentów projektu z danym lematem (df) i jego IDF; odświeżane po każdym przetworzeniu i usunięciu."""

    id = models.BigAutoField(primary_key=True)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    term = models.CharField(max_length=100)
    df = models.PositiveIntegerField()
    idf = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "term"], name="termstat_unique_term")]

    def __str__(self) -> str:
        return f"{self.term} (df {self.df})"


class LexiconStat(models.Model):
    """Liczba fragmentów projektu i ich średnia długość w lematach (N i avgdl dla BM25)."""

    project = models.OneToOneField(Project, on_delete=models.CASCADE, primary_key=True, related_name="+")
    chunks = models.PositiveIntegerField(default=0)
    avg_length = models.FloatField(default=0.0)

    def __str__(self) -> str:
        return f"{self.chunks} chunks"


# Graf dokumentów (encje, relacje, dowody) w osobnym module; import rejestruje modele w aplikacji `rag`.
from rag.graph_models import ChunkExtraction, DocEntity, DocEvidence, DocRelation  # noqa: E402, F401
