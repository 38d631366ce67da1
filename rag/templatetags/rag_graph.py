"""Znacznik szablonu panelu „zapytaj bazę wiedzy” na stronie bazy wiedzy (stan grafu dokumentów i formularz)."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import Count

from rag import docgraph
from rag.graph_models import ChunkExtraction, DocEntity, DocRelation

register = template.Library()


@register.inclusion_tag("rag/_ask.html", takes_context=True)
def knowledge_ask(context: template.Context) -> dict[str, Any]:
    """Panel pytania: liczby encji, relacji i przeanalizowanych fragmentów, ostatnie zadanie i odpowiedź (gdy jest)."""
    project = context["project"]
    statuses = dict(
        ChunkExtraction.objects.filter(document__project=project)
        .values_list("status")
        .annotate(n=Count("chunk"))
        .order_by()
    )
    return {
        "project": project,
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
        "result": context.get("ask_result"),
        "question": context.get("ask_question", ""),
        "entity_count": DocEntity.objects.filter(project=project).count(),
        "relation_count": DocRelation.objects.filter(project=project).count(),
        "analysed": statuses.get(ChunkExtraction.Status.DONE, 0),
        "skipped": statuses.get(ChunkExtraction.Status.SKIPPED, 0),
        "job": docgraph.latest_job(project),
    }
