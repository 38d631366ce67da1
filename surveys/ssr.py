"""Semantic Similarity Rating (arXiv 2510.08338): zdanie intencji → rozkład prawdopodobieństwa na punktach skali.

Wzór (równania 7–9 artykułu): dla każdego zestawu kotwic liczymy cosinus odpowiedzi z każdą kotwicą, odejmujemy
najmniejszy, ε dodajemy tylko do punktu najmniej podobnego, normalizujemy; rozkłady zestawów uśredniamy (równe wagi),
a dopiero potem stosujemy temperaturę `p^(1/T)` (jak kod referencyjny). Konwencja: surowy cosinus, nie `(1 + cos)/2`
— przy ε > 0 daje to inny wynik, więc jest przypięta testem na złotym przykładzie.

Funkcje są czyste i wektorowe: embeddingi dostają gotowe (numpy), nie wołają LLM ani bazy.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

import config

type Embedder = Callable[[list[str]], Sequence[Sequence[float]]]
type FloatArray = NDArray[np.float64]

METHOD = "ssr"


def _unit(vectors: ArrayLike) -> FloatArray:
    """Wektory znormalizowane do długości 1 po ostatniej osi; wektor zerowy to błąd (cosinus nieokreślony)."""
    array = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(array, axis=-1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("zero-length embedding: cosine similarity is undefined")
    return array / norms


def similarities(responses: ArrayLike, anchors: ArrayLike) -> FloatArray:
    """Cosinusy odpowiedzi (m, d) z kotwicami (zestawy, punkty, d) → tablica (m, zestawy, punkty)."""
    vectors = np.atleast_2d(np.asarray(responses, dtype=np.float64))
    unit_anchors = _unit(anchors)
    sets, points, dimension = unit_anchors.shape
    # Iloczyny przez BLAS, potem dzielenie przez normy: bez kopii znormalizowanej macierzy (m × d bywa 10⁴ × 3072).
    dots = vectors @ unit_anchors.reshape(sets * points, dimension).T
    norms = np.sqrt(np.einsum("md,md->m", vectors, vectors))
    if np.any(norms == 0):
        raise ValueError("zero-length embedding: cosine similarity is undefined")
    return (dots / norms[:, None]).reshape(-1, sets, points)


def set_pmfs(cosines: ArrayLike, *, epsilon: float = 0.0) -> FloatArray:
    """Rozkłady per zestaw z cosinusów (..., punkty): odjęcie minimum, ε tylko na argmin, normalizacja."""
    gamma = np.asarray(cosines, dtype=np.float64)
    if epsilon < 0:
        raise ValueError("epsilon must be non-negative")
    shifted = gamma - gamma.min(axis=-1, keepdims=True)
    # Delta Kroneckera: ε trafia do jednego punktu — pierwszego najmniej podobnego, gdy minimum jest remisem.
    spread = shifted.sum(axis=-1, keepdims=True)
    argmin = gamma.argmin(axis=-1)
    np.put_along_axis(shifted, argmin[..., None], epsilon, axis=-1)
    total = spread + epsilon
    # Wszystkie kotwice jednakowo podobne: odpowiedź nic nie mówi, więc rozkład jednostajny (a nie cała masa ε na
    # przypadkowym „argmin” z remisu).
    uniform = np.full_like(shifted, 1.0 / shifted.shape[-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(spread > 0, shifted / np.where(total > 0, total, 1.0), uniform)


def apply_temperature(pmfs: ArrayLike, temperature: float) -> FloatArray:
    """Temperatura `p^(1/T)` znormalizowana; T = 0 to granica: masa równo na punktach maksymalnych."""
    p = np.asarray(pmfs, dtype=np.float64)
    if temperature < 0:
        raise ValueError("temperature must be non-negative")
    if temperature == 1:
        return p
    if temperature == 0:
        top = (p == p.max(axis=-1, keepdims=True)).astype(np.float64)
        return top / top.sum(axis=-1, keepdims=True)
    # W logarytmach, żeby małe T nie dawało 0/0 przez niedomiar.
    with np.errstate(divide="ignore"):
        logits = np.log(p) / temperature
    logits -= logits.max(axis=-1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=-1, keepdims=True)


def rate(responses: ArrayLike, anchors: ArrayLike, *, temperature: float = 1.0, epsilon: float = 0.0) -> FloatArray:
    """Rozkłady SSR (m, punkty) dla embeddingów odpowiedzi (m, d) i embeddingów kotwic (zestawy, punkty, d)."""
    per_set = set_pmfs(similarities(responses, anchors), epsilon=epsilon)
    return apply_temperature(per_set.mean(axis=1), temperature)


def expected_values(pmfs: ArrayLike) -> FloatArray:
    """Wartość oczekiwana każdego rozkładu na skali 1…n."""
    p = np.atleast_2d(np.asarray(pmfs, dtype=np.float64))
    return p @ np.arange(1, p.shape[-1] + 1, dtype=np.float64)


def draw_ratings(pmfs: ArrayLike, *, seed: int) -> NDArray[np.int64]:
    """Jedno losowanie punktu skali (1…n) z każdego rozkładu, powtarzalne dla danego ziarna (eksport respondentów)."""
    p = np.atleast_2d(np.asarray(pmfs, dtype=np.float64))
    uniforms = np.random.default_rng(seed).random(p.shape[0])
    cumulative = np.cumsum(p, axis=-1)
    # Ostatni punkt to 1.0 niezależnie od zaokrągleń, żeby losowanie nie wyszło poza skalę.
    cumulative[:, -1] = 1.0
    # „≤”: punkt o zerowym prawdopodobieństwie ma pusty przedział [F(k−1), F(k)), więc nigdy nie wypada.
    return (cumulative <= uniforms[:, None]).sum(axis=-1) + 1


# --- kotwice i drabina -----------------------------------------------------------------------------------------------


def anchor_set_hash(statements: Sequence[str]) -> str:
    """Skrót treści jednego zestawu kotwic (wersja zestawu): sha256 z listy zdań w kolejności punktów."""
    payload = json.dumps(list(statements), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def anchors_version(sets: Sequence[Sequence[str]]) -> str:
    """Wersja rodziny zestawów: skrót ze skrótów zestawów (12 znaków do zapisu przy każdej odpowiedzi)."""
    joined = "\n".join(anchor_set_hash(s) for s in sets)
    return hashlib.sha256(joined.encode("ascii")).hexdigest()[:12]


def embed_anchor_sets(embedder: Embedder, sets: Sequence[Sequence[str]]) -> FloatArray:
    """Embeddingi kotwic jednym wywołaniem embeddera → tablica (zestawy, punkty, d)."""
    points = {len(s) for s in sets}
    if len(points) != 1:
        raise ValueError("all anchor sets must have the same number of points")
    flat = [statement for s in sets for statement in s]
    vectors = np.asarray(embedder(flat), dtype=np.float64)
    return vectors.reshape(len(sets), points.pop(), -1)


def score_ladder(
    embedder: Embedder,
    ladder: Sequence[tuple[int, str]],
    sets: Sequence[Sequence[str]],
    *,
    temperature: float = 1.0,
    epsilon: float = 0.0,
) -> dict[str, Any]:
    """Ocena drabiny (poziom, zdanie) metodą SSR: korelacja Spearmana wartości oczekiwanych z prawdziwymi poziomami.

    Zwraca też Spearmana każdego zestawu osobno i rozpiętość wartości oczekiwanych (czy skala nie zapada się w środek).
    """
    anchors = embed_anchor_sets(embedder, sets)
    responses = np.asarray(embedder([statement for _, statement in ladder]), dtype=np.float64)
    per_set = set_pmfs(similarities(responses, anchors), epsilon=epsilon)
    means = expected_values(apply_temperature(per_set.mean(axis=1), temperature))
    order = np.asarray([level for level, _ in ladder])
    spearman_per_set = [
        _spearman(order, expected_values(apply_temperature(per_set[:, i], temperature))) for i in range(len(sets))
    ]
    return {
        "spearman": _spearman(order, means),
        "spearman_per_set": spearman_per_set,
        "expected_values": [round(float(v), 4) for v in means],
        "expected_value_range": round(float(means.max() - means.min()), 4),
    }


def _spearman(truth: NDArray[Any], scores: NDArray[Any]) -> float:
    """Korelacja rang; stała ocena (brak różnicowania) to 0, nie NaN, żeby bramka po prostu nie przeszła."""
    if np.ptp(scores) == 0:
        return 0.0
    return round(float(stats.spearmanr(truth, scores).statistic), 4)


def check_ladder(embedder: Embedder, *, construct: str, language: str, points: int = 5) -> dict[str, Any]:
    """Bramka metody dla embeddera: drabina konstruktu oceniona SSR, Spearman ≥ próg z `config/surveys/ssr.yaml`.

    Uczciwie: offline'owy wordllama (statyczne wektory słów, 256 wymiarów) nie widzi negacji ani szyku zdania
    („kupiłbym” i „nie kupiłbym” są prawie tym samym wektorem) i słabo zna polski, więc jego wynik bywa pod progiem —
    wtedy przebieg ma etykietę „metoda oceny niezwalidowana dla tego embeddera”, a nie ukrytą poprawkę progu.
    """
    surveys = config.load_surveys()
    sets = surveys.anchor_sets(construct, language, points)
    ladder = surveys.ladder(construct, language)
    scored = score_ladder(embedder, ladder, sets, temperature=surveys.ssr.temperature, epsilon=surveys.ssr.epsilon)
    threshold = surveys.ssr.ladder_min_spearman
    passed = scored["spearman"] >= threshold
    return {
        "code": "ssr_validated" if passed else "ssr_not_validated",
        "passed": passed,
        "threshold": threshold,
        **scored,
        "construct": construct,
        "language": language,
        "points": points,
        "anchors_version": anchors_version(sets),
        "ladder_version": anchor_set_hash([f"{level}:{statement}" for level, statement in ladder])[:12],
    }


def score_intents(
    embedder: Embedder, intents: Sequence[str], *, construct: str, language: str, points: int, seed: int
) -> list[dict[str, Any]]:
    """Zdania intencji odpowiedzi → per odpowiedź rozkład, wartość oczekiwana, jedno losowanie i wersja kotwic.

    Parametry T i ε z `config/surveys/ssr.yaml`; losowanie i-tej odpowiedzi zależy od ziarna i kolejności zdań.
    """
    surveys = config.load_surveys()
    sets = surveys.anchor_sets(construct, language, points)
    anchors = embed_anchor_sets(embedder, sets)
    pmfs = rate(embedder(list(intents)), anchors, temperature=surveys.ssr.temperature, epsilon=surveys.ssr.epsilon)
    version = anchors_version(sets)
    return [
        {
            "method": METHOD,
            "pmf": pmf.tolist(),
            "expected_value": float(mean),
            "draw": int(draw),
            "anchors_version": version,
        }
        for pmf, mean, draw in zip(pmfs, expected_values(pmfs), draw_ratings(pmfs, seed=seed), strict=True)
    ]
