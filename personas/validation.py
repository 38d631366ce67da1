"""Trafność zapisanych person: zgodność rozkładów z celem (chi-kwadrat, TVD), duplikaty i rozrzut cech.

Raport to kody (werdykty) i liczby; zdania o nim powstają z gettext — w API przez `statements(report, język)`,
na stronie przez `{% blocktranslate %}` karty trafności, z tymi samymi msgid.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from django.core.cache import cache
from django.db.models import QuerySet
from django.template.defaultfilters import floatformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from scipy import sparse
from scipy.stats import chisquare

import config
from config import Category, DemographicPreset
from personas.consistency import PersonaFacts, check_panel
from personas.models import Persona, PersonaRun
from personas.sampling import COLUMN_CATEGORIES, TRAITS, find_preset
from sight.demographics import pick_label
from sight.models import Project

# 2: bez zdań — raport to kody i liczby, zdania daje gettext (`statements`, karta trafności); 3: sprawdziany, które
# mogą oblać panel (`checks`), powtarzane frazy i spójność z faktami.
REPORT_VERSION = 3
PERSONA_FIELDS = (
    "id",
    "demographics",
    "full_name",
    "age",
    "gender",
    "occupation",
    "title",
    "location",
    "income",
    "background_story",
)
NGRAM = 5
SHARED_PHRASES_CACHE_SECONDS = 7 * 24 * 3600
MAX_LISTED_PHRASES = 5
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
    rows = list(personas.values_list(*PERSONA_FIELDS, *TRAITS))
    target = project.target_demographics or {}
    preset = find_preset(target, project.language)
    categories = [
        _category_result(name, buckets, Counter(_bucket_of(row[1], name) for row in rows), preset)
        for name, buckets in target.items()
    ]
    # Porządek po UUID: deterministyczna, a zarazem przypadkowa próbka historii, gdy person jest więcej niż limit.
    with_story = sorted((row[0], row[2], row[9]) for row in rows if row[9])
    stories = with_story[:MAX_STORY_COMPARISONS]
    diversity = {
        "duplicate_names": _duplicate_names([row[2] for row in rows]),
        "stories": _story_similarity(stories, sampled=len(with_story) > MAX_STORY_COMPARISONS),
        "shared_phrases": shared_phrases(stories),
        "traits": _trait_spread(
            np.array([row[len(PERSONA_FIELDS) :] for row in rows], dtype=float).reshape(len(rows), len(TRAITS))
        ),
    }
    flagged = check_panel(
        [_facts(row, statements) for row, statements in _with_statements(rows)],
        project.language,
        labels=_fact_labels(target, preset),
    )
    report = {
        "version": REPORT_VERSION,
        "computed_on": len(rows),
        "generated_at": timezone.now().isoformat(),
        "thresholds": {
            "alpha": ALPHA,
            "tvd": TVD_OK,
            "near_duplicate": config.load_features().personas.near_duplicate_threshold,
            "shared_phrase_share": config.load_features().personas.shared_phrase_share,
            "low_trait_spread": LOW_TRAIT_SPREAD,
        },
        "categories": categories,
        "diversity": diversity,
        "consistency": {"checked": len(rows), "flagged": flagged},
    }
    report["checks"] = checks(report, {str(row[0]): row[2] for row in rows})
    report["overall"] = _overall(report)
    return report


def _with_statements(rows: Sequence[tuple[Any, ...]]) -> list[tuple[tuple[Any, ...], list[str]]]:
    """Persony z ich wypowiedziami z grup fokusowych i wywiadów (jedno zapytanie)."""
    from focus_groups.models import FocusGroupEvent  # grupy fokusowe zależą od person, nie odwrotnie

    said: dict[Any, list[str]] = defaultdict(list)
    if rows:
        kinds = (FocusGroupEvent.Kind.TURN, FocusGroupEvent.Kind.ANSWER)
        events = FocusGroupEvent.objects.filter(persona__in=[row[0] for row in rows], kind__in=kinds)
        for persona_id, text in events.values_list("persona_id", "payload__text"):
            if isinstance(text, str) and text:
                said[persona_id].append(text)
    return [(row, said.get(row[0], [])) for row in rows]


def _facts(row: tuple[Any, ...], statements: list[str]) -> PersonaFacts:
    persona_id, _demographics, name, age, gender, occupation, title, location, income, story = row[:10]
    return PersonaFacts(
        id=str(persona_id),
        full_name=name,
        age=age,
        gender=gender,
        occupation=occupation,
        title=title,
        location=location,
        income=income,
        story=story,
        statements=statements,
    )


def _fact_labels(target: Mapping[str, Any], preset: DemographicPreset | None) -> dict[str, dict[str, dict[str, str]]]:
    """Etykiety pl/en koszyków płci, miejsca i dochodu (do pokazania faktu, któremu tekst przeczy)."""
    labels: dict[str, dict[str, dict[str, str]]] = {}
    for column in ("gender", "location", "income"):
        name = next((c for c in COLUMN_CATEGORIES[column] if c in target), None)
        if name is None:
            continue
        category = _preset_category(name, preset)
        labels[column] = {
            bucket: _labels(category.bucket_labels.get(bucket, {}) if category else {}, bucket)
            for bucket in target[name]
        }
    return labels


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
    normalised = Counter(_name_key(name) for name in names if name.strip())
    shown: dict[str, str] = {}
    for name in names:
        shown.setdefault(_name_key(name), " ".join(name.split()))
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


def shared_phrases(stories: Sequence[tuple[Any, str, str]]) -> dict[str, Any]:
    """Frazy z szablonu: udział 5-gramów słów każdej historii, które występują też w innej historii.

    Łapie wspólne zdania i zdania z tego samego szablonu z innym słowem w luce, których podobieństwo całych historii
    (TF-IDF) nie widzi; nie łapie parafraz. Wynik jest w cache pod skrótem historii (karta liczy się przy każdym
    wyświetleniu projektu, a 500 historii to ponad sekunda pracy).
    """
    threshold = config.load_features().personas.shared_phrase_share
    source = json.dumps([NGRAM, threshold, [[str(i), n, story] for i, n, story in stories]], ensure_ascii=False)
    key = "persona-shared-phrases:" + hashlib.sha256(source.encode()).hexdigest()
    if (hit := cache.get(key)) is not None:
        return hit
    result = _shared_phrases(stories, threshold)
    cache.set(key, result, timeout=SHARED_PHRASES_CACHE_SECONDS)
    return result


def _shared_phrases(stories: Sequence[tuple[Any, str, str]], threshold: float) -> dict[str, Any]:
    grams = [_ngrams(story) for _id, _name, story in stories]
    stories_with = Counter(gram for own in grams for gram in own)
    flagged, shares = [], []
    for (persona_id, name, _story), own in zip(stories, grams, strict=True):
        share = sum(stories_with[g] > 1 for g in own) / len(own) if own else 0.0
        shares.append(share)
        if share >= threshold:
            flagged.append({"id": str(persona_id), "name": name, "share": round(share, 4)})
    repeated = [(count, " ".join(gram)) for gram, count in stories_with.items() if count > 1]
    return {
        "compared": len(stories),
        "ngram": NGRAM,
        "mean_share": round(sum(shares) / len(shares), 4) if shares else None,
        "flagged": flagged,
        "examples": [
            {"phrase": phrase, "stories": count}
            for count, phrase in sorted(repeated, reverse=True)[:MAX_LISTED_PHRASES]
        ],
    }


def _ngrams(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.casefold())
    return {tuple(words[i : i + NGRAM]) for i in range(len(words) - NGRAM + 1)}


PASS, WARN, FAIL, NOT_APPLICABLE = "pass", "warn", "fail", "not_applicable"
CHECK_LABELS = {
    "demographic_fit": gettext_noop("Fit to the target distribution"),
    "duplicate_names": gettext_noop("Repeated full names"),
    "cloned_stories": gettext_noop("Cloned stories"),
    "shared_phrases": gettext_noop("Phrases repeated across stories"),
    "consistency": gettext_noop("Texts agree with the persona's facts"),
    "trait_spread": gettext_noop("Spread of personality traits"),
}


def check_label(check_id: str) -> dict[str, str]:
    """Nazwa sprawdzianu po polsku i angielsku (gettext)."""
    label = {}
    for language in ("pl", "en"):
        with translation.override(language):
            label[language] = _(CHECK_LABELS[check_id])
    return label


def checks(report: Mapping[str, Any], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """Sprawdziany raportu w jednej postaci (id, etykieta pl/en, status, oflagowane persony); API i karta."""
    diversity, computed = report["diversity"], report["computed_on"]
    duplicated = {key for key in (_name_key(d["name"]) for d in diversity["duplicate_names"])}
    cloned = {p[side] for p in diversity["stories"]["near_duplicates"] for side in ("a", "b")}
    verdicts = {c["verdict"] for c in report["categories"]}
    fit = (
        NOT_APPLICABLE
        if not report["categories"] or not computed
        else FAIL
        if DOES_NOT_MATCH in verdicts
        else WARN
        if verdicts & {MINOR_DEVIATION, INCONCLUSIVE}
        else PASS
    )
    rows = [
        # Kwoty przydziela sampler: zgodność z celem zachodzi z konstrukcji i nie świadczy o trafności person.
        ("demographic_fit", fit, [], {"by_construction": True}),
        ("duplicate_names", FAIL, [i for i, n in names.items() if _name_key(n) in duplicated], {}),
        ("cloned_stories", FAIL, sorted(cloned), {"pairs": diversity["stories"]["near_duplicate_count"]}),
        ("shared_phrases", FAIL, [p["id"] for p in diversity["shared_phrases"]["flagged"]], {}),
        ("consistency", WARN, [p["id"] for p in report["consistency"]["flagged"]], {}),
        ("trait_spread", WARN, [], {"traits": [t for t, v in diversity["traits"].items() if v["low_spread"]]}),
    ]
    result = []
    for check_id, severity, flagged, extra in rows:
        status = (
            fit
            if check_id == "demographic_fit"
            else NOT_APPLICABLE
            if not computed
            else severity
            if flagged or extra.get("traits")
            else PASS
        )
        result.append(
            {
                "id": check_id,
                "label": check_label(check_id),
                "status": status,
                "flagged_count": len(flagged),
                "flagged_ids": flagged,
                "flagged": [{"id": i, "name": names.get(i, "")} for i in flagged],
                **extra,
            }
        )
    return result


def _name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _overall(report: Mapping[str, Any]) -> str:
    """Ocena zbiorcza ze sprawdzianów: fail (któryś oblał: rozkład, duplikaty, klony, szablon), warn, pass, no_data."""
    if not report["computed_on"]:
        return NO_DATA
    statuses = {check["status"] for check in report["checks"]}
    return FAIL if FAIL in statuses else WARN if WARN in statuses else PASS


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


def by_construction_statement() -> str:
    """Zastrzeżenie o zgodności z celem (ten sam msgid na karcie trafności)."""
    return _(
        "Fit to the target holds by construction: quotas are allocated from the target, so these numbers test the "
        "sampler, not the personas. They are not evidence that the panel is valid."
    )


def _shared_phrases_statement(report: Mapping[str, Any]) -> str:
    """Zdanie o historiach złożonych z fraz powtarzanych w innych historiach."""
    count = len(report["diversity"]["shared_phrases"]["flagged"])
    share = whole_percent(report["thresholds"]["shared_phrase_share"])
    if count:
        return _(
            "Stories assembled from shared phrases (at least %(share)s%% of their five-word phrases also appear in "
            "another story): %(count)s."
        ) % {"share": share, "count": count}
    return _("No story is assembled from phrases shared with other stories (threshold %(share)s%%).") % {"share": share}


def statements(report: Mapping[str, Any], language: str) -> list[str]:
    """Krótkie zdania o raporcie w danym języku (gettext), dla API; strona rysuje je z tych samych kodów szablonem."""
    with translation.override(language):
        if not report["computed_on"]:
            return [_("No saved personas: nothing to check.")]
        lines = [_("Computed on %(n)s saved personas (deleted ones excluded).") % {"n": report["computed_on"]}]
        if not report["categories"]:
            lines.append(_("The project has no target demographic distribution."))
        else:
            lines.append(by_construction_statement())
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
            lines.append(_shared_phrases_statement(report))
        flagged = len(report["consistency"]["flagged"])
        lines.append(
            _("Personas whose texts contradict their facts: %(count)s.") % {"count": flagged}
            if flagged
            else _("No story, title or statement contradicts the facts of its persona, as far as these rules can tell.")
        )
        low = low_spread_traits_text(report)
        lines.append(
            _("Too little spread in traits: %(traits)s.") % {"traits": low}
            if low
            else _("Every personality trait varies across personas.")
        )
        return lines
