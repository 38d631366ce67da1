"""Porównanie próby ludzkiej z syntetyczną per pytanie: podobieństwo KS, dystans TV (całkowitej zmienności), średnie.

Wejście to zwykłe rozkłady (liczności albo udziały w kolejności kategorii). Podobieństwo KS = 1 − max |różnica
dystrybuant| ma sens tylko na skali uporządkowanej; dla pytań nominalnych jest None. Przy ≥ 3 pytaniach skalowych
liczymy też korelację Pearsona średnich pozycji (ludzie vs persony), jak „R_xy” w arXiv 2510.08338.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

MIN_ITEMS_FOR_CORRELATION = 3


class QuestionSamples(TypedDict):
    """Rozkłady jednego pytania: ludzie i persony; `values` (liczby kategorii) czyni skalę uporządkowaną."""

    question: str
    human: Sequence[float]
    synthetic: Sequence[float]
    values: NotRequired[Sequence[float] | None]
    segments: NotRequired[Mapping[str, Mapping[str, Sequence[float]]]]


def counts_from_answers(answers: Sequence[Any], categories: Sequence[Any]) -> list[int]:
    """Liczności kategorii (w ich kolejności) z listy odpowiedzi; odpowiedzi spoza kategorii pomija."""
    return [sum(1 for a in answers if a == c) for c in categories]


def compare_distributions(
    human: ArrayLike, synthetic: ArrayLike, *, values: Sequence[float] | None = None
) -> dict[str, Any]:
    """Podobieństwo KS (skale), dystans TV, średnie i ich różnica (persony − ludzie) dla dwóch rozkładów."""
    h, s = np.asarray(human, dtype=np.float64), np.asarray(synthetic, dtype=np.float64)
    if h.shape != s.shape:
        raise ValueError("human and synthetic distributions need the same categories")
    human_base, synthetic_base = float(h.sum()), float(s.sum())
    if not human_base or not synthetic_base:
        empty = dict.fromkeys(("ks_similarity", "total_variation", "mean_difference", "human_mean", "synthetic_mean"))
        return {**empty, "human_base": human_base, "synthetic_base": synthetic_base}
    p, q = h / human_base, s / synthetic_base
    x = None if values is None else np.asarray(values, dtype=np.float64)
    human_mean = None if x is None else float(p @ x)
    synthetic_mean = None if x is None else float(q @ x)
    return {
        "ks_similarity": None if x is None else float(1 - np.abs(np.cumsum(p) - np.cumsum(q)).max()),
        "total_variation": float(np.abs(p - q).sum() / 2),
        "mean_difference": None if x is None else synthetic_mean - human_mean,
        "human_base": round(human_base, 4),  # sumy rozkładów SSR: bez szumu zaokrągleń 1e-6
        "synthetic_base": round(synthetic_base, 4),
        "human_mean": human_mean,
        "synthetic_mean": synthetic_mean,
    }


def compare_survey(questions: Sequence[QuestionSamples]) -> dict[str, Any]:
    """Porównanie per pytanie (i per segment, gdy podane) oraz korelacja średnich przy ≥ 3 pytaniach skalowych."""
    rows = []
    for question in questions:
        values = question.get("values")
        row = {
            "question": question["question"],
            **compare_distributions(question["human"], question["synthetic"], values=values),
        }
        row["segments"] = [
            {"segment": name, **compare_distributions(pair["human"], pair["synthetic"], values=values)}
            for name, pair in question.get("segments", {}).items()
        ]
        rows.append(row)
    return {"questions": rows, "item_means": item_mean_correlation(rows)}


def item_mean_correlation(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Korelacja Pearsona średnich pytań skalowych ludzie vs persony; None przy < 3 pytaniach lub stałych średnich."""
    pairs = [(r["human_mean"], r["synthetic_mean"]) for r in rows if r["human_mean"] is not None]
    if len(pairs) < MIN_ITEMS_FOR_CORRELATION:
        return None
    human, synthetic = np.asarray(pairs).T
    if np.ptp(human) == 0 or np.ptp(synthetic) == 0:
        return {"n_items": len(pairs), "pearson": None, "p_value": None}
    result = stats.pearsonr(human, synthetic)
    return {"n_items": len(pairs), "pearson": float(result.statistic), "p_value": float(result.pvalue)}
