"""Benchmark: polska odmiana w bazie wiedzy — 60 krótkich fragmentów i zapytania tymi samymi słowami w innych formach
(`bench/data/polish_inflection.json`); recall@5 i MRR dla hybrydy, samego BM25 i samych wektorów. Cel: hybryda 1,0.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from bench.common import django_world, emit, flush_redis, summary_ms

DATA = Path(__file__).resolve().parent / "data" / "polish_inflection.json"
K = 5


def load_pairs() -> list[tuple[str, str]]:
    """Pary (fragment, zapytanie) z pliku zbioru."""
    return [(p["passage"], p["query"]) for p in json.loads(DATA.read_text(encoding="utf-8"))["pairs"]]


def markdown(pairs: list[tuple[str, str]]) -> str:
    """Jeden dokument Markdown: każdy fragment pod własnym nagłówkiem, więc każdy to osobny fragment bazy."""
    return "\n\n".join(f"## {index}\n\n{passage}" for index, (passage, _) in enumerate(pairs, start=1))


def main() -> None:
    """Wczytuje zbiór przez zwykłe przyjęcie pliku i zadanie, mierzy trzy tryby i drukuje jedną linię JSON."""
    pairs = load_pairs()
    with django_world(SIGHT_LLM_PROVIDER="offline"):
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.test import override_settings

        from rag import ingest, retrieval
        from sight import jobs
        from sight.demo import seed_demo

        flush_redis()
        user, project = seed_demo()
        with override_settings(MEDIA_ROOT=str(Path("/tmp") / f"bench-media-{time.time_ns()}")):
            upload = SimpleUploadedFile("odmiana.md", markdown(pairs).encode())
            document, _ = ingest.accept_upload(project, upload, user=user)
            jobs.execute(str(document.job_id))
            document.refresh_from_db()
            retrieval.search(project, "rozgrzewka", k=K)
            modes = {}
            for mode in ("hybrid", "lexical", "vector"):
                found, reciprocal, times, missed = 0, 0.0, [], []
                for passage, query in pairs:
                    began = time.perf_counter()
                    hits = retrieval.search(project, query, k=K, mode=mode)
                    times.append(time.perf_counter() - began)
                    texts = [h.text.split("\n\n", 1)[-1] for h in hits]
                    if passage in texts:
                        found += 1
                        reciprocal += 1 / (texts.index(passage) + 1)
                    else:
                        missed.append(query)
                modes[mode] = {
                    "recall@5": round(found / len(pairs), 3),
                    "mrr@5": round(reciprocal / len(pairs), 3),
                    "missed": missed,
                    "latency": summary_ms(times),
                }
    emit(
        {
            "benchmark": "rag_polish",
            "passages": len(pairs),
            "chunks": document.chunk_count,
            "status": document.status,
            **modes,
            "target": {"hybrid_recall@5": 1.0},
            "ok": modes["hybrid"]["recall@5"] == 1.0,
        }
    )


if __name__ == "__main__":
    main()
