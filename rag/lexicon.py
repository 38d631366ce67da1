"""Indeks leksykalny: wykrywanie języka, lematy (simplemma, pl/en) i statystyki BM25 projektu w PostgreSQL."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from django.db import connection, transaction

LANGUAGES = ("pl", "en")
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)
MAX_TERM = 100


def tokens(text: str) -> list[str]:
    """Słowa tekstu małymi literami (litery i cyfry; łączniki i apostrofy w środku słowa zostają)."""
    return [w for w in (m.group().lower() for m in _WORD.finditer(text)) if 1 < len(w) <= MAX_TERM]


def detect_language(text: str) -> str:
    """Język tekstu spośród pl/en (simplemma); przy braku sygnału „en”."""
    import simplemma

    scores = dict(simplemma.langdetect(text[:5000], lang=LANGUAGES))
    best = max(LANGUAGES, key=lambda lang: scores.get(lang, 0.0))
    return best if scores.get(best, 0.0) > 0 else "en"


def lemmas(text: str, language: str) -> list[str]:
    """Lematy słów tekstu w danym języku, w kolejności wystąpień (powtórzenia zostają: to tf w BM25)."""
    import simplemma

    lang = language if language in LANGUAGES else "en"
    return [simplemma.lemmatize(word, lang=lang).lower()[:MAX_TERM] for word in tokens(text)]


def warm_up() -> None:
    """Wczytuje słowniki simplemma obu języków (przy pierwszym użyciu to sekundy CPU)."""
    for language in LANGUAGES:
        lemmas("test", language)
    detect_language("test")


def query_terms(text: str) -> list[str]:
    """Lematy zapytania w obu językach bez powtórzeń: zapytanie bywa za krótkie, żeby pewnie wykryć język."""
    seen: dict[str, None] = {}
    for language in LANGUAGES:
        for term in lemmas(text, language):
            seen.setdefault(term, None)
    return list(seen)


def postings_rows(project_id: object, chunk_id: int, chunk_lemmas: Iterable[str]) -> list[tuple[object, ...]]:
    """Wiersze indeksu odwróconego jednego fragmentu: (projekt, fragment, lemat, tf, długość fragmentu)."""
    counts = Counter(chunk_lemmas)
    length = sum(counts.values())
    return [(project_id, chunk_id, term, tf, length) for term, tf in counts.items()]


def insert_postings(rows: list[tuple[object, ...]]) -> None:
    """Zapisuje wiersze indeksu odwróconego jednym COPY (szybciej niż INSERT przy tysiącach lematów)."""
    if not rows:
        return
    with connection.cursor() as cursor:
        with cursor.cursor.copy("COPY rag_posting (project_id, chunk_id, term, tf, length) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def refresh_term_stats(project_id: object) -> None:
    """Przelicza df i IDF lematów oraz N i avgdl projektu; blokada doradcza szereguje równoległe przeliczenia."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('rag.termstat:' || %s::text))", [str(project_id)])
        cursor.execute(
            """
            INSERT INTO rag_lexiconstat (project_id, chunks, avg_length)
            SELECT %(p)s, count(*), coalesce(avg(length), 0) FROM rag_chunk WHERE project_id = %(p)s
            ON CONFLICT (project_id) DO UPDATE SET chunks = EXCLUDED.chunks, avg_length = EXCLUDED.avg_length
            """,
            {"p": project_id},
        )
        cursor.execute("DELETE FROM rag_termstat WHERE project_id = %s", [project_id])
        # IDF BM25 (wariant Lucene, zawsze dodatni): ln(1 + (N - df + 0.5) / (df + 0.5)).
        cursor.execute(
            """
            INSERT INTO rag_termstat (project_id, term, df, idf)
            SELECT %(p)s, term, count(*),
                   ln(1 + ((SELECT chunks FROM rag_lexiconstat WHERE project_id = %(p)s) - count(*) + 0.5)
                          / (count(*) + 0.5))
            FROM rag_posting WHERE project_id = %(p)s GROUP BY term
            """,
            {"p": project_id},
        )
