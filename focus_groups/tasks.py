"""Zadania RQ grup fokusowych: przebieg dyskusji, podsumowanie i ekstrakcja pojęć."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from focus_groups import concepts, discussion, summary
from sight.jobs import job_handler
from sight.models import Job


@job_handler("focus_groups.run", label=_("Focus group run"))
def run_focus_group_job(job: Job) -> dict[str, Any]:
    """Prowadzi (albo wznawia) dyskusję grupy `job.params["focus_group_id"]`; zakończona dostaje ekstrakcję pojęć."""
    result = discussion.run_focus_group(job)
    concepts.extract_after_run(job.params["focus_group_id"], user=job.user)
    return result


@job_handler("focus_groups.summary", label=_("Focus group summary"))
def summarise_focus_group_job(job: Job) -> dict[str, Any]:
    """Pisze podsumowanie z cytowaniami dla grupy `job.params["focus_group_id"]`."""
    return summary.summarise(job)


@job_handler(concepts.JOB_KIND, label=_("Concept extraction"))
def extract_concepts_job(job: Job) -> dict[str, Any]:
    """Analizuje wypowiedzi grupy `job.params["focus_group_id"]` (pojęcia, emocje, odniesienia) i zapisuje graf."""
    return concepts.extract(job)
