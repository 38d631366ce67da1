"""Zadania RQ rdzenia: wykonanie dowolnego zadania Sight, rekoncyliacja i próbne wywołania LLM."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel, Field

from sight import jobs, llm
from sight.models import Job


def process_job(job_id: str) -> None:
    """Punkt wejścia RQ dla każdego zadania Sight (ładuje wiersz, woła zarejestrowaną obsługę)."""
    jobs.execute(job_id)


def reconcile_job() -> int:
    """Okresowa rekoncyliacja (rqcron): ponownie wstawia zadania, których worker przestał żyć."""
    return len(jobs.reconcile())


class SmokeEcho(BaseModel):
    """Odpowiedź próbna: jedno zdanie powtórzone przez model."""

    sentence: str = Field(min_length=1, max_length=300, description="The sentence repeated verbatim.")


@jobs.job_handler("llm.smoke", label=_("LLM connection test"))
def llm_smoke(job: Job) -> dict[str, Any]:
    """Próbne wywołania roli `smoke` — sprawdza konfigurację dostawcy LLM; wznawia od ostatniego kroku."""
    total = int(job.params.get("calls", 5))
    done: set[int] = {int(i) for i in job.result.get("smoke_done", [])}
    answers: dict[str, str] = dict(job.result.get("smoke_answers", {}))
    jobs.report_progress(job, done=len(done), total=total)
    for step in range(total):
        if step in done:
            continue
        sentence = f"Sight smoke check {step + 1} of {total} is working."
        system = (
            "You are a connectivity check for a research tool. Return the user's sentence verbatim in "
            "the `sentence` field."
        )
        echo = llm.generate(
            "smoke", (system, f"Repeat this sentence exactly: {sentence}"), schema=SmokeEcho, job=job, cache=False
        )
        done.add(step)
        answers[str(step)] = echo.sentence
        jobs.report_progress(
            job, done=len(done), total=total, result={"smoke_done": sorted(done), "smoke_answers": answers}
        )
    target = llm.resolve("smoke")
    return {
        "calls": total,
        "provider": target.provider,
        "model": target.model,
        "answers": [answers[str(i)] for i in range(total)],
    }
