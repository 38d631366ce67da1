"""Benchmark: opóźnienie wyszukiwania hybrydowego bazy wiedzy — 20 000 fragmentów w odpytywanym projekcie i 40 000
w bazie (drugi projekt tej samej wielkości), embedder offline; cel p95 ≤ 35 ms.

Fragmenty wstawiane wprost przez `rag.ingest.store_chunks` (lematy, wektory, wiersze indeksu odwróconego i statystyki
BM25 jak przy przetwarzaniu), bez parsowania plików; przed pomiarem VACUUM ANALYZE. Teksty: zdania streszczeń kolekcji
Vaswani wymieszane po 5–9 w fragment (bez danych — zdania z losowych słów o rozkładzie Zipfa).
"""

from __future__ import annotations

import random
import re
import sys
import time
from pathlib import Path

from bench.common import django_world, emit, flush_redis, summary_ms

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "retrieval" / "vaswani"
PER_PROJECT, DOCUMENTS_PER_PROJECT, SEARCHES, TARGET_P95_MS = 20_000, 10, 300, 35.0


def sentences() -> list[str]:
    """Zdania streszczeń Vaswani (tytuł i zdania streszczenia dzielą tam podwójne spacje) albo zdania z losowych
    słów, gdy kolekcji nie ma."""
    source = DATA / "doc-text.trec"
    if source.exists():
        text = source.read_text(encoding="utf-8", errors="replace")
        found = []
        for body in re.findall(r"</DOCNO>(.*?)</DOC>", text, re.DOTALL):
            found += [" ".join(s.split()) for s in re.split(r" {2,}", body.replace("\n", " "))]
        return [s for s in found if len(s) > 30]
    rng = random.Random(7)
    vocabulary = [f"słowo{i}" for i in range(20_000)]
    weights = [1 / (i + 1) for i in range(len(vocabulary))]
    return [" ".join(rng.choices(vocabulary, weights, k=rng.randint(8, 20))) for _ in range(50_000)]


def passages(pool: list[str], count: int, rng: random.Random) -> list[str]:
    """Fragmenty po 5–9 losowych zdań (ok. 500–1000 znaków, jak fragmenty 1000 znaków)."""
    return [(". ".join(rng.sample(pool, rng.randint(5, 9))) + ".")[:1000] for _ in range(count)]


def queries(pool: list[str], rng: random.Random) -> list[str]:
    """Zapytania: krótkie (2–3 słowa) i długie (zdanie) z tego samego słownika, plus zapytania kolekcji."""
    out = []
    query_file = DATA / "query-text.trec"
    if query_file.exists():
        text = query_file.read_text(encoding="utf-8", errors="replace")
        out += [" ".join(q.split()).lower() for q in re.findall(r"<title>(.*?)</title>", text, re.DOTALL)][:100]
    while len(out) < SEARCHES:
        words = rng.choice(pool).split()
        out.append(" ".join(rng.sample(words, min(len(words), rng.choice((2, 3, 8))))))
    return out[:SEARCHES]


def load(project, texts: list[str]) -> None:
    """Fragmenty projektu w `DOCUMENTS_PER_PROJECT` dokumentach gotowych do wyszukiwania.

    Te same wiersze co `store_chunks` (lematy, wektory embeddera offline, indeks odwrócony, statystyki BM25), ale
    hurtem: wektory partiami po 512, fragmenty `bulk_create`, wiersze indeksu jednym COPY na dokument, statystyki
    raz na projekt. Indeks HNSW buduje `main` po wczytaniu obu projektów (szybciej niż wstawianie do istniejącego).
    """
    from rag import lexicon
    from rag.ingest import embedding_model_name
    from rag.models import Chunk, Document
    from sight.llm import build_embeddings

    embeddings = build_embeddings()
    model = embedding_model_name(embeddings)
    size = len(texts) // DOCUMENTS_PER_PROJECT
    for number in range(DOCUMENTS_PER_PROJECT):
        part = texts[number * size : (number + 1) * size]
        document = Document.objects.create(
            project=project,
            title=f"doc {number}",
            original_name=f"doc{number}.txt",
            sha256=f"{number:064d}",
            kind="txt",
            size=sum(len(t) for t in part),
            status=Document.Status.READY,
            language="en",
            chunk_count=len(part),
        )
        words = [lexicon.lemmas(text, "en") for text in part]
        vectors = [v for i in range(0, len(part), 512) for v in embeddings.embed_documents(part[i : i + 512])]
        offsets = [0]
        for text in part[:-1]:
            offsets.append(offsets[-1] + len(text) + 2)
        chunks = Chunk.objects.bulk_create(
            [
                Chunk(
                    document=document,
                    project=project,
                    ordinal=ordinal,
                    text=text,
                    char_start=start,
                    char_end=start + len(text),
                    language="en",
                    lemmas=" ".join(lemmas),
                    length=len(lemmas),
                    embedding=vector,
                    embedding_model=model,
                    embedding_dimension=len(vector),
                )
                for ordinal, (text, start, lemmas, vector) in enumerate(zip(part, offsets, words, vectors, strict=True))
            ],
            batch_size=1000,
        )
        lexicon.insert_postings(
            [
                row
                for chunk, lemmas in zip(chunks, words, strict=True)
                for row in lexicon.postings_rows(project.pk, chunk.id, lemmas)
            ]
        )
    lexicon.refresh_term_stats(project.pk)


