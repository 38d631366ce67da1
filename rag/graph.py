"""Graf dokumentów w Neo4j/FalkorDB: encje, fragmenty i relacje-dowody z PostgreSQL, odczyt stałymi szablonami.

Węzły `DocEntity {id, project_id, key, type, name}` i `DocChunk {id, project_id, document_id, document_title, page}`;
relacje `(DocEntity)-[:MENTIONED_IN {project_id, document_id, quote}]->(DocChunk)` i po jednej
`(DocEntity)-[:RELATED {project_id, document_id, chunk_id, relation, quote}]->(DocEntity)` na dowód. Liczności
zawsze z relacji, więc zapis dokumentu od nowa i odbudowa dają ten sam graf.

Każde zapytanie do grafu z tej części aplikacji to jedna ze stałych poniżej (`WRITE_TEMPLATES`, `READ_TEMPLATES`) z
parametrami; modelu językowego nie pytamy o Cypher nigdy. Test sprawdza, że nic innego się nie wykonuje.
"""

from __future__ import annotations

import itertools
import uuid
from typing import Any

from rag.graph_models import DocEvidence
from rag.models import Chunk, Document
from sight import graph
from sight.graph import _delete_in_batches as delete_in_batches
from sight.graph import _run as run_cypher
from sight.models import Project

BATCH = graph.BATCH_SIZE

# --- szablony zapisu ------------------------------------------------------------------------------------------------

CLEAR_DOCUMENT_CHUNKS = (
    "MATCH (c:DocChunk {project_id: $project_id, document_id: $document_id}) "
    "WITH c LIMIT $batch DETACH DELETE c RETURN count(*) AS deleted"
)
CLEAR_DOCUMENT_RELATIONS = (
    "MATCH (:DocEntity {project_id: $project_id})-[r:RELATED {document_id: $document_id}]->() "
    "WITH r LIMIT $batch DELETE r RETURN count(*) AS deleted"
)
PRUNE_ENTITIES = (
    "MATCH (e:DocEntity {project_id: $project_id}) WHERE NOT (e)--() "
    "WITH e LIMIT $batch DELETE e RETURN count(*) AS deleted"
)
WRITE_CHUNKS = (
    "UNWIND $rows AS row MERGE (c:DocChunk {id: row.id}) SET c.project_id = $project_id, "
    "c.document_id = $document_id, c.document_title = row.title, c.page = row.page"
)
WRITE_ENTITIES = (
    "UNWIND $rows AS row MERGE (e:DocEntity {id: row.id}) "
    "SET e.project_id = $project_id, e.key = row.key, e.type = row.type, e.name = row.name"
)
WRITE_MENTIONS = (
    "UNWIND $rows AS row MATCH (e:DocEntity {id: row.entity_id, project_id: $project_id}) "
    "MATCH (c:DocChunk {id: row.chunk_id, project_id: $project_id}) "
    "CREATE (e)-[:MENTIONED_IN {project_id: $project_id, document_id: $document_id, quote: row.quote}]->(c)"
)
WRITE_RELATIONS = (
    "UNWIND $rows AS row MATCH (a:DocEntity {id: row.source_id, project_id: $project_id}) "
    "MATCH (b:DocEntity {id: row.target_id, project_id: $project_id}) "
    "CREATE (a)-[:RELATED {project_id: $project_id, document_id: $document_id, chunk_id: row.chunk_id, "
    "relation: row.relation, quote: row.quote}]->(b)"
)
COUNTS = (
    "OPTIONAL MATCH (e:DocEntity {project_id: $project_id}) WITH count(e) AS entities "
    "OPTIONAL MATCH (c:DocChunk {project_id: $project_id}) WITH entities, count(c) AS chunks "
    "OPTIONAL MATCH (:DocEntity {project_id: $project_id})-[m:MENTIONED_IN]->() "
    "WITH entities, chunks, count(m) AS mentions "
    "OPTIONAL MATCH (:DocEntity {project_id: $project_id})-[r:RELATED]->() "
    "RETURN entities, chunks, mentions, count(r) AS relations"
)

# --- szablony odczytu (pytania do bazy wiedzy) ----------------------------------------------------------------------

NEIGHBOURHOOD = (
    "MATCH (a:DocEntity {project_id: $project_id})-[r:RELATED]->(b:DocEntity {project_id: $project_id}) "
    "WHERE a.id IN $ids OR b.id IN $ids "
    "RETURN a.id AS source_id, a.name AS source, r.relation AS relation, b.id AS target_id, b.name AS target, "
    "r.chunk_id AS chunk_id ORDER BY chunk_id, source_id, target_id LIMIT $limit"
)
MENTIONS = (
    "MATCH (e:DocEntity {project_id: $project_id})-[:MENTIONED_IN]->(c:DocChunk {project_id: $project_id}) "
    "WHERE e.id IN $ids RETURN e.id AS entity_id, c.id AS chunk_id ORDER BY chunk_id LIMIT $limit"
)
# Długość ścieżki 1–3 jest częścią szablonu (w Cypher nie może być parametrem); węzły po drodze też z projektu.
PATHS = (
    "MATCH p = (a:DocEntity {project_id: $project_id, id: $source_id})-[:RELATED*1..3]-"
    "(b:DocEntity {project_id: $project_id, id: $target_id}) "
    "WHERE all(n IN nodes(p) WHERE n.project_id = $project_id) "
    "RETURN [n IN nodes(p) | n.name] AS names, [r IN relationships(p) | r.relation] AS relations, "
    "[r IN relationships(p) | r.chunk_id] AS chunk_ids, length(p) AS hops ORDER BY hops LIMIT $limit"
)

