"""Zadania RQ ankiet: badanie (odpowiedzi person) i kodowanie tematów odpowiedzi otwartych."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from sight.jobs import job_handler
from sight.models import Job
from surveys import fielding, themes


@job_handler("surveys.field", label=_("Survey fielding"))
def field_survey_job(job: Job) -> dict[str, Any]:
    """Zbiera (albo wznawia) odpowiedzi person na ankietę `job.params["survey_id"]`."""
    return fielding.field_survey(job)


@job_handler("surveys.themes", label=_("Coding open-text themes"))
def code_themes_job(job: Job) -> dict[str, Any]:
    """Koduje tematy odpowiedzi na pytanie otwarte `job.params["question_id"]` (cytaty sprawdzone w odpowiedziach)."""
    return themes.code_themes(job)
