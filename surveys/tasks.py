"""Zadania RQ ankiet: badanie (odpowiedzi person)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from sight.jobs import job_handler
from sight.models import Job
from surveys import fielding


@job_handler("surveys.field", label=_("Survey fielding"))
def field_survey_job(job: Job) -> dict[str, Any]:
    """Zbiera (albo wznawia) odpowiedzi person na ankietę `job.params["survey_id"]`."""
    return fielding.field_survey(job)
