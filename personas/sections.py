"""Sekcja „Persony” strony projektu: generowanie, ostatni przebieg z postępem na żywo, karty i karta trafności."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import get_language

from personas.browsing import validation_report
from personas.forms import GenerateForm
from personas.generation import persona_card
from personas.models import Persona, PersonaRun
from personas.validation import duplicate_names_text, low_spread_traits_text, whole_percent
from sight.models import Project
from sight.projects import project_section

CARD_PREVIEW = 12
SECTION_TEMPLATE = "personas/_section.html#personas_section"


def _language() -> str:
    """Język bieżącego widoku dla tekstów z raportu (pl albo en)."""
    language = (get_language() or "pl")[:2]
    return language if language in ("pl", "en") else "en"


def validity_context(report: dict[str, Any]) -> dict[str, Any]:
    """Raport trafności gotowy do szablonu: etykiety w języku widza, cechy z nazwami, liczby do zdań karty."""
    language = _language()
    categories = [
        {
            **c,
            "display_label": c["label"].get(language, c["category"]),
            "tvd_percent": None if c["tvd"] is None else whole_percent(c["tvd"]),
            "buckets": [{**b, "display_label": b["label"].get(language, b["bucket"])} for b in c["buckets"]],
        }
        for c in report["categories"]
    ]
    traits = [
        {"name": trait, "label": capfirst(Persona.trait_label(trait)), **spread}
        for trait, spread in report["diversity"]["traits"].items()
    ]
    problems = {p["id"]: p["problems"] for p in report.get("consistency", {}).get("flagged", [])}
    check_rows = [
        {
            **check,
            "display_label": check["label"].get(language, check["id"]),
            "flagged": [
                {
                    **persona,
                    "problems": [
                        {**problem, "display_expected": problem["expected"].get(language, "")}
                        for problem in problems.get(persona["id"], [])
                    ],
                }
                for persona in check["flagged"]
            ],
        }
        for check in report.get("checks", [])
    ]
    return {
        **report,
        "check_rows": check_rows,
        "shared_phrase_percent": whole_percent(report["thresholds"].get("shared_phrase_share", 0)),
        "categories": categories,
        "trait_rows": traits,
        "low_spread_count": sum(t["low_spread"] for t in traits),
        "duplicate_names_text": duplicate_names_text(report),
        "low_spread_text": low_spread_traits_text(report),
    }


def panel_context(project: Project, *, form: GenerateForm | None = None) -> dict[str, Any]:
    """Kontekst sekcji „Persony”: formularz, ostatni przebieg z postępem na żywo, karty person i karta trafności."""
    run = PersonaRun.objects.filter(project=project).select_related("job").first()
    job = run.job if run else None
    live = job is not None and not job.is_final
    personas = Persona.objects.filter(project=project).active().select_related("segment")
    shown = personas.filter(run=run) if run else personas
    return {
        "project": project,
        "generate_form": form or GenerateForm(project=project),
        "persona_count": personas.count(),
        "persona_run": run,
        "persona_run_created": run.personas.count() if run else 0,
        "persona_job": job.as_dict() if job else None,
        "persona_job_live": live,
        "persona_cards": [persona_card(p) for p in (shown if live else shown[:CARD_PREVIEW])],
        "validity": validity_context(validation_report(project)),
    }


@project_section("personas", order=10, template=SECTION_TEMPLATE, scripts=("js/personas.js",))
def personas_section(request: HttpRequest, project: Project) -> dict[str, Any]:
    """Sekcja „Persony” na stronie projektu."""
    return panel_context(project)
