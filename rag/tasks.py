"""Zadania RQ bazy wiedzy: przetworzenie dokumentu."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from rag import ingest
from sight.jobs import job_handler
from sight.models import Job


@job_handler(ingest.INGEST_JOB, label=_("Document ingestion"))
def ingest_document_job(job: Job) -> dict[str, Any]:
    """Parsuje, dzieli i indeksuje dokument `job.params["document_id"]`."""
    return ingest.run_ingest(job)


@job_handler(ingest.REEMBED_JOB, label=_("Re-embedding documents"))
def reembed_job(job: Job) -> dict[str, Any]:
    """Przelicza wektory fragmentów projektu `job.params["project_id"]` bieżącym modelem embeddingów."""
    return ingest.run_reembed(job)
