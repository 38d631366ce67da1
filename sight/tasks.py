"""Zadania RQ rdzenia: wykonanie dowolnego zadania Sight, rekoncyliacja i próbne wywołania LLM."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from sight import jobs
from sight.models import Job


def process_job(job_id: str) -> None:
    """Punkt wejścia RQ dla każdego zadania Sight (ładuje wiersz, woła zarejestrowaną obsługę)."""
    jobs.execute(job_id)


def reconcile_job() -> int:
    """Okresowa rekoncyliacja (rqcron): ponownie wstawia zadania, których worker przestał żyć."""
    return len(jobs.reconcile())


@jobs.job_handler("llm.smoke", label=_("LLM connection test"))
def llm_smoke(job: Job) -> dict[str, Any]:
    """Próbne wywołania roli `smoke` — sprawdza konfigurację dostawcy LLM; wznawia od ostatniego kroku."""
    from sight import llm

    return llm.run_smoke(job)
