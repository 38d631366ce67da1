"""Tabele krzyżowe (banner tables): wiersze = kategorie odpowiedzi, kolumny = grupy (kategoria demograficzna, segment).

Procenty kolumnowe z bazami, chi-kwadrat całej tabeli i V Craméra (najpierw wielkość efektu), testy z proporcji
kolumn dla każdej pary kolumn w każdym wierszu z literami istotności: wielka litera kolumny, od której komórka jest
istotnie wyższa na poziomie 95 %, mała — na 90 %. Poprawka na wielokrotne porównania: Holm w obrębie wiersza (rodzina =
pary testowanych kolumn), kolumny o bazie < 30 nie są testowane. Przy respondentach syntetycznych n wybiera badacz,
więc wartości p opisują symulator, nie populację — wynik zawsze niesie ten kod ostrzeżenia.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

MIN_BASE = 30
LEVELS = {"upper": 0.05, "lower": 0.10}
SYNTHETIC_WARNING = "synthetic_n_chosen_by_researcher"


def count_table(
    answers: Sequence[Hashable],
    groups: Sequence[Hashable],
    *,
    rows: Sequence[Hashable],
    columns: Sequence[Hashable],
    weights: Sequence[float] | None = None,
) -> NDArray[np.float64]:
    """Liczności (wiersze × kolumny) z par (odpowiedź, grupa) respondentów; spoza list pomijane. `weights` to
    liczności par już zliczonych w bazie (domyślnie każda para raz).
    """
    row_index = {r: i for i, r in enumerate(rows)}
    column_index = {c: j for j, c in enumerate(columns)}
    table = np.zeros((len(rows), len(columns)))
    weights = [1.0] * len(answers) if weights is None else weights
    for answer, group, weight in zip(answers, groups, weights, strict=True):
        if answer in row_index and group in column_index:
            table[row_index[answer], column_index[group]] += weight
    return table


def pmf_table(pmfs: ArrayLike, groups: Sequence[Hashable], *, columns: Sequence[Hashable]) -> NDArray[np.float64]:
    """Liczności ułamkowe (punkty skali × kolumny) z rozkładów SSR respondentów: suma rozkładów w każdej grupie."""
    matrix = np.atleast_2d(np.asarray(pmfs, dtype=np.float64))
    membership = np.asarray([[g == c for c in columns] for g in groups], dtype=np.float64).reshape(-1, len(columns))
    return matrix.T @ membership


def column_letters(count: int) -> list[str]:
    """Litery kolumn A, B, …, Z, AA, AB, …"""
    letters = []
    for i in range(count):
        name, i = "", i + 1
        while i:
            i, rest = divmod(i - 1, 26)
            name = chr(ord("A") + rest) + name
        letters.append(name)
    return letters


def chi_square(table: ArrayLike) -> dict[str, Any]:
    """Chi-kwadrat niezależności całej tabeli (bez poprawki Yatesa) i V Craméra; puste wiersze i kolumny pomija."""
    observed = np.asarray(table, dtype=np.float64)
    observed = observed[observed.sum(axis=1) > 0][:, observed.sum(axis=0) > 0]
    n = float(observed.sum())
    if min(observed.shape) < 2:
        return {"cramers_v": None, "chi2": None, "dof": 0, "p_value": None, "n": n}
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / n
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    dof = (observed.shape[0] - 1) * (observed.shape[1] - 1)
    return {
        "cramers_v": (chi2 / (n * (min(observed.shape) - 1))) ** 0.5,
        "chi2": chi2,
        "dof": dof,
        "p_value": float(stats.chi2.sf(chi2, dof)),
        "n": n,
    }


def proportion_z_test(count_a: float, base_a: float, count_b: float, base_b: float) -> float:
    """Dwustronne p testu z dwóch proporcji z łączoną wariancją; identyczne proporcje 0 % albo 100 % → 1."""
    pooled = (count_a + count_b) / (base_a + base_b)
    se = (pooled * (1 - pooled) * (1 / base_a + 1 / base_b)) ** 0.5
    if se == 0:
        return 1.0
    z = (count_a / base_a - count_b / base_b) / se
    return float(2 * stats.norm.sf(abs(z)))


def holm(p_values: Sequence[float]) -> list[float]:
    """P skorygowane metodą Holma (kontrola FWER, mocniejsza od Bonferroniego), w kolejności wejścia."""
    m = len(p_values)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(sorted(range(m), key=lambda k: p_values[k])):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def banner_table(
    table: ArrayLike,
    *,
    rows: Sequence[Hashable],
    columns: Sequence[Hashable],
    min_base: int = MIN_BASE,
    synthetic: bool = True,
) -> dict[str, Any]:
    """Tabela banerowa z liczności (wiersze × kolumny): efekt, test tabeli, kolumny z bazami, komórki z literami."""
    counts = np.asarray(table, dtype=np.float64)
    if counts.shape != (len(rows), len(columns)):
        raise ValueError(f"table shape {counts.shape} does not match {len(rows)} rows × {len(columns)} columns")
    bases = counts.sum(axis=0)
    letters = column_letters(len(columns))
    tested = [j for j in range(len(columns)) if bases[j] >= min_base]
    whole = chi_square(counts)
    return {
        "effect_sizes": {"cramers_v": whole.pop("cramers_v")},
        "chi_square": whole,
        "warnings": [SYNTHETIC_WARNING] if synthetic else [],
        "significance": {
            "test": "column_proportions_z_pooled",
            "correction": "holm",
            "family": "column_pairs_within_row",
            "alpha": LEVELS,
            "min_base": min_base,
        },
        "columns": [
            # Baza z sumy rozkładów SSR (każdy zaokrąglony do 6 miejsc) to liczba respondentów z szumem rzędu 1e-6.
            {"key": key, "letter": letters[j], "base": round(float(bases[j]), 4), "tested": j in tested}
            for j, key in enumerate(columns)
        ],
        "rows": [{"key": key, "cells": _row_cells(counts[i], bases, tested, letters)} for i, key in enumerate(rows)],
    }


def _row_cells(
    counts: NDArray[np.float64], bases: NDArray[np.float64], tested: list[int], letters: list[str]
) -> list[dict[str, Any]]:
    """Komórki wiersza: liczność, % kolumnowy i litery kolumn, od których komórka jest istotnie wyższa."""
    pairs = list(itertools.combinations(tested, 2))
    adjusted = holm([proportion_z_test(counts[a], bases[a], counts[b], bases[b]) for a, b in pairs])
    higher: dict[int, list[tuple[int, str]]] = {j: [] for j in range(len(counts))}
    for (a, b), p in zip(pairs, adjusted, strict=True):
        if p >= LEVELS["lower"] or counts[a] / bases[a] == counts[b] / bases[b]:
            continue
        winner, loser = (a, b) if counts[a] / bases[a] > counts[b] / bases[b] else (b, a)
        letter = letters[loser] if p < LEVELS["upper"] else letters[loser].lower()
        higher[winner].append((loser, letter))
    return [
        {
            "count": float(counts[j]),
            "percent": 100.0 * counts[j] / bases[j] if bases[j] else None,
            "higher_than": "".join(letter for _, letter in sorted(higher[j])),
        }
        for j in range(len(counts))
    ]
