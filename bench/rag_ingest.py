"""Benchmark: przepustowość przetwarzania dokumentów bazy wiedzy (fragmenty na sekundę) i udział etapów — odczyt
w procesie potomnym, lematy, wektory (embedder offline), zapis z indeksami — na PDF, DOCX, TXT i Markdown po polsku
i angielsku, przez zwykłe przyjęcie pliku i zadanie przetwarzania (wykonywane w tym procesie).
"""

from __future__ import annotations

import io
import json
import random
import time
from pathlib import Path

from bench.common import django_world, emit, flush_redis
from bench.rag_search_latency import sentences

POLISH = Path(__file__).resolve().parent / "data" / "polish_inflection.json"
DOCUMENTS_PER_KIND, PAGES, CHARS_PER_PAGE = 3, 12, 3000
STAGES = ("parse", "lemmatise", "embed", "index")


def pages_of(pool: list[str], rng: random.Random) -> list[str]:
    """Strony tekstu po ok. `CHARS_PER_PAGE` znaków z losowych zdań."""
    out = []
    for _ in range(PAGES):
        page = ""
        while len(page) < CHARS_PER_PAGE:
            page += rng.choice(pool).rstrip(".") + ". "
        out.append(page.strip())
    return out


def render(kind: str, pages: list[str]) -> bytes:
    """Plik danego typu z podanymi stronami."""
    if kind == "pdf":
        import font_lato
        from fpdf import FPDF

        pdf = FPDF()
        pdf.add_font("Lato", "", str(Path(font_lato.__file__).parent / "files" / "Lato-Regular.ttf"))
        for text in pages:
            pdf.add_page()
            pdf.set_font("Lato", size=9)
            pdf.multi_cell(0, 4, text=text)
        return bytes(pdf.output())
    if kind == "docx":
        import docx

        document = docx.Document()
        for text in pages:
            document.add_paragraph(text)
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()
    if kind == "md":
        return "\n\n".join(f"## Część {i}\n\n{t}" for i, t in enumerate(pages, start=1)).encode()
    return "\n\n".join(pages).encode()


def main() -> None:
    """Przetwarza 24 dokumenty (4 typy × 2 języki × 3) i drukuje jedną linię JSON."""
    rng = random.Random(11)
    pools = {
        "en": sentences(),
        "pl": [p["passage"] for p in json.loads(POLISH.read_text(encoding="utf-8"))["pairs"]],
    }
    with django_world(SIGHT_LLM_PROVIDER="offline"):
        from django.core.files.uploadedfile import SimpleUploadedFile
        from django.test import override_settings

        from rag import ingest, lexicon
        from rag.models import Document
        from sight import jobs
        from sight.demo import seed_demo
        from sight.llm import build_embeddings

        flush_redis()
        user, project = seed_demo()
        lexicon.warm_up()
        build_embeddings().embed_documents(["rozgrzewka"])  # wczytanie modelu wordllama poza pomiarem
        files = [
            (kind, language, render(kind, pages_of(pools[language], rng)))
            for kind in ("pdf", "docx", "txt", "md")
            for language in ("pl", "en")
            for _ in range(DOCUMENTS_PER_KIND)
        ]
        stages = dict.fromkeys(STAGES, 0.0)
        per_kind: dict[str, dict[str, float]] = {}
        total_chunks, total_s = 0, 0.0
        with override_settings(MEDIA_ROOT=f"/tmp/bench-media-{time.time_ns()}"):
            for number, (kind, language, data) in enumerate(files):
                upload = SimpleUploadedFile(f"d{number}.{kind}", data)
                document, _ = ingest.accept_upload(project, upload, user=user)
                began = time.perf_counter()
                jobs.execute(str(document.job_id))
                elapsed = time.perf_counter() - began
                document.refresh_from_db()
                assert document.status == Document.Status.READY, (kind, document.failure_code)
                total_chunks += document.chunk_count
                total_s += elapsed
                for stage in STAGES:
                    stages[stage] += document.timings.get(stage, 0.0)
                for key in (kind, language):
                    row = per_kind.setdefault(key, {"chunks": 0, "seconds": 0.0})
                    row["chunks"] += document.chunk_count
                    row["seconds"] += elapsed
    emit(
        {
            "benchmark": "rag_ingest",
            "documents": len(files),
            "chunks": total_chunks,
            "seconds": round(total_s, 2),
            "chunks_per_s": round(total_chunks / total_s, 1),
            "share": {
                **{stage: round(seconds / total_s, 3) for stage, seconds in stages.items()},
                "other": round(1 - sum(stages.values()) / total_s, 3),
            },
            "stage_seconds": {stage: round(seconds, 2) for stage, seconds in stages.items()},
            "chunks_per_s_by_kind_and_language": {k: round(v["chunks"] / v["seconds"], 1) for k, v in per_kind.items()},
        }
    )


if __name__ == "__main__":
    main()
