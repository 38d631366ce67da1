"""Przyjęcie pliku i przetworzenie dokumentu: bramki, podział na fragmenty, lematy, wektory, indeks leksykalny."""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

import config
from rag import lexicon, parsing
from rag.models import Chunk, Document
from sight import jobs
from sight.errors import InvalidInput
from sight.models import Job, Project
from sight.text import NUL_MESSAGE, has_nul

if TYPE_CHECKING:
    from sight.models import User

INGEST_JOB = "rag.ingest"
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]
_HEADER = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def limits() -> parsing.Limits:
    """Limity bramek i procesu parsującego z `features.yaml`."""
    kb = config.load_features().knowledge
    return parsing.Limits(
        max_text_chars=kb.max_text_chars,
        docx_max_entries=kb.docx_max_entries,
        docx_max_uncompressed=kb.docx_max_uncompressed_mb * 2**20,
        docx_max_ratio=kb.docx_max_ratio,
        memory_bytes=kb.parse_memory_mb * 2**20,
        cpu_seconds=kb.parse_cpu_seconds,
        timeout_seconds=kb.parse_timeout_seconds,
        pdf_max_pages=kb.pdf_max_pages,
    )


def accept_upload(project: Project, upload: UploadedFile, *, user: User, title: str = "") -> tuple[Document, bool]:
    """Przyjmuje plik (limit rozmiaru, typ z rozszerzenia, deduplikacja po SHA-256) i startuje przetwarzanie.

    Zwraca dokument i czy jest nowy; ten sam plik w projekcie zwraca istniejący dokument.
    """
    name = (upload.name or "document").rsplit("/", 1)[-1][:300]
    for field, text in (("title", title), ("file", name)):
        if has_nul(text):
            raise InvalidInput(field, NUL_MESSAGE)
    title = title.strip()
    kind = parsing.kind_for_name(name)
    if kind is None:
        raise InvalidInput("file", _("Supported file types: PDF, DOCX, TXT and Markdown."))
    max_mb = config.load_features().knowledge.max_upload_mb
    if upload.size is None or upload.size > max_mb * 2**20:
        raise InvalidInput("file", format_lazy(_("The file is larger than {mb} MB."), mb=max_mb))
    digest = hashlib.sha256()
    for piece in upload.chunks():
        digest.update(piece)
    sha = digest.hexdigest()
    existing = Document.objects.filter(project=project, sha256=sha).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        document = Document(
            project=project, title=(title or name)[:300], original_name=name, sha256=sha, kind=kind, size=upload.size
        )
        upload.seek(0)
        document.file.save(name, upload, save=False)
        document.save()
        document.job = jobs.start_job(
            kind=INGEST_JOB, user=user, project=project, params={"document_id": str(document.id)}, queue="llm"
        )
        document.save(update_fields=["job"])
    return document, True


def run_ingest(job: Job) -> dict[str, Any]:
    """Zadanie: parsowanie w procesie potomnym, podział, lematy, wektory i indeks; porażka pliku to stan `failed`."""
    document = Document.objects.select_related("project").get(pk=job.params["document_id"])
    if document.status == Document.Status.READY:
        return {"chunks": document.chunk_count}
    timings: dict[str, float] = {}
    document.chunks.all().delete()
    document.mark(Document.Status.PARSING, failure_code="", failure_message="", timings={})
    jobs.report_progress(job, done=0, total=4, message=gettext_noop("Reading the file"))
    started = time.monotonic()
    try:
        with document.file.open("rb") as handle:
            data = handle.read()
    except OSError:
        document.mark_failed("file_missing", "The stored file cannot be read; upload it again.")
        return {"failed": "file_missing"}
    try:
        pages = parsing.parse(data, document.kind, limits())
    except parsing.ParseFailure as failure:
        document.mark_failed(failure.code, failure.message)
        return {"failed": failure.code}
    except Exception:
        # Np. brak pamięci na uruchomienie procesu potomnego: dokument nie zostaje w stanie „parsing”.
        document.mark_failed("parser_error", "The document could not be read.")
        raise
    timings["parse"] = round(time.monotonic() - started, 3)
    document.mark(Document.Status.INGESTING, page_count=len(pages), char_count=sum(len(p) for p in pages))
    pieces = split_pages(pages, kind=document.kind)
    jobs.report_progress(job, done=1, message=gettext_noop("Split into %(n)d chunks"), params={"n": len(pieces)})
    language = lexicon.detect_language(" ".join(p.text for p in pieces[:20]))
    try:
        store_chunks(document, pieces, language=language, job=job, timings=timings)
    except jobs.JobCancelled:
        document.mark_failed("cancelled", "Processing was cancelled.")
        raise
    except Exception:
        # Dokument nie może zostać w stanie „ingesting”; zadanie i tak kończy się błędem z pełnym śladem.
        document.mark_failed("ingest_error", "Indexing the document failed; try again later.")
        raise
    document.mark(
        Document.Status.READY,
        language=language,
        chunk_count=len(pieces),
        timings=timings,
        ingested_at=timezone.now(),
    )
    jobs.report_progress(job, done=4, message=gettext_noop("Ready"))
    return {"chunks": len(pieces), "timings": timings}


