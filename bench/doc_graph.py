"""Benchmark grafu dokumentów: ekstrakcja dokumentu ~40 fragmentów (offline, 200 ms na wywołanie, limit roli),
odbudowa grafu dwa razy (te same liczności) i czas pytania do bazy wiedzy (dwa wywołania offline bez opóźnienia, więc
mierzy własny narzut: SQL, szablony Cypher, wyszukiwanie hybrydowe).
"""

from __future__ import annotations

import random
import time

from bench.common import django_world, emit, flush_redis, summary_ms

LATENCY_MS = 200
BRANDS = ["Allegro", "Biedronka", "Orlen", "Żabka", "Rossmann", "Empik", "Lidl", "Pepco"]
CITIES = ["Warszawie", "Krakowie", "Gdańsku", "Poznaniu", "Wrocławiu", "Lublinie"]
NOUNS = ["dostawę", "ceny", "promocje", "aplikację", "obsługę", "jakość", "opakowania", "zwroty"]


def _text(paragraphs: int) -> str:
    rng = random.Random(7)
    out = []
    for _ in range(paragraphs):
        a, b = rng.sample(BRANDS, 2)
        city, noun = rng.choice(CITIES), rng.choice(NOUNS)
        out.append(
            f"Klienci sieci {a} w {city} chwalą {noun}, a sieć {b} konkuruje z nią ceną. "
            f"Badanie pokazuje, że {a} i {b} walczą o tych samych kupujących w {city}. " * 3
        )
    return "\n\n".join(out)


def main() -> None:
    """Wynik jako jedna linia JSON."""
    with django_world(SIGHT_LLM_PROVIDER="offline", SIGHT_OFFLINE_LATENCY_MS=str(LATENCY_MS)):
        from django.conf import settings
        from django.core.files.uploadedfile import SimpleUploadedFile

        import config
        from rag import ask, docgraph, ingest
        from rag import graph as doc_graph
        from rag.models import Chunk
        from sight import graph, jobs
        from sight.models import Job, Project, User

        flush_redis()
        user = User.objects.create_user("bench-docgraph@example.com", "pass-word-123")
        project = Project.objects.create(owner=user, name="Bench graf", target_demographics={})
        document, _ = ingest.accept_upload(project, SimpleUploadedFile("b.txt", _text(40).encode()), user=user)
        jobs.execute(str(document.job_id))
        chunks = Chunk.objects.filter(document=document).count()
        job = Job.objects.filter(kind=docgraph.JOB_KIND, project=project).latest("created_at")
        started = time.monotonic()
        jobs.execute(str(job.id))
        extraction_s = time.monotonic() - started
        job.refresh_from_db()
        concurrency = config.load_models().role(docgraph.ROLE).concurrency
        written = doc_graph.counts(project.id)
        rebuilds = []
        for _ in range(2):
            started = time.monotonic()
            graph.rebuild_from_database(project.id)
            rebuilds.append(time.monotonic() - started)
        same = doc_graph.counts(project.id) == written
        settings.SIGHT_OFFLINE_LATENCY_MS = 0
        timings, cited, with_paths = [], 0, 0
        for i in range(20):
            a, b = BRANDS[i % len(BRANDS)], BRANDS[(i + 3) % len(BRANDS)]
            started = time.monotonic()
            result = ask.ask(project, f"Jak {a} konkuruje z {b} w {CITIES[i % len(CITIES)]}? ({i})")
            timings.append(time.monotonic() - started)
            cited += bool(result.citations)
            with_paths += bool(result.paths)
        graph.delete_project(project.id)
        emit(
            {
                "bench": "doc_graph",
                "chunks": chunks,
                "llm_latency_ms": LATENCY_MS,
                "role_concurrency": concurrency,
                "extraction_s": round(extraction_s, 2),
                "extraction_chunks_per_s": round(chunks / extraction_s, 2),
                "critical_path_s": round(-(-chunks // concurrency) * LATENCY_MS / 1000, 2),
                "extraction": {k: job.result.get(k) for k in ("done", "skipped", "graph")},
                "graph": written,
                "rebuild_s": [round(r, 3) for r in rebuilds],
                "rebuild_same_counts": same,
                "ask_offline_no_latency": summary_ms(timings),
                "answers_with_citations": cited,
                "answers_with_paths": with_paths,
            }
        )


if __name__ == "__main__":
    main()
