"""API bazy wiedzy: przesyłanie dokumentów (multipart), lista, szczegóły, usuwanie i wyszukiwanie hybrydowe."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, File, Form, Router, Schema
from ninja.files import UploadedFile

from rag import ingest, retrieval
from rag.models import Document, get_document_for_user
from sight.models import get_project_for_user
from sight.schemas import InputSchema
from sight.text import RequiredText

router = Router(tags=["knowledge"])


class DocumentOut(Schema):
    """Dokument bazy wiedzy ze stanem, powodem porażki, licznikami i czasami etapów."""

    id: uuid.UUID
    project_id: uuid.UUID
    job_id: uuid.UUID | None
    title: str
    original_name: str
    kind: str
    size: int
    sha256: str
    status: str
    failure_code: str
    failure_reason: str
    language: str
    page_count: int
    char_count: int
    chunk_count: int
    timings: dict[str, float]
    created_at: datetime
    ingested_at: datetime | None

    @staticmethod
    def resolve_failure_reason(obj: Document) -> str:
        """Powód porażki zrozumiały dla badacza (pusty, gdy dokument nie zawiódł)."""
        return obj.failure_text if obj.failure_code else ""


class SearchIn(InputSchema):
    """Zapytanie do bazy wiedzy."""

    query: RequiredText = Field(max_length=2000)
    k: int = Field(10, ge=1, le=50)
    mode: Literal["hybrid", "lexical", "vector"] = "hybrid"


class HitOut(Schema):
    """Znaleziony fragment: dokument, strona, przesunięcia, pozycje w obu listach i wynik RRF."""

    chunk_id: int
    document_id: uuid.UUID
    document_title: str
    page: int | None
    char_start: int
    char_end: int
    text: str
    lexical_rank: int | None
    vector_rank: int | None
    score: float


@router.post("/projects/{project_id}/documents", response={200: DocumentOut, 201: DocumentOut})
def upload(
    request: HttpRequest, project_id: uuid.UUID, file: File[UploadedFile], title: Form[str] = ""
) -> tuple[int, Document]:
    """Przyjmuje plik (PDF, DOCX, TXT, Markdown) i startuje przetwarzanie; powtórka pliku — 200 i istniejący."""
    project = get_project_for_user(request.user, project_id)
    document, created = ingest.accept_upload(project, file, user=request.user, title=title)
    return (201 if created else 200), document


@router.get("/projects/{project_id}/documents", response=list[DocumentOut])
def list_documents(request: HttpRequest, project_id: uuid.UUID) -> Any:
    """Dokumenty projektu, najnowsze najpierw."""
    return Document.objects.filter(project=get_project_for_user(request.user, project_id))


@router.get("/documents/{document_id}", response=DocumentOut)
def document_detail(request: HttpRequest, document_id: uuid.UUID) -> Document:
    """Stan jednego dokumentu."""
    return get_document_for_user(request.user, document_id)


@router.delete("/documents/{document_id}", response={204: None})
def delete_document(request: HttpRequest, document_id: uuid.UUID) -> tuple[int, None]:
    """Usuwa dokument z fragmentami, indeksem i plikiem."""
    get_document_for_user(request.user, document_id).delete_with_file()
    return 204, None


@router.post("/projects/{project_id}/knowledge/search", response=list[HitOut])
def search(request: HttpRequest, project_id: uuid.UUID, payload: SearchIn) -> list[retrieval.Hit]:
    """Wyszukiwanie hybrydowe (BM25 po lematach + wektory, RRF) w dokumentach projektu."""
    project = get_project_for_user(request.user, project_id)
    return retrieval.search(project, payload.query, k=payload.k, mode=payload.mode)
