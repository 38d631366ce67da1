"""Zadania RQ person: generowanie panelu i potrzeb persony."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from personas import generation
from personas.models import PersonaRun
from personas.validation import validate_run
from sight.jobs import job_handler
from sight.models import Job


@job_handler("personas.generate", label=_("Persona generation"))
def generate_personas_job(job: Job) -> dict[str, Any]:
    """Generuje (albo dokańcza) panel person z przebiegu `job.params["run_id"]`."""
    return generation.run_generation(job)


@job_handler("personas.needs", label=_("Needs and pains"))
def persona_needs_job(job: Job) -> dict[str, Any]:
    """Generuje potrzeby i bolączki persony `job.params["persona_id"]`."""
    return generation.generate_needs(job)


@job_handler("personas.validate", label=_("Panel validity check"))
def validate_run_job(job: Job) -> dict[str, Any]:
    """Raport trafności przebiegu `job.params["run_id"]` (po generowaniu, osobno: nie opóźnia gotowego panelu)."""
    run = PersonaRun.objects.select_related("project").get(pk=job.params["run_id"])
    return {"run_id": str(run.id), "overall": validate_run(run).get("overall")}