@dataclass(frozen=True)
class Piece:
    """Fragment tekstu przed zapisem: przesunięcia w całym tekście dokumentu, strona i nagłówek Markdown."""

    text: str
    start: int
    page: int | None
    heading: str


def split_pages(pages: list[str], *, kind: str) -> list[Piece]:
    """Dzieli tekst (strony złączone pustą linią) na fragmenty z przesunięciami; Markdown najpierw po nagłówkach.

    Numer strony mają tylko fragmenty PDF.
    """
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    kb = config.load_features().knowledge
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=kb.chunk_size, chunk_overlap=kb.chunk_overlap, separators=SEPARATORS, add_start_index=True
    )
    text, page_starts = _join_pages(pages)
    pieces = []
    for section_start, heading, section in _sections(text, markdown=kind == Document.Kind.MARKDOWN):
        for doc in splitter.create_documents([section]):
            start = section_start + int(doc.metadata["start_index"])
            page = _page_at(page_starts, start) if kind == Document.Kind.PDF else None
            pieces.append(Piece(doc.page_content, start, page, heading))
    return pieces


def _join_pages(pages: list[str]) -> tuple[str, list[int]]:
    starts, offset = [], 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + 2
    return "\n\n".join(pages), starts


def _page_at(page_starts: list[int], offset: int) -> int:
    page = 1
    for number, start in enumerate(page_starts, start=1):
        if start > offset:
            break
        page = number
    return page


def _sections(text: str, *, markdown: bool) -> list[tuple[int, str, str]]:
    """Sekcje (początek, ścieżka nagłówków, tekst); bez Markdown — cały tekst jako jedna sekcja."""
    headers = list(_HEADER.finditer(text)) if markdown else []
    if not headers:
        return [(0, "", text)]
    sections, path = [], {}
    if headers[0].start() > 0:
        sections.append((0, "", text[: headers[0].start()]))
    for index, match in enumerate(headers):
        level = len(match.group(1))
        path = {lvl: name for lvl, name in path.items() if lvl < level} | {level: match.group(2).strip()}
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        sections.append((match.start(), " › ".join(path[k] for k in sorted(path))[:300], text[match.start() : end]))
    return [s for s in sections if s[2].strip()]


def store_chunks(
    document: Document, pieces: list[Piece], *, language: str, job: Job, timings: dict[str, float]
) -> None:
    """Lematy, wektory (partiami) i wiersze indeksu odwróconego fragmentów dokumentu, potem statystyki BM25."""
    from sight.llm import build_embeddings

    started = time.monotonic()
    piece_lemmas = [lexicon.lemmas(p.text, language) for p in pieces]
    timings["lemmatise"] = round(time.monotonic() - started, 3)
    started = time.monotonic()
    embeddings, batch = build_embeddings(), config.load_features().knowledge.embed_batch
    vectors: list[list[float]] = []
    for offset in range(0, len(pieces), batch):
        vectors.extend(embeddings.embed_documents([p.text for p in pieces[offset : offset + batch]]))
        jobs.report_progress(
            job,
            done=2,
            message=gettext_noop("Embedded %(n)d of %(total)d chunks"),
            params={"n": len(vectors), "total": len(pieces)},
            throttle=1.0,
        )
    timings["embed"] = round(time.monotonic() - started, 3)
    started = time.monotonic()
    model, dimension = embedding_model_name(embeddings), len(vectors[0]) if vectors else 0
    ensure_vector_index(dimension)
    with transaction.atomic():
        chunks = Chunk.objects.bulk_create(
            Chunk(
                document=document,
                project_id=document.project_id,
                ordinal=ordinal,
                text=piece.text,
                page=piece.page,
                char_start=piece.start,
                char_end=piece.start + len(piece.text),
                heading=piece.heading,
                language=language,
                lemmas=" ".join(words),
                length=len(words),
                embedding=vector,
                embedding_model=model,
                embedding_dimension=dimension,
            )
            for ordinal, (piece, words, vector) in enumerate(zip(pieces, piece_lemmas, vectors, strict=True))
        )
        lexicon.insert_postings(
            [
                row
                for chunk, words in zip(chunks, piece_lemmas, strict=True)
                for row in lexicon.postings_rows(document.project_id, chunk.id, words)
            ]
        )
    jobs.report_progress(job, done=3, message=gettext_noop("Indexing"))
    lexicon.refresh_term_stats(document.project_id)
    timings["index"] = round(time.monotonic() - started, 3)