def measure(project, texts: list[str]) -> dict[str, object]:
    """Czasy `retrieval.search` w trzech trybach; osobno samo zapytanie SQL (bez wektora zapytania i lematów)."""
    from rag import retrieval

    sql_times: list[float] = []
    execute = retrieval._execute

    def timed(sql, params):  # type: ignore[no-untyped-def]
        began = time.perf_counter()
        try:
            return execute(sql, params)
        finally:
            sql_times.append(time.perf_counter() - began)

    retrieval._execute = timed  # type: ignore[assignment]
    try:
        for text in texts[:20]:
            retrieval.search(project, text)  # rozgrzewka: słowniki simplemma, wordllama, bufory
        result = {}
        for mode in ("hybrid", "lexical", "vector"):
            sql_times.clear()
            times, counts = [], []
            for text in texts:
                began = time.perf_counter()
                counts.append(len(retrieval.search(project, text, k=10, mode=mode)))
                times.append(time.perf_counter() - began)
            result[mode] = {
                "end_to_end": summary_ms(times),
                "sql": summary_ms(sql_times),
                "min_hits": min(counts),
            }
    finally:
        retrieval._execute = execute  # type: ignore[assignment]
    return result


def main() -> None:
    """Wczytuje 2 × 20 000 fragmentów, VACUUM ANALYZE, mierzy i drukuje jedną linię JSON."""
    rng = random.Random(2026)
    pool = sentences()
    with django_world(SIGHT_LLM_PROVIDER="offline"):
        from django.db import connection

        from rag import retrieval
        from rag.ingest import ensure_vector_index
        from rag.models import Chunk
        from sight.demo import seed_demo
        from sight.models import Project

        flush_redis()
        user, project = seed_demo()
        other = Project.objects.create(owner=user, name="Inny projekt")
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS chunk_embedding_hnsw_256")
        load(other, passages(pool, PER_PROJECT, rng))
        load(project, passages(pool, PER_PROJECT, rng))
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
        ensure_vector_index(256)
        load_s = time.perf_counter() - started
        with connection.cursor() as cursor:
            for table in ("rag_chunk", "rag_posting", "rag_termstat", "rag_lexiconstat", "rag_document"):
                cursor.execute(f"VACUUM ANALYZE {table}")
        texts = queries(pool, rng)
        modes = measure(project, texts)
        plan = retrieval.explain(project, texts[0])
        totals = {"project_chunks": Chunk.objects.filter(project=project).count(), "all_chunks": Chunk.objects.count()}
    p95 = modes["hybrid"]["end_to_end"]["p95_ms"]
    emit(
        {
            "benchmark": "rag_search_latency",
            **totals,
            "searches": len(texts),
            "load_s": round(load_s, 1),
            **modes,
            "vector_index_used": "chunk_embedding_hnsw_" in plan,
            "target_p95_ms": TARGET_P95_MS,
            "ok": p95 <= TARGET_P95_MS,
        }
    )
    print(plan, file=sys.stderr)  # plan hybrydy na stderr: JSON na stdout zostaje jedną linią


if __name__ == "__main__":
    main()
