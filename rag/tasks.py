"""Zadania RQ bazy wiedzy: przetworzenie dokumentu i ekstrakcja grafu dokumentów."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from rag import docgraph, ingest
from sight.jobs import job_handler
from sight.models import Job


@job_handler(ingest.INGEST_JOB, label=_("Document ingestion"))
def ingest_document_job(job: Job) -> dict[str, Any]:
    """Parsuje, dzieli i indeksuje dokument `job.params["document_id"]`."""
    result = ingest.run_ingest(job)
    docgraph.extract_after_ingest(job.params["document_id"], user=job.user)
    return result


@job_handler(docgraph.JOB_KIND, label=_("Document graph extraction"))
def extract_document_graph_job(job: Job) -> dict[str, Any]:
    """Encje i relacje fragmentów dokumentu `job.params["document_id"]`, zapis w PostgreSQL i w grafie."""
    return docgraph.extract(job)
