"""API pytań do bazy wiedzy i grafu dokumentów: odpowiedź z cytowaniami, ekstrakcja grafu na żądanie."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from pydantic import StrictBool

from rag import ask, docgraph
from sight.models import get_project_for_user
from sight.schemas import InputSchema
from sight.text import RequiredText

router = Router(tags=["knowledge"])


class AskIn(InputSchema):
    """Pytanie do bazy wiedzy projektu."""

    question: RequiredText = Field(max_length=2000)


class CitationOut(Schema):
    """Cytowany fragment: numer w odpowiedzi, dokument, strona, id fragmentu i sprawdzony cytat (pusty, gdy model
    podał niedosłowny)."""

    number: int
    chunk_id: int
    document_id: uuid.UUID
    document_title: str
    page: int | None
    quote: str


class EntityOut(Schema):
    """Encja projektu wybrana z pytania."""

    name: str
    type: str


class PathOut(Schema):
    """Ścieżka w grafie między encjami pytania."""

    names: list[str]
    relations: list[str]
    chunk_ids: list[int]


class AskOut(Schema):
    """Odpowiedź z numerami cytowań `[n]`, cytowania, encje i ścieżki; `graph`: ok albo unavailable."""

    question: str
    answer: str
    citations: list[CitationOut]
    entities: list[EntityOut]
    paths: list[PathOut]
    graph: str
    notice: str


class ExtractIn(InputSchema):
    """Ekstrakcja grafu: `force` analizuje od nowa także przeanalizowane fragmenty."""

    force: StrictBool = False


class ExtractOut(Schema):
    """Identyfikatory wstawionych zadań (po jednym na dokument)."""

    job_ids: list[uuid.UUID]


@router.post("/projects/{project_id}/knowledge/ask", response=AskOut)
def ask_knowledge(request: HttpRequest, project_id: uuid.UUID, payload: AskIn) -> dict[str, Any]:
    """Odpowiedź z dokumentów projektu: encje z pytania, stałe szablony Cypher i wyszukiwanie hybrydowe."""
    project = get_project_for_user(request.user, project_id)
    return ask.as_dict(ask.ask(project, payload.question))


@router.post("/projects/{project_id}/knowledge/graph", response={202: ExtractOut})
def extract_graph(request: HttpRequest, project_id: uuid.UUID, payload: ExtractIn) -> tuple[int, dict[str, Any]]:
    """Startuje ekstrakcję grafu dokumentów projektu (gotowe dokumenty bez analizy albo wszystkie z `force`)."""
    project = get_project_for_user(request.user, project_id)
    started = docgraph.start_project_extraction(project, user=request.user, force=payload.force)
    return 202, {"job_ids": [job.id for job in started]}
