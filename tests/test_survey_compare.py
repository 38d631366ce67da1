"""Porównanie z próbą ludzką: podobieństwo KS jak scipy, dystans TV, różnica średnich, korelacja średnich, segmenty."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ks_2samp, pearsonr

from surveys import compare

SCALE = [1, 2, 3, 4, 5]
samples = st.lists(st.integers(1, 5), min_size=1, max_size=80)


# Ostrzeżenie pochodzi z wartości p scipy przy próbach jednoelementowych; porównujemy tylko statystykę.
@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")
@settings(max_examples=100, deadline=None)
@given(human=samples, synthetic=samples)
def test_ks_similarity_equals_one_minus_scipy_ks_statistic_on_the_raw_answers(human, synthetic):
    result = compare.compare_distributions(
        compare.counts_from_answers(human, SCALE), compare.counts_from_answers(synthetic, SCALE), values=SCALE
    )
    assert result["ks_similarity"] == pytest.approx(1 - ks_2samp(human, synthetic, method="asymp").statistic)
    assert result["mean_difference"] == pytest.approx(np.mean(synthetic) - np.mean(human))


def test_total_variation_and_ks_on_a_hand_computed_pair():
    # Udziały .1 .2 .4 .2 .1 vs .0 .1 .3 .4 .2: TV = (.1+.1+.1+.2+.1)/2 = .3; dystrybuanty różnią się najwyżej o .3.
    result = compare.compare_distributions([10, 20, 40, 20, 10], [0, 1, 3, 4, 2], values=SCALE)
    assert result["total_variation"] == pytest.approx(0.3)
    assert result["ks_similarity"] == pytest.approx(0.7)
    assert result["human_mean"] == pytest.approx(3.0)
    assert result["synthetic_mean"] == pytest.approx(3.7)
    assert result["mean_difference"] == pytest.approx(0.7)
    assert result["human_base"] == 100 and result["synthetic_base"] == 10


def test_identical_distributions_are_fully_similar_and_fractional_ssr_counts_work():
    result = compare.compare_distributions([2, 4, 2], [0.5, 1.0, 0.5], values=[1, 2, 3])
    assert result["ks_similarity"] == pytest.approx(1)
    assert result["total_variation"] == pytest.approx(0)


def test_nominal_questions_get_total_variation_but_no_ks_or_mean():
    result = compare.compare_distributions([5, 5, 0], [0, 5, 5])
    assert result["total_variation"] == pytest.approx(0.5)
    assert result["ks_similarity"] is None and result["mean_difference"] is None


def test_an_empty_side_gives_no_figures():
    result = compare.compare_distributions([0, 0], [1, 2], values=[1, 2])
    assert result["ks_similarity"] is None and result["human_base"] == 0


def test_mismatched_categories_are_rejected():
    with pytest.raises(ValueError, match="same categories"):
        compare.compare_distributions([1, 2], [1, 2, 3])


def test_item_mean_correlation_needs_three_rating_questions_and_equals_scipy():
    questions = [
        {"question": "q1", "human": [10, 20, 40, 20, 10], "synthetic": [5, 10, 50, 25, 10], "values": SCALE},
        {"question": "q2", "human": [40, 30, 20, 10, 0], "synthetic": [30, 30, 30, 10, 0], "values": SCALE},
        {"question": "q3", "human": [0, 10, 20, 30, 40], "synthetic": [0, 5, 25, 40, 30], "values": SCALE},
        {"question": "q4", "human": [3, 7], "synthetic": [5, 5]},
    ]
    result = compare.compare_survey(questions)
    human = [r["human_mean"] for r in result["questions"][:3]]
    synthetic = [r["synthetic_mean"] for r in result["questions"][:3]]
    assert result["item_means"]["n_items"] == 3
    assert result["item_means"]["pearson"] == pytest.approx(pearsonr(human, synthetic).statistic)
    assert compare.compare_survey(questions[:2] + questions[3:])["item_means"] is None


def test_segments_are_compared_separately():
    result = compare.compare_survey(
        [
            {
                "question": "q1",
                "human": [1, 1],
                "synthetic": [1, 1],
                "values": [1, 2],
                "segments": {"f": {"human": [1, 0], "synthetic": [0, 1]}, "m": {"human": [0, 1], "synthetic": [0, 1]}},
            }
        ]
    )
    segments = {s["segment"]: s for s in result["questions"][0]["segments"]}
    assert result["questions"][0]["ks_similarity"] == pytest.approx(1)
    assert segments["f"]["ks_similarity"] == pytest.approx(0)
    assert segments["m"]["ks_similarity"] == pytest.approx(1)
