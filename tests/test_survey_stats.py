"""Statystyki opisowe ankiet: skale z rozkładów SSR i z wyborów, NPS na krawędziach, Van Westendorp liczony ręcznie."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys import stats


def test_ssr_distribution_is_the_sum_of_respondent_pmfs():
    pmfs = [[0.5, 0.5, 0, 0, 0], [0, 0.25, 0.25, 0.5, 0], [0, 0, 0, 0, 1]]
    result = stats.describe_rating(5, pmfs=pmfs)
    assert result["method"] == "ssr"
    assert result["base"] == 3
    assert [row["count"] for row in result["counts"]] == pytest.approx([0.5, 0.75, 0.25, 0.5, 1])
    assert [row["percent"] for row in result["counts"]] == pytest.approx([50 / 3, 25, 25 / 3, 50 / 3, 100 / 3])
    assert result["mean"] == pytest.approx((1.5 + 3.25 + 5) / 3)
    assert result["top_box"] == {"points": [4.0, 5.0], "percent": pytest.approx(50)}
    assert result["bottom_box"]["percent"] == pytest.approx(125 / 3)


def test_direct_picks_are_counted_and_described():
    result = stats.describe_rating(5, picks=[1, 2, 2, 4, 5, 5])
    assert result["method"] == "direct"
    assert [row["count"] for row in result["counts"]] == [1, 2, 0, 1, 2]
    assert result["median"] == 3.0
    assert result["top_box"]["percent"] == pytest.approx(50)
    assert result["bottom_box"]["percent"] == pytest.approx(50)


def test_seven_point_boxes_are_the_two_ends():
    result = stats.describe_rating(7, picks=[1, 2, 3, 6, 7, 7, 4])
    assert result["top_box"] == {"points": [6.0, 7.0], "percent": pytest.approx(300 / 7)}
    assert result["bottom_box"] == {"points": [1.0, 2.0], "percent": pytest.approx(200 / 7)}


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 7), min_size=2, max_size=60))
def test_mean_median_and_sd_of_picks_match_numpy(picks):
    result = stats.describe_rating(7, picks=picks)
    assert result["mean"] == pytest.approx(np.mean(picks))
    assert result["median"] == pytest.approx(np.median(picks))
    assert result["sd"] == pytest.approx(np.std(picks, ddof=1), abs=1e-9)


def test_picks_outside_the_scale_are_rejected():
    with pytest.raises(ValueError, match="between 1 and 5"):
        stats.describe_rating(5, picks=[0, 3])
    with pytest.raises(ValueError, match="either"):
        stats.describe_rating(5)


def test_empty_question_has_zero_base_and_no_moments():
    result = stats.describe_rating(5, picks=[])
    assert result["base"] == 0 and result["mean"] is None and result["median"] is None and result["sd"] is None


@pytest.mark.parametrize(
    ("score", "group", "nps"),
    [
        (0, "detractors", -100),
        (6, "detractors", -100),
        (7, "passives", 0),
        (8, "passives", 0),
        (9, "promoters", 100),
        (10, "promoters", 100),
    ],
)
def test_nps_edges(score, group, nps):
    result = stats.net_promoter_score([score])
    assert result["nps"] == nps
    assert result[group]["count"] == 1


def test_nps_is_promoters_minus_detractors_in_percent():
    result = stats.net_promoter_score([0, 6, 7, 8, 9, 10, 10, 10])
    assert result["promoters"]["percent"] == pytest.approx(50)
    assert result["detractors"]["percent"] == pytest.approx(25)
    assert result["passives"]["count"] == 2
    assert result["nps"] == pytest.approx(25)
    assert result["counts"] == [1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 3]
    with pytest.raises(ValueError):
        stats.net_promoter_score([11])


def test_van_westendorp_on_a_hand_computed_example():
    # Pięciu respondentów i jeden nieuporządkowany (pomijany). Krzywe na siatce 5, 10, 15, 20, 25, 30, 40:
    # za tanio ≥ p: 1, .6, .2, 0…   tanio ≥ p: 1, 1, .6, .4, 0…   drogo ≤ p: 0, 0, .2, .6, .8, 1, 1
    # za drogo ≤ p: 0, 0, 0, .2, .4, .8, 1.  PMC: za tanio = drogo przy 15 dokładnie; OPP: za tanio − za drogo
    # spada z .2 do −.2 między 15 a 20 → 17.5; IPP: tanio − drogo z .4 do −.2 → 15 + 5·.4/.6; PME: tanio − za drogo
    # z .2 (przy 20) do −.4 (przy 25) → 20 + 5·.2/.6.
    result = stats.van_westendorp(
        too_cheap=[5, 10, 5, 10, 15, 30],
        cheap=[10, 15, 10, 20, 20, 10],
        expensive=[15, 20, 20, 25, 30, 5],
        too_expensive=[20, 25, 30, 30, 40, 40],
    )
    assert result["base"] == 5 and result["excluded_unordered"] == 1
    assert result["curves"]["prices"] == [5, 10, 15, 20, 25, 30, 40]
    assert result["curves"]["too_cheap"] == pytest.approx([1, 0.6, 0.2, 0, 0, 0, 0])
    assert result["curves"]["too_expensive"] == pytest.approx([0, 0, 0, 0.2, 0.4, 0.8, 1])
    assert result["points"]["pmc"] == pytest.approx(15)
    assert result["points"]["opp"] == pytest.approx(17.5)
    assert result["points"]["ipp"] == pytest.approx(15 + 5 * 0.4 / 0.6)
    assert result["points"]["pme"] == pytest.approx(20 + 5 * 0.2 / 0.6)
    assert result["acceptable_range"] == {"low": pytest.approx(15), "high": pytest.approx(20 + 5 / 3)}
    assert result["convention"] == "common_practice"
    assert result["intersections"]["pmc"] == ["too_cheap", "expensive"]


def test_van_westendorp_without_answers_has_no_points():
    result = stats.van_westendorp([], [], [], [])
    assert result["base"] == 0 and result["points"]["opp"] is None and result["acceptable_range"] is None


def test_ranking_average_rank_counts_only_where_the_option_was_ranked():
    result = stats.describe_ranking([["a", "b", "c"], ["b", "a", "c"], ["b", "c"]], ["a", "b", "c", "d"])
    by_option = {row["option"]: row for row in result["options"]}
    assert [row["option"] for row in result["options"]] == ["b", "a", "c", "d"]
    assert by_option["b"]["mean_rank"] == pytest.approx(4 / 3)
    assert by_option["a"] == {"option": "a", "base": 2, "mean_rank": 1.5, "first_percent": pytest.approx(100 / 3)}
    assert by_option["c"]["mean_rank"] == pytest.approx(8 / 3)
    assert by_option["d"]["mean_rank"] is None
    with pytest.raises(ValueError, match="twice"):
        stats.describe_ranking([["a", "a"]], ["a"])


def test_multiple_choice_percent_is_of_respondents():
    result = stats.describe_multiple_choice([["a", "b"], ["a"], [], ["a", "c", "b"]], ["a", "b", "c"])
    assert result["base"] == 4
    assert [row["percent"] for row in result["options"]] == [75, 50, 25]
    assert result["mean_selected"] == pytest.approx(1.5)


def test_single_choice_rejects_an_unknown_option():
    result = stats.describe_single_choice(["x", "y", "x"], ["x", "y", "z"])
    assert [row["count"] for row in result["options"]] == [2, 1, 0]
    with pytest.raises(ValueError, match="unknown"):
        stats.describe_single_choice(["q"], ["x"])