WRITE_TEMPLATES = frozenset(
    {
        CLEAR_DOCUMENT_CHUNKS,
        CLEAR_DOCUMENT_RELATIONS,
        PRUNE_ENTITIES,
        WRITE_CHUNKS,
        WRITE_ENTITIES,
        WRITE_MENTIONS,
        WRITE_RELATIONS,
        COUNTS,
    }
)
READ_TEMPLATES = frozenset({NEIGHBOURHOOD, MENTIONS, PATHS})


# --- zapis ----------------------------------------------------------------------------------------------------------


def document_rows(document: Document) -> dict[str, list[dict[str, Any]]]:
    """Wiersze dokumentu do zapisu w grafie: fragmenty z dowodami, encje, wzmianki i relacje (trzy zapytania)."""
    evidence = list(
        DocEvidence.objects.filter(document=document)
        .select_related("entity", "relation__source", "relation__target")
        .order_by("id")
    )
    chunk_ids = sorted({e.chunk_id for e in evidence})
    pages = dict(Chunk.objects.filter(id__in=chunk_ids).values_list("id", "page"))
    entities: dict[int, dict[str, Any]] = {}
    mentions, relations = [], []
    for row in evidence:
        if row.entity is not None:
            entities[row.entity.id] = _entity_row(row.entity)
            mentions.append({"entity_id": row.entity.id, "chunk_id": row.chunk_id, "quote": row.quote})
        else:
            relation = row.relation
            entities[relation.source.id] = _entity_row(relation.source)
            entities[relation.target.id] = _entity_row(relation.target)
            relations.append(
                {
                    "source_id": relation.source.id,
                    "target_id": relation.target.id,
                    "relation": relation.relation,
                    "chunk_id": row.chunk_id,
                    "quote": row.quote,
                }
            )
    return {
        "chunks": [{"id": cid, "title": document.title, "page": pages.get(cid) or 0} for cid in chunk_ids],
        "entities": list(entities.values()),
        "mentions": mentions,
        "relations": relations,
    }


def _entity_row(entity: Any) -> dict[str, Any]:
    return {"id": entity.id, "key": entity.key, "type": entity.entity_type, "name": entity.name}


def forget_document(project_id: uuid.UUID | str, document_id: uuid.UUID | str) -> None:
    """Usuwa z grafu fragmenty i relacje-dowody dokumentu oraz encje, do których nic już nie prowadzi."""
    params = {"project_id": str(project_id), "document_id": str(document_id)}
    delete_in_batches(CLEAR_DOCUMENT_CHUNKS, params)
    delete_in_batches(CLEAR_DOCUMENT_RELATIONS, params)
    delete_in_batches(PRUNE_ENTITIES, {"project_id": str(project_id)})


def write_document(document: Document) -> None:
    """Zastępuje dokument w grafie tym, co o nim wie PostgreSQL; brak serwera grafu to `graph.GraphUnavailable`."""
    project = document.project
    graph.upsert_project(project.id, project.name, project.language)
    forget_document(project.id, document.id)
    rows = document_rows(document)
    params = {"project_id": str(project.id), "document_id": str(document.id)}
    for query, items in (
        (WRITE_CHUNKS, rows["chunks"]),
        (WRITE_ENTITIES, rows["entities"]),
        (WRITE_MENTIONS, rows["mentions"]),
        (WRITE_RELATIONS, rows["relations"]),
    ):
        for batch in itertools.batched(items, BATCH):
            run_cypher(query, {**params, "rows": list(batch)}, write=True)


@graph.rebuild_step
def write_documents(project: Project) -> None:
    """Krok odbudowy grafu: dokumenty projektu, które mają dowody ekstrakcji."""
    with_evidence = DocEvidence.objects.filter(project=project).values("document_id")
    for document in Document.objects.filter(id__in=with_evidence).select_related("project").order_by("id"):
        write_document(document)


def counts(project_id: uuid.UUID | str) -> dict[str, int]:
    """Liczba encji, fragmentów, wzmianek i relacji-dowodów projektu w grafie."""
    return run_cypher(COUNTS, {"project_id": str(project_id)})[0]


# --- odczyt ---------------------------------------------------------------------------------------------------------


def neighbourhood(project_id: uuid.UUID | str, entity_ids: list[int], *, limit: int) -> list[dict[str, Any]]:
    """Relacje-dowody wychodzące z encji i do nich prowadzące (sąsiedztwo), z fragmentem każdej."""
    params = {"project_id": str(project_id), "ids": [int(i) for i in entity_ids], "limit": int(limit)}
    return run_cypher(NEIGHBOURHOOD, params)


def mention_chunks(project_id: uuid.UUID | str, entity_ids: list[int], *, limit: int) -> list[dict[str, Any]]:
    """Fragmenty, w których encje padają (wzmianki)."""
    params = {"project_id": str(project_id), "ids": [int(i) for i in entity_ids], "limit": int(limit)}
    return run_cypher(MENTIONS, params)


def paths(project_id: uuid.UUID | str, source_id: int, target_id: int, *, limit: int) -> list[dict[str, Any]]:
    """Ścieżki 1–3 relacji między dwiema encjami projektu, najkrótsze najpierw."""
    params = {
        "project_id": str(project_id),
        "source_id": int(source_id),
        "target_id": int(target_id),
        "limit": int(limit),
    }
    return run_cypher(PATHS, params)
