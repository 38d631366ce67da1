"""Benchmark: ocena SSR 10 000 odpowiedzi (embeddingi dane, bez ich liczenia) — rozkłady, wartości oczekiwane i
losowanie; cel ≤ 1 s. Wymiary 256 (wordllama offline) i 3072 (gemini-embedding-001)."""

from __future__ import annotations

import time

import numpy as np

from bench.common import emit, summary_ms
from surveys import ssr

ANSWERS, SETS, POINTS, REPEATS = 10_000, 4, 5, 5
TARGET_S = 1.0


def score(responses: np.ndarray, anchors: np.ndarray) -> float:
    """Czas jednej pełnej oceny: rozkłady SSR, wartości oczekiwane i jedno losowanie na odpowiedź."""
    started = time.perf_counter()
    pmfs = ssr.rate(responses, anchors, temperature=0.5)
    ssr.expected_values(pmfs)
    ssr.draw_ratings(pmfs, seed=1)
    return time.perf_counter() - started


def main() -> None:
    """Dla każdego wymiaru: losowe (ziarno) embeddingi odpowiedzi i kotwic, kilka powtórzeń, p50/p95/max."""
    rng = np.random.default_rng(0)
    by_dimension = {}
    for dimension in (256, 3072):
        responses = rng.normal(size=(ANSWERS, dimension))
        anchors = rng.normal(size=(SETS, POINTS, dimension))
        score(responses[:10], anchors)  # rozgrzewka
        by_dimension[str(dimension)] = summary_ms([score(responses, anchors) for _ in range(REPEATS)])
    worst = max(stats["max_ms"] for stats in by_dimension.values()) / 1000
    emit(
        {
            "benchmark": "survey_ssr",
            "answers": ANSWERS,
            "anchor_sets": SETS,
            "points": POINTS,
            "by_dimension": by_dimension,
            "target_s": TARGET_S,
            "ok": worst <= TARGET_S,
        }
    )


if __name__ == "__main__":
    main()
