"""Trafność zapisanych person: zgodność rozkładów z celem (chi-kwadrat, TVD), duplikaty i rozrzut cech.

Raport to kody (werdykty) i liczby; zdania o nim powstają z gettext — w API przez `statements(report, język)`,
na stronie przez `{% blocktranslate %}` karty trafności, z tymi samymi msgid.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from django.db.models import QuerySet
from django.template.defaultfilters import floatformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from scipy import sparse
from scipy.stats import chisquare

import config
from config import Category, DemographicPreset
from personas.models import Persona, PersonaRun
from personas.sampling import TRAITS, find_preset
from sight.demographics import pick_label
from sight.models import Project

REPORT_VERSION = 2  # 2: bez zdań — raport to kody i liczby, zdania daje gettext (`statements`, karta trafności)
ALPHA = 0.05
TVD_OK = 0.10
MIN_EXPECTED = 5.0
MONTE_CARLO_DRAWS = 10_000
MAX_STORY_COMPARISONS = 500
MAX_LISTED_PAIRS = 50
LOW_TRAIT_SPREAD = 0.05

MATCHES, MINOR_DEVIATION, INCONCLUSIVE, DOES_NOT_MATCH, NO_DATA = (
    "matches",
    "minor_deviation",
    "inconclusive",
    "does_not_match",
    "no_data",
)

_WORD = re.compile(r"\w+", re.UNICODE)


def validate_personas(project: Project, personas_qs: QuerySet[Persona] | None = None) -> dict[str, Any]:
    """Raport trafności liczony na zapisanych, nieusuniętych personach projektu (JSON, stała liczba zapytań)."""
    personas = (Persona.objects.all() if personas_qs is None else personas_qs).filter(project=project).active()
    rows = list(personas.values_list("demographics", "full_name", *TRAITS))
    target = project.target_demographics or {}
    preset = find_preset(target, project.language)
    categories = [
        _category_result(name, buckets, Counter(_bucket_of(row[0], name) for row in rows), preset)
        for name, buckets in target.items()
    ]
    # Rzut na UUID to deterministyczna, a zarazem przypadkowa próbka, gdy person jest więcej niż limit porównań.
    stories = list(
        personas.exclude(background_story="")
        .order_by("id")
        .values_list("id", "full_name", "background_story")[: MAX_STORY_COMPARISONS + 1]
    )
    diversity = {
        "duplicate_names": _duplicate_names([row[1] for row in rows]),
        "stories": _story_similarity(stories[:MAX_STORY_COMPARISONS], sampled=len(stories) > MAX_STORY_COMPARISONS),
        "traits": _trait_spread(np.array([row[2:] for row in rows], dtype=float).reshape(len(rows), len(TRAITS))),
    }
    report = {
        "version": REPORT_VERSION,
        "computed_on": len(rows),
        "generated_at": timezone.now().isoformat(),
        "thresholds": {
            "alpha": ALPHA,
            "tvd": TVD_OK,
            "near_duplicate": config.load_features().personas.near_duplicate_threshold,
            "low_trait_spread": LOW_TRAIT_SPREAD,
        },
        "categories": categories,
        "diversity": diversity,
    }
    report["overall"] = _overall(report)
    return report


def validate_run(run: PersonaRun) -> dict[str, Any]:
    """Waliduje zapisane persony przebiegu i zapisuje raport w `run.validation`."""
    run.validation = validate_personas(run.project, run.personas.all())
    run.save(update_fields=["validation"])
    return run.validation


def _bucket_of(demographics: Any, category: str) -> str | None:
    value = demographics.get(category) if isinstance(demographics, dict) else None
    return None if value is None else str(value)


def _category_result(
    name: str, weights: Mapping[str, float], observed: Counter[str | None], preset: DemographicPreset | None = None
) -> dict[str, Any]:
    """Test zgodności jednej kategorii: liczebności, chi-kwadrat (lub Monte Carlo przy małych oczekiwanych), TVD i
    werdykt.
    """
    n = sum(observed.values())
    total = math.fsum(float(w) for w in weights.values())
    shares = {bucket: float(w) / total for bucket, w in weights.items()}
    category = _preset_category(name, preset)
    buckets = [
        {
            "bucket": b,
            "label": _labels(category.bucket_labels.get(b, {}) if category else {}, b),
            "target_share": s,
            "expected": s * n,
            "observed": observed.get(b, 0),
            "observed_share": observed.get(b, 0) / n if n else None,
        }
        for b, s in shares.items()
    ]
    unexpected = {b: c for b, c in observed.items() if b is not None and b not in shares}
    missing = observed.get(None, 0)
    result: dict[str, Any] = {
        "category": name,
        "label": _labels(category.label if category else {}, name.replace("_", " ").capitalize()),
        "n": n,
        "buckets": buckets,
        "missing": missing,
        "unexpected": unexpected,
        "statistic": None,
        "p_value": None,
        "dof": None,
        "method": None,
        "low_expected": False,
        "tvd": None,
        "verdict": NO_DATA,
    }
    if n == 0:
        return result
    off_target = missing + sum(unexpected.values())
    result["tvd"] = round(
        0.5 * (sum(abs(row["observed"] / n - row["target_share"]) for row in buckets) + off_target / n), 6
    )
    testable = [row for row in buckets if row["target_share"] > 0]
    if off_target or any(row["observed"] and not row["target_share"] for row in buckets):
        # Persona w koszyku o udziale 0 jest niemożliwa przy zgodności z celem: p = 0, statystyka nieskończona (JSON jej
        # nie zapisze).
        result.update(method="impossible_bucket", p_value=0.0)
    elif len(testable) < 2:
        result.update(method="single_bucket", statistic=0.0, dof=0)
    else:
        result.update(
            _goodness_of_fit([row["observed"] for row in testable], [row["target_share"] for row in testable])
        )
    result["verdict"] = _verdict(result["p_value"], result["tvd"])
    return result


def _goodness_of_fit(observed: Sequence[int], shares: Sequence[float]) -> dict[str, Any]:
    """Chi-kwadrat zgodności; przy oczekiwanych < 5 p-wartość z symulacji rozkładu wielomianowego (ziarno stałe)."""
    n = sum(observed)
    probabilities = np.array(shares) / math.fsum(shares)
    expected = probabilities * n
    statistic, p_value = chisquare(np.array(observed, dtype=float), expected)
    low_expected = bool((expected < MIN_EXPECTED).any())
    method = "chi_square"
    if low_expected:
        draws = np.random.default_rng(0).multinomial(n, probabilities, size=MONTE_CARLO_DRAWS)
        simulated = ((draws - expected) ** 2 / expected).sum(axis=1)
        p_value = (np.count_nonzero(simulated >= statistic - 1e-9) + 1) / (MONTE_CARLO_DRAWS + 1)
        method = "monte_carlo"
    return {
        "statistic": round(float(statistic), 6),
        "p_value": float(p_value),
        "dof": len(observed) - 1,
        "method": method,
        "low_expected": low_expected,
    }


def _verdict(p_value: float | None, tvd: float) -> str:
    """Werdykt: istotność statystyczna (p) i wielkość odchylenia (TVD) razem."""
    significant = p_value is not None and p_value < ALPHA
    if tvd <= TVD_OK:
        return MINOR_DEVIATION if significant else MATCHES
    return DOES_NOT_MATCH if significant else INCONCLUSIVE


def _preset_category(name: str, preset: DemographicPreset | None) -> Category | None:
    """Opis kategorii z presetu projektu, a gdy go tam nie ma — z pierwszego presetu, który ją zna."""
    if preset and name in preset.categories:
        return preset.categories[name]
    return next((p.categories[name] for p in config.load_demographics().values() if name in p.categories), None)


def _labels(label: Mapping[str, str], fallback: str) -> dict[str, str]:
    """Etykieta pl/en (brakujący język dziedziczy z drugiego, w ostateczności tekst zastępczy)."""
    return {language: pick_label(label, fallback, language=language) for language in ("pl", "en")}


def _duplicate_names(names: Sequence[str]) -> list[dict[str, Any]]:
    """Imiona i nazwiska powtarzające się (bez względu na wielkość liter i spacje)."""
    normalised = Counter(" ".join(name.split()).casefold() for name in names if name.strip())
    shown: dict[str, str] = {}
    for name in names:
        shown.setdefault(" ".join(name.split()).casefold(), " ".join(name.split()))
    return [{"name": shown[key], "count": count} for key, count in sorted(normalised.items()) if count > 1]


def _story_similarity(stories: Sequence[tuple[Any, str, str]], *, sampled: bool) -> dict[str, Any]:
    """Podobieństwo historii parami: kosinus TF-IDF na słowach; pary powyżej progu to prawie-duplikaty."""
    threshold = config.load_features().personas.near_duplicate_threshold
    result: dict[str, Any] = {
        "compared": len(stories),
        "sampled": sampled,
        "near_duplicate_count": 0,
        "near_duplicates": [],
        "max_similarity": None,
        "mean_similarity": None,
    }
    if len(stories) < 2:
        return result
    similarity = _tfidf_cosine([story for _id, _name, story in stories])
    upper = np.triu_indices(len(stories), k=1)
    values = similarity[upper]
    flagged = sorted(
        ((float(values[i]), int(upper[0][i]), int(upper[1][i])) for i in np.flatnonzero(values >= threshold)),
        reverse=True,
    )
    result.update(
        near_duplicate_count=len(flagged),
        max_similarity=round(float(values.max()), 4),
        mean_similarity=round(float(values.mean()), 4),
        near_duplicates=[
            {
                "a": str(stories[a][0]),
                "b": str(stories[b][0]),
                "a_name": stories[a][1],
                "b_name": stories[b][1],
                "similarity": round(s, 4),
            }
            for s, a, b in flagged[:MAX_LISTED_PAIRS]
        ],
    )
    return result


def _tfidf_cosine(texts: Sequence[str]) -> np.ndarray:
    """Macierz podobieństw kosinusowych wektorów TF-IDF (słowa, wygładzone IDF, normalizacja L2)."""
    vocabulary: dict[str, int] = {}
    rows, cols, counts = [], [], []
    for row, text in enumerate(texts):
        for word, count in Counter(_WORD.findall(text.casefold())).items():
            rows.append(row)
            cols.append(vocabulary.setdefault(word, len(vocabulary)))
            counts.append(count)
    tf = sparse.csr_matrix((np.array(counts, dtype=float), (rows, cols)), shape=(len(texts), max(len(vocabulary), 1)))
    document_frequency = np.bincount(cols, minlength=tf.shape[1])
    idf = np.log((1 + len(texts)) / (1 + document_frequency)) + 1
    weighted = tf.multiply(idf).tocsr()
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    unit = sparse.diags(1 / norms) @ weighted
    return np.clip((unit @ unit.T).toarray(), 0.0, 1.0)


def _trait_spread(values: np.ndarray) -> dict[str, Any]:
    """Średnia, odchylenie standardowe, minimum i maksimum każdej cechy; zbyt mały rozrzut jest flagowany."""
    if not len(values):
        return {trait: {"mean": None, "std": None, "min": None, "max": None, "low_spread": False} for trait in TRAITS}
    spread = {}
    for column, trait in enumerate(TRAITS):
        std = float(values[:, column].std())
        spread[trait] = {
            "mean": round(float(values[:, column].mean()), 4),
            "std": round(std, 4),
            "min": round(float(values[:, column].min()), 4),
            "max": round(float(values[:, column].max()), 4),
            "low_spread": len(values) > 1 and std < LOW_TRAIT_SPREAD,
        }
    return spread


def _overall(report: Mapping[str, Any]) -> str:
    """Ocena zbiorcza: fail (rozkład niezgodny), warn (drobne zastrzeżenia), pass, no_data."""
    if not report["computed_on"]:
        return NO_DATA
    verdicts = {c["verdict"] for c in report["categories"]}
    if DOES_NOT_MATCH in verdicts:
        return "fail"
    diversity = report["diversity"]
    concerns = (
        verdicts & {MINOR_DEVIATION, INCONCLUSIVE}
        or diversity["duplicate_names"]
        or diversity["stories"]["near_duplicate_count"]
        or any(t["low_spread"] for t in diversity["traits"].values())
    )
    return "warn" if concerns else "pass"


def whole_percent(share: float) -> str:
    """Udział jako liczba całkowitych procentów bez znaku % (0.4 → "40"), tak samo w API i na karcie."""
    return f"{100 * share:.0f}"


def duplicate_names_text(report: Mapping[str, Any]) -> str:
    """Powtarzające się imiona i nazwiska z liczbą wystąpień: „Jan Kowal ×2, Ewa Lis ×3”."""
    return ", ".join(f"{d['name']} ×{d['count']}" for d in report["diversity"]["duplicate_names"])


def low_spread_traits_text(report: Mapping[str, Any]) -> str:
    """Cechy o zbyt małym rozrzucie, nazwane w bieżącym języku, po przecinku."""
    return ", ".join(
        Persona.trait_label(t) for t, spread in report["diversity"]["traits"].items() if spread["low_spread"]
    )


def _verdict_statement(verdict: str, label: str, tvd: str) -> str:
    """Zdanie o zgodności jednej kategorii z celem (te same msgid co `{% blocktranslate %}` na karcie trafności)."""
    if verdict == MATCHES:
        return _("%(label)s: matches the target distribution.") % {"label": label}
    if verdict == MINOR_DEVIATION:
        return _(
            "%(label)s: a small but statistically detectable deviation from the target (%(tvd)s%% of personas in a "
            "different bucket than planned)."
        ) % {"label": label, "tvd": tvd}
    if verdict == INCONCLUSIVE:
        return _(
            "%(label)s: off by %(tvd)s%%, but there are too few personas to tell whether this is more than rounding."
        ) % {"label": label, "tvd": tvd}
    return _(
        "%(label)s: does not match the target — %(tvd)s%% of personas would have to change bucket for it to match."
    ) % {"label": label, "tvd": tvd}


def statements(report: Mapping[str, Any], language: str) -> list[str]:
    """Krótkie zdania o raporcie w danym języku (gettext), dla API; strona rysuje je z tych samych kodów szablonem."""
    with translation.override(language):
        if not report["computed_on"]:
            return [_("No saved personas: nothing to check.")]
        lines = [_("Computed on %(n)s saved personas (deleted ones excluded).") % {"n": report["computed_on"]}]
        if not report["categories"]:
            lines.append(_("The project has no target demographic distribution."))
        lines += [
            _verdict_statement(c["verdict"], c["label"][language], whole_percent(c["tvd"]))
            for c in report["categories"]
        ]
        names = duplicate_names_text(report)
        lines.append(
            _("Repeated full names: %(names)s.") % {"names": names} if names else _("No full name is repeated.")
        )
        stories = report["diversity"]["stories"]
        threshold = floatformat(report["thresholds"]["near_duplicate"], 2)
        if stories["compared"] >= 2:
            count = stories["near_duplicate_count"]
            lines.append(
                _("Near-identical background story pairs (similarity ≥ %(threshold)s): %(count)s.")
                % {"threshold": threshold, "count": count}
                if count
                else _("Background stories differ from each other (no pair with similarity ≥ %(threshold)s).")
                % {"threshold": threshold}
            )
            if stories["sampled"]:
                lines.append(_("Stories were compared on a sample of %(n)s personas.") % {"n": stories["compared"]})
        low = low_spread_traits_text(report)
        lines.append(
            _("Too little spread in traits: %(traits)s.") % {"traits": low}
            if low
            else _("Every personality trait varies across personas.")
        )
        return lines