def embedding_model_name(embeddings: object) -> str:
    """Nazwa modelu embeddingów zapisywana przy wektorach (zmiana modelu to inne wektory)."""
    model = getattr(embeddings, "model", "") or getattr(embeddings, "dimension", "")
    return f"{type(embeddings).__name__}:{model}"[:120]


def ensure_vector_index(dimension: int) -> None:
    """Częściowy indeks HNSW na rzutowaniu do wymiaru modelu (pgvector indeksuje tylko kolumny z wymiarem).

    Powyżej 2000 wymiarów indeks jest na `halfvec` (limit HNSW dla `vector`).
    """
    if not 0 < dimension <= 4000:
        return
    cast = f"vector({dimension})" if dimension <= 2000 else f"halfvec({dimension})"
    ops = "vector_cosine_ops" if dimension <= 2000 else "halfvec_cosine_ops"
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [f"chunk_embedding_hnsw_{dimension}"])
        if cursor.fetchone():
            return
        # W transakcji z wcześniejszymi zapisami (odroczone klucze obce) CREATE INDEX odmawia: sprawdzamy je teraz.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS chunk_embedding_hnsw_{dimension} ON rag_chunk "  # noqa: S608 - liczba całkowita
            f"USING hnsw ((embedding::{cast}) {ops}) WITH (m = 16, ef_construction = 64) "
            f"WHERE embedding_dimension = {dimension}"
        )


def vector_cast(dimension: int) -> str:
    """Typ rzutowania wektora pasujący do indeksu HNSW danego wymiaru."""
    return f"vector({dimension})" if dimension <= 2000 else f"halfvec({dimension})"


# --- zmiana modelu embeddingów ----------------------------------------------------------------------------------

REEMBED_JOB = "rag.reembed"


def current_embedding_model() -> str:
    """Nazwa bieżącego modelu roli embeddingów, taka jak zapisywana przy wektorach fragmentów."""
    from sight.llm import build_embeddings

    return embedding_model_name(build_embeddings())


def stale_chunk_count(project: Project, *, model: str | None = None) -> int:
    """Liczba fragmentów projektu z wektorem innego modelu niż bieżący; wyszukiwanie po znaczeniu ich nie widzi."""
    return Chunk.objects.filter(project=project).exclude(embedding_model=model or current_embedding_model()).count()


def start_reembed(project: Project, *, user: User | None) -> Job:
    """Startuje przeliczenie wektorów projektu; gdy jedno już czeka albo trwa, zwraca je zamiast dublować."""
    active = Job.objects.filter(project=project, kind=REEMBED_JOB, status__in=["queued", "running"]).first()
    if active is not None:
        return active
    return jobs.start_job(
        kind=REEMBED_JOB,
        user=user,
        project=project,
        params={"project_id": str(project.pk)},
        queue="llm",
        total=stale_chunk_count(project),
    )


def reembed_project(project: Project, *, job: Job | None = None) -> int:
    """Przelicza wektory fragmentów zapisanych innym modelem (albo wymiarem) bieżącym modelem roli embeddingów.

    Partiami po `embed_batch`, każda partia jednym UPDATE; przerwane zadanie po wznowieniu bierze tylko fragmenty,
    które wciąż mają stary model. Zwraca liczbę przeliczonych fragmentów.
    """
    from sight.llm import build_embeddings

    embeddings, batch = build_embeddings(), config.load_features().knowledge.embed_batch
    model = embedding_model_name(embeddings)
    stale = Chunk.objects.filter(project=project).exclude(embedding_model=model)
    total, done, indexed = stale.count(), 0, set()
    if job is not None:
        jobs.report_progress(
            job, done=0, total=total, message=gettext_noop("Re-embedding %(n)d chunks"), params={"n": total}
        )
    while chunks := list(stale.order_by("id").only("id", "text")[:batch]):
        vectors = embeddings.embed_documents([c.text for c in chunks])
        for chunk, vector in zip(chunks, vectors, strict=True):
            chunk.embedding, chunk.embedding_model, chunk.embedding_dimension = vector, model, len(vector)
            if len(vector) not in indexed:
                ensure_vector_index(len(vector))
                indexed.add(len(vector))
        Chunk.objects.bulk_update(chunks, ["embedding", "embedding_model", "embedding_dimension"])
        done += len(chunks)
        if job is not None:
            jobs.report_progress(
                job,
                done=min(done, total),
                message=gettext_noop("Embedded %(n)d of %(total)d chunks"),
                params={"n": done, "total": total},
                throttle=1.0,
            )
    return done


def run_reembed(job: Job) -> dict[str, Any]:
    """Zadanie: przeliczenie wektorów projektu `job.params["project_id"]`."""
    project = Project.objects.get(pk=job.params["project_id"])
    return {"reembedded": reembed_project(project, job=job)}
