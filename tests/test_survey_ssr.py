"""Semantic Similarity Rating: złoty przykład z badań, własności wzoru, kotwice z konfiguracji i bramka drabiny."""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import config
from sight.llm import WordLlamaEmbeddings
from surveys import ssr

# Złoty przykład (surveys-research.md §1.2): kotwice i odpowiedź w 2-D, cosinusy 0.6, 0.96, 0.8, 0.28, −0.6.
GOLDEN_ANCHORS = np.array([[[1, 0], [0.8, 0.6], [0, 1], [-0.6, 0.8], [-1, 0]]])
GOLDEN_RESPONSE = np.array([[0.6, 0.8]])
SHIPPED = Path(config.__file__).resolve().parent

finite = st.floats(-1, 1, allow_nan=False, allow_infinity=False)


def test_golden_example_gives_the_published_pmf_and_mean():
    pmf = ssr.rate(GOLDEN_RESPONSE, GOLDEN_ANCHORS)[0]
    assert np.allclose(pmf, [0.2381, 0.3095, 0.2778, 0.1746, 0], atol=1e-4)
    assert ssr.expected_values(pmf)[0] == pytest.approx(2.3889, abs=1e-4)


def test_golden_example_with_temperature_one_half():
    pmf = ssr.rate(GOLDEN_RESPONSE, GOLDEN_ANCHORS, temperature=0.5)[0]
    assert np.allclose(pmf, [0.2179, 0.3683, 0.2966, 0.1172, 0], atol=1e-4)


def test_golden_example_with_epsilon_uses_the_raw_cosine_convention():
    pmf = ssr.rate(GOLDEN_RESPONSE, GOLDEN_ANCHORS, epsilon=0.1)[0]
    # Konwencja (1 + cos)/2 dałaby [0.2290, 0.2977, 0.2672, 0.1679, 0.0382].
    assert np.allclose(pmf, [0.2335, 0.3035, 0.2724, 0.1712, 0.0195], atol=1e-4)


def test_sets_are_averaged_with_equal_weights_before_the_temperature():
    mirrored = GOLDEN_ANCHORS[:, ::-1]
    both = np.concatenate([GOLDEN_ANCHORS, mirrored])
    first = ssr.rate(GOLDEN_RESPONSE, GOLDEN_ANCHORS, temperature=1)[0]
    second = ssr.rate(GOLDEN_RESPONSE, mirrored, temperature=1)[0]
    assert np.allclose(ssr.rate(GOLDEN_RESPONSE, both)[0], (first + second) / 2)
    assert np.allclose(
        ssr.rate(GOLDEN_RESPONSE, both, temperature=0.5)[0], ssr.apply_temperature((first + second) / 2, 0.5)
    )


@settings(max_examples=60, deadline=None)
@given(
    responses=arrays(np.float64, (7, 6), elements=finite),
    anchors=arrays(np.float64, (3, 5, 6), elements=finite),
    temperature=st.sampled_from([0.0, 0.3, 1.0, 2.5]),
    epsilon=st.sampled_from([0.0, 0.05, 0.5]),
)
def test_every_pmf_is_non_negative_and_sums_to_one(responses, anchors, temperature, epsilon):
    responses[np.linalg.norm(responses, axis=1) == 0] = 1.0
    anchors[np.linalg.norm(anchors, axis=2) == 0] = 1.0
    pmfs = ssr.rate(responses, anchors, temperature=temperature, epsilon=epsilon)
    assert pmfs.shape == (7, 5)
    assert np.all(pmfs >= 0)
    assert np.allclose(pmfs.sum(axis=1), 1)


@settings(max_examples=100, deadline=None)
@given(cosines=arrays(np.float64, 5, elements=finite, unique=True), epsilon=st.floats(0.001, 1))
def test_epsilon_touches_only_the_least_similar_point(cosines, epsilon):
    least = int(cosines.argmin())
    spread = float((cosines - cosines.min()).sum())
    with_epsilon = ssr.set_pmfs(cosines, epsilon=epsilon)
    assert with_epsilon[least] == pytest.approx(epsilon / (spread + epsilon))
    for point in set(range(5)) - {least}:
        assert with_epsilon[point] == pytest.approx((cosines[point] - cosines.min()) / (spread + epsilon))
    assert ssr.set_pmfs(cosines)[least] == 0


