"""„Zapytaj bazę wiedzy”: encje z pytania, stałe szablony Cypher i wyszukiwanie hybrydowe zbierają fragmenty, model
odpowiada z cytowaniami sprawdzanymi wobec podanego zbioru.

Najwyżej dwa wywołania modelu (wybór encji spośród znanych w projekcie, odpowiedź), więc pytanie idzie synchronicznie.
Graf czytamy wyłącznie szablonami z `rag.graph` z parametrami; model nigdy nie pisze zapytań. Gdy graf nie działa,
odpowiedź powstaje z samego wyszukiwania hybrydowego i mówi o tym.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from django.utils import translation
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, create_model

import config
from rag import docgraph, retrieval
from rag import graph as doc_graph
from rag.graph_models import DocEntity
from rag.models import Chunk, Document
from sight import graph, llm
from sight.models import Project

log = logging.getLogger(__name__)

ENTITY_ROLE = "knowledge_entities"
ANSWER_ROLE = "knowledge_answer"
_MARKER = re.compile(r"\[\s*(C\d+(?:\s*[,;]\s*C\d+)*)\s*\]")


class CitationOut(BaseModel):
    """Cytowanie fragmentu: jego numer z `[C<numer>]` i dosłowny wycinek."""

    model_config = ConfigDict(extra="forbid")

    chunk_id: int = Field(description="the number from a passage id [C<number>]")
    quote: str = Field("", max_length=300, description="short verbatim excerpt of that passage")


class AnswerOut(BaseModel):
    """Odpowiedź na pytanie z cytowaniami fragmentów."""

    model_config = ConfigDict(extra="forbid")

    answer: str = Field(min_length=1, max_length=4000, description="the answer, citing passages as [C<number>]")
    citations: list[CitationOut] = Field(default_factory=list, max_length=12)


@functools.cache
def entities_schema(names: tuple[str, ...], limit: int) -> type[BaseModel]:
    """Schemat wyboru encji: tylko nazwy z listy znanych w projekcie (jeden na listę)."""
    return create_model(
        "QuestionEntities",
        __config__=ConfigDict(extra="forbid"),
        __doc__="Encje projektu, których dotyczy pytanie.",
        entities=(list[Literal[names]], Field(default_factory=list, max_length=limit)),  # type: ignore[valid-type]
    )


@dataclass(frozen=True)
class Citation:
    """Cytowany fragment: numer w odpowiedzi, dokument, strona, fragment, sprawdzony cytat i tekst fragmentu."""

    number: int
    chunk_id: int
    document_id: str
    document_title: str
    page: int | None
    quote: str
    text: str

    @property
    def parts(self) -> list[tuple[str, bool]]:
        """Tekst fragmentu pocięty na kawałki (tekst, czy to cytat) — szablon zaznacza cytat `<mark>`."""
        words = self.quote.split()
        match = re.search(r"\s+".join(map(re.escape, words)), self.text, re.IGNORECASE) if words else None
        if match is None:
            return [(self.text, False)]
        pieces = [(self.text[: match.start()], False), (match.group(), True), (self.text[match.end() :], False)]
        return [p for p in pieces if p[0]]


@dataclass(frozen=True)
class GraphPath:
    """Ścieżka w grafie między encjami pytania: nazwy węzłów, typy relacji i fragmenty-dowody krawędzi."""

    names: list[str]
    relations: list[str]
    chunk_ids: list[int]
    relation_labels: list[str] = field(default_factory=list)

    @property
    def steps(self) -> list[tuple[str, str]]:
        """Pary (węzeł, etykieta relacji do następnego) do wyświetlenia; ostatni węzeł bez relacji."""
        return list(itertools.zip_longest(self.names, self.relation_labels, fillvalue=""))


@dataclass
class KnowledgeAnswer:
    """Wynik pytania: odpowiedź z numerami cytowań, cytowania, użyte encje i ścieżki, stan grafu i uwaga dla badacza."""

    question: str
    answer: str = ""
    citations: list[Citation] = field(default_factory=list)
    entities: list[dict[str, str]] = field(default_factory=list)
    paths: list[GraphPath] = field(default_factory=list)
    graph: str = "ok"  # ok | unavailable
    notice: str = ""
    context_chunk_ids: list[int] = field(default_factory=list)

    @property
    def parts(self) -> list[tuple[str, int | None]]:
        """Odpowiedź pocięta na tekst i numery cytowań `[n]` (szablon robi z numerów odnośniki)."""
        pieces: list[tuple[str, int | None]] = []
        last = 0
        for match in re.finditer(r"\[(\d+)\]", self.answer):
            pieces.append((self.answer[last : match.start()], None))
            pieces.append((match.group(1), int(match.group(1))))
            last = match.end()
        pieces.append((self.answer[last:], None))
        return [p for p in pieces if p[0]]


def ask(project: Project, question: str) -> KnowledgeAnswer:
    """Odpowiada na pytanie z dokumentów projektu (graf + wyszukiwanie hybrydowe), z cytowaniami sprawdzonymi."""
    cfg = config.load_features().doc_graph
    result = KnowledgeAnswer(question=question)
    graph_hits: list[retrieval.Hit] = []
    facts: list[str] = []
    if graph.health()["ok"]:
        try:
            picked = pick_entities(project, question)
            graph_hits, facts = graph_context(project, picked, result)
        except graph.GraphUnavailable as exc:
            log.warning("graph unavailable while answering in %s: %s", project.id, exc)
            result.graph = "unavailable"
    else:
        result.graph = "unavailable"
    if result.graph == "unavailable":
        result.entities, result.paths, graph_hits, facts = [], [], [], []
        result.notice = _("The document graph is unavailable; the answer uses keyword and meaning search only.")
    hits = retrieval.search(project, question, k=cfg.search_chunks)
    context = list({h.chunk_id: h for h in [*graph_hits, *hits]}.values())[: cfg.context_chunks]
    result.context_chunk_ids = [h.chunk_id for h in context]
    if not context:
        result.notice = " ".join(
            filter(None, [result.notice, _("No passage in the project's documents matches the question.")])
        )
        return result
    try:
        output = answer(project, question, context, facts)
    except (llm.LLMOutputError, llm.LLMCallError, llm.BudgetExceeded) as exc:
        log.warning("knowledge answer failed in %s: %s", project.id, exc)
        result.notice = " ".join(
            filter(None, [result.notice, _("The language model did not return a usable answer; try again.")])
        )
        return result
    result.answer, result.citations = validate_citations(output, context)
    return result


def pick_entities(project: Project, question: str) -> list[DocEntity]:
    """Encje, których dotyczy pytanie: kandydaci z PostgreSQL (słowa klucza w pytaniu), wybór modelu tylko spośród
    nich; bez kandydatów — bez wywołania modelu.
    """
    cfg = config.load_features().doc_graph
    candidates = docgraph.known_entities(project, question, limit=cfg.candidate_entities)
    if not candidates:
        return []
    labels = docgraph.type_labels("entity", project.language)
    names = tuple(dict.fromkeys(c.name for c in candidates))
    variables = {
        "question": question,
        "candidates": "\n".join(f"- {docgraph._defuse(c.name)} — {labels.get(c.entity_type, '')}" for c in candidates),
        "max_entities": cfg.question_entities,
    }
    try:
        chosen = llm.generate(
            ENTITY_ROLE,
            prompt=ENTITY_ROLE,
            language=project.language,
            variables=variables,
            schema=entities_schema(names, cfg.question_entities),
            project=project,
        )
    except (llm.LLMOutputError, llm.LLMCallError, llm.BudgetExceeded) as exc:
        log.warning("entity choice failed in %s: %s", project.id, exc)
        return []
    order = {name: i for i, name in enumerate(dict.fromkeys(chosen.entities))}
    picked = sorted((c for c in candidates if c.name in order), key=lambda c: (order[c.name], c.id))
    return picked[: cfg.question_entities]


def graph_context(
    project: Project, picked: list[DocEntity], result: KnowledgeAnswer
) -> tuple[list[retrieval.Hit], list[str]]:
    """Fragmenty i fakty z grafu dla wybranych encji: ścieżki między parami, sąsiedztwo, wzmianki (stałe szablony)."""
    cfg = config.load_features().doc_graph
    shown = translation.get_language() or project.language
    entity_labels, relation_labels = docgraph.type_labels("entity", shown), docgraph.type_labels("relation", shown)
    result.entities = [
        {"name": e.name, "type": e.entity_type, "label": entity_labels.get(e.entity_type, e.entity_type)}
        for e in picked
    ]
    if not picked:
        return [], []
    ids = [e.id for e in picked]
    chunk_ids: list[int] = []
    for a, b in itertools.combinations(picked, 2):
        for row in doc_graph.paths(project.id, a.id, b.id, limit=cfg.paths):
            relations = list(row["relations"])
            labels = [relation_labels.get(r, r) for r in relations]
            result.paths.append(GraphPath(list(row["names"]), relations, list(row["chunk_ids"]), labels))
            chunk_ids.extend(row["chunk_ids"])
    labels = docgraph.type_labels("relation", project.language)
    facts = []
    for row in doc_graph.neighbourhood(project.id, ids, limit=4 * cfg.graph_chunks):
        relation = labels.get(row["relation"], row["relation"])
        facts.append(f"{row['source']} — {relation} — {row['target']} [C{row['chunk_id']}]")
        chunk_ids.append(row["chunk_id"])
    chunk_ids.extend(row["chunk_id"] for row in doc_graph.mention_chunks(project.id, ids, limit=4 * cfg.graph_chunks))
    wanted = list(dict.fromkeys(int(c) for c in chunk_ids))[: cfg.graph_chunks]
    return load_hits(project, wanted), facts[: 2 * cfg.graph_chunks]


def load_hits(project: Project, chunk_ids: list[int]) -> list[retrieval.Hit]:
    """Fragmenty o podanych id jako trafienia — tylko z tego projektu i z gotowych dokumentów, w podanej kolejności."""
    rows = Chunk.objects.filter(
        project=project, id__in=chunk_ids, document__status=Document.Status.READY
    ).select_related("document")
    by_id = {
        c.id: retrieval.Hit(
            c.id, str(c.document_id), c.document.title, c.page, c.char_start, c.char_end, c.text, None, None, 0.0
        )
        for c in rows.only("id", "document_id", "document__title", "page", "char_start", "char_end", "text")
    }
    return [by_id[c] for c in chunk_ids if c in by_id]


def answer(project: Project, question: str, context: list[retrieval.Hit], facts: list[str]) -> AnswerOut:
    """Wywołanie odpowiedzi: fragmenty (i fakty z grafu) w bloku danych w wiadomości użytkownika."""
    supplied = {h.chunk_id for h in context}
    # Fakty z grafu tylko o podanych fragmentach: numer spoza bloku danych nie może się pojawić w prompcie.
    usable = [f for f in facts if int(f.rsplit("[C", 1)[1].rstrip("]")) in supplied]
    passages = [(h.chunk_id, h.document_title + (f", p. {h.page}" if h.page else ""), h.text) for h in context]
    variables = {
        "question": question,
        "language_name": project.language_name,
        "passages": docgraph.passage_block(passages, usable),
    }
    return llm.generate(
        ANSWER_ROLE,
        prompt=ANSWER_ROLE,
        language=project.language,
        variables=variables,
        schema=AnswerOut,
        project=project,
    )


def validate_citations(output: AnswerOut, context: list[retrieval.Hit]) -> tuple[str, list[Citation]]:
    """Numeruje cytowania w kolejności w odpowiedzi; id spoza podanych fragmentów znikają, cytat niedosłowny też."""
    supplied = {h.chunk_id: h for h in context}
    quotes: dict[int, str] = {}
    for citation in output.citations:
        hit = supplied.get(citation.chunk_id)
        if hit is not None and citation.chunk_id not in quotes:
            quotes[citation.chunk_id] = citation.quote if docgraph.quote_in(citation.quote, hit.text) else ""
    numbers: dict[int, int] = {}

    def renumber(match: re.Match[str]) -> str:
        ids = [int(part.strip()[1:]) for part in re.split(r"[,;]", match.group(1))]
        marks = []
        for chunk_id in ids:
            if chunk_id in supplied:
                numbers.setdefault(chunk_id, len(numbers) + 1)
                marks.append(f"[{numbers[chunk_id]}]")
        return "".join(marks)

    text = _MARKER.sub(renumber, output.answer)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).strip()
    for chunk_id in quotes:  # cytowane w liście, a nie w tekście: na końcu
        numbers.setdefault(chunk_id, len(numbers) + 1)
    citations = [
        Citation(
            number,
            chunk_id,
            supplied[chunk_id].document_id,
            supplied[chunk_id].document_title,
            supplied[chunk_id].page,
            quotes.get(chunk_id, ""),
            supplied[chunk_id].text,
        )
        for chunk_id, number in sorted(numbers.items(), key=lambda item: item[1])
    ]
    return text, citations


def as_dict(result: KnowledgeAnswer) -> dict[str, Any]:
    """Wynik w kształcie API."""
    return {
        "question": result.question,
        "answer": result.answer,
        "citations": [
            {
                "number": c.number,
                "chunk_id": c.chunk_id,
                "document_id": c.document_id,
                "document_title": c.document_title,
                "page": c.page,
                "quote": c.quote,
            }
            for c in result.citations
        ],
        "entities": result.entities,
        "paths": [{"names": p.names, "relations": p.relations, "chunk_ids": p.chunk_ids} for p in result.paths],
        "graph": result.graph,
        "notice": result.notice,
    }
