"""Statystyki opisowe pytań ankiety: skale (z rozkładów SSR albo wyborów), wybór, NPS, Van Westendorp, ranking.

Funkcje czyste: dostają listy odpowiedzi, zwracają słowniki z kodami i liczbami (bez zdań — tłumaczy je interfejs).
Procenty są w skali 0–100, udziały na krzywych Van Westendorpa w skali 0–1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

NPS_PROMOTERS = (9, 10)
NPS_DETRACTORS = range(0, 7)
VW_QUESTIONS = ("too_cheap", "cheap", "expensive", "too_expensive")
# Pary krzywych przecinanych w każdym punkcie (konwencja powszechna w praktyce, nie oryginał van Westendorpa z 1976,
# który dla PMC i PME używał „nie tanio” = 1 − tanio i „nie drogo” = 1 − drogo).
VW_INTERSECTIONS = {
    "pmc": ("too_cheap", "expensive"),
    "opp": ("too_cheap", "too_expensive"),
    "ipp": ("cheap", "expensive"),
    "pme": ("cheap", "too_expensive"),
}


def _percent(count: float, base: float) -> float:
    return 100.0 * count / base if base else 0.0


# --- skale ---------------------------------------------------------------------------------------------------------


def scale_counts(points: int, *, pmfs: ArrayLike | None = None, picks: Sequence[int] | None = None) -> NDArray[Any]:
    """Liczności punktów 1…n: suma rozkładów SSR (liczności ułamkowe) albo zliczenie bezpośrednich wyborów."""
    if (pmfs is None) == (picks is None):
        raise ValueError("give either pmfs or picks")
    if pmfs is not None:
        matrix = np.asarray(pmfs, dtype=np.float64).reshape(-1, points)
        return matrix.sum(axis=0)
    values = np.asarray(picks, dtype=np.int64)
    if values.size and (values.min() < 1 or values.max() > points):
        raise ValueError(f"picks must be between 1 and {points}")
    return np.bincount(values, minlength=points + 1)[1:].astype(np.float64)


def weighted_median(values: ArrayLike, counts: ArrayLike) -> float | None:
    """Mediana rozkładu dyskretnego; przy skumulowanym udziale równym dokładnie 1/2 średnia sąsiednich wartości."""
    x, w = np.asarray(values, dtype=np.float64), np.asarray(counts, dtype=np.float64)
    keep = w > 0
    x, w = x[keep], w[keep]
    if not w.size:
        return None
    cumulative = np.cumsum(w) / w.sum()
    i = int(np.searchsorted(cumulative, 0.5 - 1e-12))
    # Tak jak np.median przy parzystym n: połowa obserwacji do i włącznie, więc średnia z następną wartością.
    if abs(cumulative[i] - 0.5) < 1e-12 and i + 1 < x.size:
        return float((x[i] + x[i + 1]) / 2)
    return float(x[i])


def describe_scale(counts: ArrayLike, *, box: int = 2, values: ArrayLike | None = None) -> dict[str, Any]:
    """Baza, liczności i %, średnia, mediana, SD (n − 1), top- i bottom-box skali o punktach 1…n (albo `values`)."""
    c = np.asarray(counts, dtype=np.float64)
    x = np.arange(1, c.size + 1, dtype=np.float64) if values is None else np.asarray(values, dtype=np.float64)
    base = float(c.sum())
    mean = float(c @ x / base) if base else None
    variance = float(c @ (x - mean) ** 2 / (base - 1)) if base > 1 and mean is not None else None
    return {
        "base": base,
        "counts": [
            {"value": float(v), "count": float(n), "percent": _percent(n, base)} for v, n in zip(x, c, strict=True)
        ],
        "mean": mean,
        "median": weighted_median(x, c),
        "sd": None if variance is None else variance**0.5,
        "top_box": {"points": [float(v) for v in x[-box:]], "percent": _percent(c[-box:].sum(), base)},
        "bottom_box": {"points": [float(v) for v in x[:box]], "percent": _percent(c[:box].sum(), base)},
    }


def describe_rating(
    points: int, *, pmfs: ArrayLike | None = None, picks: Sequence[int] | None = None
) -> dict[str, Any]:
    """Pytanie skalowe: metoda (ssr z rozkładów albo direct z wyborów), baza = liczba respondentów i opis skali."""
    counts = scale_counts(points, pmfs=pmfs, picks=picks)
    respondents = len(picks) if picks is not None else int(np.asarray(pmfs).reshape(-1, points).shape[0])
    return {"method": "direct" if pmfs is None else "ssr", **describe_scale(counts), "base": respondents}


# --- wybór -----------------------------------------------------------------------------------------------------------


def describe_single_choice(picks: Sequence[str], options: Sequence[str]) -> dict[str, Any]:
    """Pytanie jednokrotnego wyboru: baza, liczności i % odpowiadających na opcję (w kolejności opcji)."""
    unknown = sorted(set(picks) - set(options))
    if unknown:
        raise ValueError(f"unknown options: {', '.join(unknown)}")
    base = len(picks)
    return {
        "base": base,
        "options": [{"option": o, "count": picks.count(o), "percent": _percent(picks.count(o), base)} for o in options],
    }


def describe_multiple_choice(selections: Sequence[Sequence[str]], options: Sequence[str]) -> dict[str, Any]:
    """Wielokrotny wybór: % respondentów, którzy wskazali opcję (suma bywa > 100), średnio wskazań na osobę."""
    counts = dict.fromkeys(options, 0)
    for chosen in selections:
        for option in set(chosen):
            if option not in counts:
                raise ValueError(f"unknown option: {option}")
            counts[option] += 1
    base = len(selections)
    mentions = sum(counts.values())
    return {
        "base": base,
        "percent_of": "respondents",
        "options": [{"option": o, "count": n, "percent": _percent(n, base)} for o, n in counts.items()],
        "mean_selected": mentions / base if base else None,
    }


def describe_ranking(rankings: Sequence[Sequence[str]], options: Sequence[str]) -> dict[str, Any]:
    """Ranking (każda lista: opcje od miejsca 1): średnia pozycja wśród rankujących opcję, % na pierwszym miejscu.

    Opcje posortowane od najlepszej średniej pozycji; ranking częściowy liczy opcję tylko tam, gdzie ją ustawiono.
    """
    ranks: dict[str, list[int]] = {o: [] for o in options}
    for ranking in rankings:
        if len(set(ranking)) != len(ranking):
            raise ValueError("an option is ranked twice")
        for position, option in enumerate(ranking, start=1):
            if option not in ranks:
                raise ValueError(f"unknown option: {option}")
            ranks[option].append(position)
    base = len(rankings)
    rows = [
        {
            "option": o,
            "base": len(r),
            "mean_rank": float(np.mean(r)) if r else None,
            "first_percent": _percent(r.count(1), base),
        }
        for o, r in ranks.items()
    ]
    rows.sort(key=lambda row: (row["mean_rank"] is None, row["mean_rank"] or 0))
    return {"base": base, "options": rows}


# --- NPS -------------------------------------------------------------------------------------------------------------


def net_promoter_score(scores: Sequence[int]) -> dict[str, Any]:
    """NPS z ocen 0–10: % promotorów (9–10) − % krytyków (0–6), wynik w przedziale [−100, 100]."""
    values = np.asarray(scores, dtype=np.int64)
    if values.size and (values.min() < 0 or values.max() > 10):
        raise ValueError("NPS scores must be between 0 and 10")
    base = int(values.size)
    promoters = int(np.isin(values, NPS_PROMOTERS).sum())
    detractors = int((values <= max(NPS_DETRACTORS)).sum())
    passives = base - promoters - detractors
    return {
        "nps": _percent(promoters, base) - _percent(detractors, base) if base else None,
        "base": base,
        "promoters": {"count": promoters, "percent": _percent(promoters, base)},
        "passives": {"count": passives, "percent": _percent(passives, base)},
        "detractors": {"count": detractors, "percent": _percent(detractors, base)},
        "counts": np.bincount(values, minlength=11).tolist(),
    }


# --- Van Westendorp --------------------------------------------------------------------------------------------------


def van_westendorp(
    too_cheap: Sequence[float], cheap: Sequence[float], expensive: Sequence[float], too_expensive: Sequence[float]
) -> dict[str, Any]:
    """Price Sensitivity Meter: krzywe skumulowane na siatce podanych cen, punkty PMC, OPP, IPP, PME i zakres cen.

    Krzywe „za tanio” i „tanio” to udział odpowiedzi ≥ cena (malejące), „drogo” i „za drogo” udział ≤ cena (rosnące);
    przecięcie to pierwsza zmiana znaku różnicy, interpolowana liniowo między sąsiednimi cenami. Respondenci, których
    cztery odpowiedzi nie są uporządkowane (za tanio ≤ tanio ≤ drogo ≤ za drogo), są pomijani i policzeni.
    """
    answers = np.asarray([too_cheap, cheap, expensive, too_expensive], dtype=np.float64)
    ordered = np.all(np.diff(answers, axis=0) >= 0, axis=0)
    kept = answers[:, ordered]
    prices = np.unique(kept)
    n = max(kept.shape[1], 1)
    # Udziały ≥ i ≤ ceny z posortowanych odpowiedzi (wyszukiwanie binarne): O((ceny + n) log n), nie ceny × n.
    ordered_answers = np.sort(kept, axis=1)

    def share_ge(row: int) -> NDArray[Any]:
        return (kept.shape[1] - np.searchsorted(ordered_answers[row], prices, side="left")) / n

    def share_le(row: int) -> NDArray[Any]:
        return np.searchsorted(ordered_answers[row], prices, side="right") / n

    curves = {"too_cheap": share_ge(0), "cheap": share_ge(1), "expensive": share_le(2), "too_expensive": share_le(3)}
    points = {
        name: _crossing(prices, curves[falling], curves[rising]) if prices.size else None
        for name, (falling, rising) in VW_INTERSECTIONS.items()
    }
    acceptable = {"low": points["pmc"], "high": points["pme"]} if None not in (points["pmc"], points["pme"]) else None
    return {
        "base": int(ordered.sum()),
        "excluded_unordered": int((~ordered).sum()),
        "convention": "common_practice",
        "intersections": {name: list(pair) for name, pair in VW_INTERSECTIONS.items()},
        "curve_rule": {
            "too_cheap": "share_ge",
            "cheap": "share_ge",
            "expensive": "share_le",
            "too_expensive": "share_le",
        },
        "points": points,
        "acceptable_range": acceptable,
        "curves": {"prices": prices.tolist(), **{k: v.tolist() for k, v in curves.items()}},
    }


def _crossing(prices: NDArray[Any], falling: NDArray[Any], rising: NDArray[Any]) -> float | None:
    """Cena, przy której krzywa malejąca pierwszy raz schodzi do rosnącej (interpolacja liniowa); brak → None."""
    gap = falling - rising
    if gap[0] <= 0:
        return float(prices[0]) if gap[0] == 0 else None
    below = np.nonzero(gap <= 0)[0]
    if not below.size:
        return None
    i = int(below[0])
    if gap[i] == 0:
        return float(prices[i])
    fraction = gap[i - 1] / (gap[i - 1] - gap[i])
    return float(prices[i - 1] + fraction * (prices[i] - prices[i - 1]))