@settings(max_examples=60, deadline=None)
@given(pmf=arrays(np.float64, 5, elements=st.floats(0.01, 1), unique=True))
def test_temperature_towards_zero_becomes_one_hot_on_the_most_likely_point(pmf):
    pmf = pmf / pmf.sum()
    one_hot = np.eye(5)[pmf.argmax()]
    assert np.array_equal(ssr.apply_temperature(pmf, 0), one_hot)
    if np.sort(pmf)[-1] / np.sort(pmf)[-2] > 1.05:
        assert np.allclose(ssr.apply_temperature(pmf, 0.001), one_hot, atol=1e-6)


def test_temperature_above_one_flattens_and_below_one_sharpens():
    pmf = np.array([0.1, 0.2, 0.7])
    assert ssr.apply_temperature(pmf, 3).max() < 0.7 < ssr.apply_temperature(pmf, 0.5).max()


@settings(max_examples=40, deadline=None)
@given(
    responses=arrays(np.float64, (4, 3), elements=st.floats(0.1, 1)),
    anchors=arrays(np.float64, (2, 5, 3), elements=st.floats(-1, 1).filter(lambda x: abs(x) > 0.01)),
    scale=st.floats(0.001, 1000),
)
def test_rating_is_invariant_to_the_length_of_the_vectors(responses, anchors, scale):
    assert np.allclose(ssr.rate(responses * scale, anchors / scale), ssr.rate(responses, anchors))


def test_anchors_all_equally_similar_give_a_uniform_pmf():
    anchors = np.array([[[1.0, 0.0], [1.0, 0.0], [2.0, 0.0]]])
    assert np.allclose(ssr.rate([[0.5, 0.5]], anchors), [[1 / 3, 1 / 3, 1 / 3]])
    assert np.allclose(ssr.rate([[0.5, 0.5]], anchors, epsilon=0.1), [[1 / 3, 1 / 3, 1 / 3]])


def test_a_zero_embedding_is_an_error_not_a_rating():
    with pytest.raises(ValueError, match="zero-length"):
        ssr.rate([[0.0, 0.0]], GOLDEN_ANCHORS)


def test_seeded_draws_repeat_and_follow_the_pmf():
    pmfs = np.tile([0.1, 0.0, 0.3, 0.6, 0.0], (20_000, 1))
    draws = ssr.draw_ratings(pmfs, seed=7)
    assert np.array_equal(draws, ssr.draw_ratings(pmfs, seed=7))
    assert not np.array_equal(draws, ssr.draw_ratings(pmfs, seed=8))
    assert set(np.unique(draws)) == {1, 3, 4}
    assert np.allclose(np.bincount(draws, minlength=6)[1:] / len(draws), [0.1, 0.0, 0.3, 0.6, 0.0], atol=0.015)
    assert set(ssr.draw_ratings([[0.0, 1.0]] * 1000, seed=1)) == {2}


def test_every_construct_language_and_scale_has_at_least_four_distinct_anchor_sets():
    surveys = config.load_surveys()
    for language in config.LANGUAGES:
        for construct in config.SURVEY_CONSTRUCTS:
            for points in (5, 7):
                sets = surveys.anchor_sets(construct, language, points)
                assert len(sets) >= 4
                assert all(len(s) == points for s in sets)
                assert len({ssr.anchor_set_hash(s) for s in sets}) == len(sets)


def test_anchor_version_is_a_content_hash():
    sets = config.load_surveys().anchor_sets("purchase_intent", "en", 5)
    edited = [list(s) for s in sets]
    edited[2][1] = edited[2][1].replace(".", "!")
    assert ssr.anchors_version(sets) == ssr.anchors_version([list(s) for s in sets])
    assert ssr.anchors_version(edited) != ssr.anchors_version(sets)
    assert ssr.anchor_set_hash(sets[0]) != ssr.anchor_set_hash(list(reversed(sets[0])))


