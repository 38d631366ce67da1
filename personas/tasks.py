"""Zadania RQ person: generowanie panelu i potrzeb persony."""

from __future__ import annotations

from typing import Any

from personas import generation
from sight.jobs import job_handler
from sight.models import Job


@job_handler("personas.generate")
def generate_personas_job(job: Job) -> dict[str, Any]:
    """Generuje (albo dokańcza) panel person z przebiegu `job.params["run_id"]`."""
    return generation.run_generation(job)


@job_handler("personas.needs")
def persona_needs_job(job: Job) -> dict[str, Any]:
    """Generuje potrzeby i bolączki persony `job.params["persona_id"]`."""
    return generation.generate_needs(job)
