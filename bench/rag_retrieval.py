"""Benchmark: jakość wyszukiwania bazy wiedzy na kolekcji Vaswani (11 429 streszczeń, 93 zapytania) — nDCG@10 i
recall@10 dla samego BM25, samych wektorów i hybrydy (RRF); cel hybrydy ≥ 0,44 / 0,22 z embedderem offline.

Dane: `../shared/data/retrieval/vaswani/` względem katalogu repozytorium; bez nich benchmark drukuje `skipped`.
"""

from __future__ import annotations

import math
import re
import time
from collections import defaultdict
from pathlib import Path

from bench.common import django_world, emit, flush_redis, summary_ms

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "retrieval" / "vaswani"
TARGET_NDCG, TARGET_RECALL, K = 0.44, 0.22, 10


def read_trec(path: Path, tag: str, id_tag: str) -> dict[str, str]:
    """Rekordy TREC `<tag>` jako {id: tekst}."""
    text = path.read_text(encoding="utf-8", errors="replace")
    records = {}
    for block in re.findall(rf"<{tag}>(.*?)</{tag}>", text, re.DOTALL):
        number = re.search(rf"<{id_tag}>\s*(\S+?)\s*</?", block)
        body = re.sub(r"<[^>]+>", " ", re.sub(rf"<{id_tag}>.*?</{id_tag}>|<{id_tag}>\s*\S+", " ", block, count=1))
        if number:
            records[number.group(1)] = " ".join(body.split())
    return records


def read_qrels(path: Path) -> dict[str, set[str]]:
    """Trafne dokumenty zapytań."""
    relevant: dict[str, set[str]] = defaultdict(set)
    for line in path.read_text().splitlines():
        query, _, doc, grade = line.split()
        if int(grade) > 0:
            relevant[query].add(doc)
    return relevant


def ndcg(ranked: list[str], relevant: set[str]) -> float:
    """nDCG@K z zyskiem binarnym."""
    dcg = sum(1 / math.log2(i + 2) for i, doc in enumerate(ranked[:K]) if doc in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), K)))
    return dcg / ideal if ideal else 0.0


def load(project, docs: dict[str, str]) -> dict[int, str]:
    """Wszystkie streszczenia jako fragmenty jednego dokumentu (bez parsowania); zwraca {chunk_id: docno}."""
    from rag import ingest
    from rag.models import Chunk, Document
    from sight.models import Job

    document = Document.objects.create(
        project=project, title="vaswani", original_name="vaswani.trec", sha256="0" * 64, kind="txt", size=0
    )
    job = Job.objects.create(kind=ingest.INGEST_JOB, project=project, params={"document_id": str(document.id)})
    order = list(docs)
    pieces = [ingest.Piece(docs[d], 0, None, d) for d in order]
    ingest.store_chunks(document, pieces, language="en", job=job, timings={})
    document.mark(Document.Status.READY, chunk_count=len(pieces))
    return dict(Chunk.objects.filter(document=document).values_list("id", "heading"))


def main() -> None:
    """Wczytuje kolekcję, mierzy trzy tryby wyszukiwania i drukuje jedną linię JSON."""
    if not (DATA / "doc-text.trec").exists():
        emit({"benchmark": "rag_retrieval", "skipped": f"no Vaswani data in {DATA}"})
        return
    docs = read_trec(DATA / "doc-text.trec", "DOC", "DOCNO")
    queries = read_trec(DATA / "query-text.trec", "top", "num")
    qrels = read_qrels(DATA / "qrels")
    with django_world():
        from django.db import connection

        from rag import retrieval
        from sight.demo import seed_demo

        flush_redis()
        _, project = seed_demo()
        started = time.perf_counter()
        docno = load(project, docs)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE rag_chunk; ANALYZE rag_posting; ANALYZE rag_termstat")
        load_s = time.perf_counter() - started
        retrieval.search(project, "warm up the lemmatiser", mode="hybrid")  # słowniki simplemma ładują się ~3-10 s
        modes = {}
        for mode in ("lexical", "vector", "hybrid"):
            scores, recalls, times = [], [], []
            for number, text in queries.items():
                began = time.perf_counter()
                # Zapytania kolekcji są WIELKIMI literami, streszczenia małymi; wordllama rozróżnia wielkość liter.
                hits = retrieval.search(project, text.lower(), k=K, mode=mode)
                times.append(time.perf_counter() - began)
                ranked = [docno[h.chunk_id] for h in hits]
                relevant = qrels.get(number, set())
                scores.append(ndcg(ranked, relevant))
                recalls.append(len(set(ranked[:K]) & relevant) / len(relevant) if relevant else 0.0)
            modes[mode] = {
                "ndcg@10": round(sum(scores) / len(scores), 3),
                "recall@10": round(sum(recalls) / len(recalls), 3),
                "latency": summary_ms(times),
            }
        plan = retrieval.explain(project, next(iter(queries.values())).lower())
    hybrid = modes["hybrid"]
    emit(
        {
            "benchmark": "rag_retrieval",
            "collection": "vaswani",
            "documents": len(docs),
            "queries": len(queries),
            "load_s": round(load_s, 1),
            **modes,
            "vector_index_used": "chunk_embedding_hnsw_" in plan,
            "target": {"ndcg@10": TARGET_NDCG, "recall@10": TARGET_RECALL},
            "ok": hybrid["ndcg@10"] >= TARGET_NDCG and hybrid["recall@10"] >= TARGET_RECALL,
        }
    )


if __name__ == "__main__":
    main()