@pytest.fixture
def config_copy(tmp_path: Path) -> Iterator[Path]:
    original = config.CONFIG_DIR
    copy = tmp_path / "config"
    shutil.copytree(SHIPPED, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    config.use_dir(copy)
    yield copy
    config.use_dir(original)


def test_an_anchor_set_of_the_wrong_length_names_the_file_and_field(config_copy):
    path = config_copy / "surveys" / "anchors" / "pl.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["constructs"]["agreement"]["scales"][5][1].pop()
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(config.ConfigError, match=r"anchors/pl.yaml: constructs.agreement: scales.5.1: needs 5"):
        config.load_surveys()


def test_too_few_anchor_sets_are_rejected(config_copy):
    path = config_copy / "surveys" / "anchors" / "en.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["constructs"]["importance"]["scales"][7][3]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(config.ConfigError, match="constructs.importance.scales.7: needs at least 4"):
        config.load_surveys()


def oracle_embedder(texts: list[str]) -> list[list[float]]:
    """Embedder znający odpowiedź: zdanie na półokręgu pod kątem swojego poziomu (kotwica albo drabina)."""
    surveys = config.load_surveys()
    angles: dict[str, float] = {}
    for language in config.LANGUAGES:
        for construct in config.SURVEY_CONSTRUCTS:
            for level, statement in surveys.ladder(construct, language):
                angles[statement] = math.pi * (1 - (level - 1) / 4)
            for points in (5, 7):
                for statements in surveys.anchor_sets(construct, language, points):
                    for i, statement in enumerate(statements):
                        angles[statement] = math.pi * (1 - i / (points - 1))
    return [[math.cos(angles[t]), math.sin(angles[t])] for t in texts]


def test_ladder_gate_passes_an_embedder_that_orders_the_ladder():
    result = ssr.check_ladder(oracle_embedder, construct="satisfaction", language="pl", points=7)
    assert result["spearman"] == pytest.approx(1.0)
    assert result["passed"] and result["code"] == "ssr_validated"
    assert result["threshold"] == config.load_surveys().ssr.ladder_min_spearman


def test_ladder_gate_fails_an_embedder_that_cannot_tell_statements_apart():
    result = ssr.check_ladder(lambda texts: [[1.0, 2.0]] * len(texts), construct="agreement", language="en")
    assert result["spearman"] == 0
    assert result["expected_value_range"] == 0
    assert not result["passed"] and result["code"] == "ssr_not_validated"


def test_offline_wordllama_passes_the_english_ladder_but_not_the_polish_one():
    """Zmierzone: wordllama porządkuje angielską drabinę (Spearman ≈ 0.81–0.86), polską nie (≈ −0.05–0.76)."""
    embed = WordLlamaEmbeddings().embed_documents
    english = ssr.check_ladder(embed, construct="agreement", language="en", points=5)
    polish = ssr.check_ladder(embed, construct="satisfaction", language="pl", points=5)
    assert english["passed"] and english["spearman"] >= 0.8
    assert not polish["passed"] and polish["code"] == "ssr_not_validated"
    assert english["anchors_version"] == ssr.anchors_version(config.load_surveys().anchor_sets("agreement", "en", 5))
    scores = [
        ssr.check_ladder(embed, construct=construct, language="en")["spearman"]
        for construct in config.SURVEY_CONSTRUCTS
    ]
    assert min(scores) > 0.5


def test_intents_are_scored_with_the_configured_anchors_and_a_repeatable_draw():
    intents = [statement for _, statement in config.load_surveys().ladder("likelihood", "en")]
    scored = ssr.score_intents(oracle_embedder, intents, construct="likelihood", language="en", points=5, seed=3)
    assert len(scored) == len(intents)
    assert all(a["method"] == "ssr" and len(a["pmf"]) == 5 and 1 <= a["draw"] <= 5 for a in scored)
    assert scored[0]["expected_value"] < scored[-1]["expected_value"]
    assert scored[0]["anchors_version"] == ssr.anchors_version(config.load_surveys().anchor_sets("likelihood", "en", 5))
    again = ssr.score_intents(oracle_embedder, intents, construct="likelihood", language="en", points=5, seed=3)
    assert [a["draw"] for a in again] == [a["draw"] for a in scored]
