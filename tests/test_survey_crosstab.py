"""Tabele krzyżowe: chi-kwadrat i V Craméra jak w scipy, litery istotności na tabeli o znanej odpowiedzi."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import chi2_contingency
from scipy.stats.contingency import association

from surveys import crosstab


@settings(max_examples=80, deadline=None)
@given(
    st.tuples(st.integers(2, 6), st.integers(2, 6)).flatmap(
        lambda shape: arrays(np.int64, shape, elements=st.integers(1, 400))
    )
)
def test_chi_square_and_cramers_v_equal_scipy_on_the_same_table(table):
    ours = crosstab.chi_square(table)
    chi2, p, dof, _ = chi2_contingency(table, correction=False)
    assert ours["chi2"] == pytest.approx(chi2)
    assert ours["p_value"] == pytest.approx(p, abs=1e-12)
    assert ours["dof"] == dof
    assert ours["cramers_v"] == pytest.approx(association(table, method="cramer"))


def test_empty_rows_and_columns_are_left_out_of_the_whole_table_test():
    table = np.array([[10, 20, 0], [30, 5, 0], [0, 0, 0]])
    assert crosstab.chi_square(table)["chi2"] == pytest.approx(chi2_contingency(table[:2, :2], correction=False)[0])
    assert crosstab.chi_square([[5, 0], [7, 0]])["cramers_v"] is None


# Kolumny A, B, C (baza 200) i D (baza 20, nietestowana). Wiersz „tak”: 63 %, 50 %, 52,5 %, 95 %.
# A vs B: p łączone .565, se = √(.565·.435·2/200) = .04958, z = .13/.04958 = 2.62, p = .0087 → Holm ×3 = .026 < .05.
# A vs C: z = 2.13, p = .0335 (bez poprawki byłoby 95 %) → Holm ×2 = .067: tylko 90 %. C vs B: p = .62, nic.
KNOWN = np.array([[126, 100, 105, 19], [74, 100, 95, 1]])


def test_significance_letters_on_a_table_with_a_known_answer():
    result = crosstab.banner_table(KNOWN, rows=["yes", "no"], columns=["a", "b", "c", "d"])
    yes, no = ([cell["higher_than"] for cell in row["cells"]] for row in result["rows"])
    assert yes == ["Bc", "", "", ""]
    assert no == ["", "A", "a", ""]
    assert [c["letter"] for c in result["columns"]] == ["A", "B", "C", "D"]
    assert [c["tested"] for c in result["columns"]] == [True, True, True, False]
    assert [c["base"] for c in result["columns"]] == [200, 200, 200, 20]
    assert result["rows"][0]["cells"][3]["percent"] == pytest.approx(95)


def test_raw_p_values_behind_the_known_table():
    assert crosstab.proportion_z_test(126, 200, 100, 200) == pytest.approx(0.0087, abs=1e-4)
    assert crosstab.proportion_z_test(126, 200, 105, 200) == pytest.approx(0.0335, abs=1e-4)
    assert crosstab.holm([0.0087, 0.0335, 0.62]) == pytest.approx([0.0261, 0.067, 0.62])


def test_a_small_column_is_tested_once_its_base_reaches_the_threshold():
    # Z D w rodzinie jest 6 par; Holm: .00012·6, .00026·5, .0040·4, .0087·3 < .05, .0335·2 = .067 < .10, .62.
    result = crosstab.banner_table(KNOWN, rows=["yes", "no"], columns=list("abcd"), min_base=20)
    assert result["columns"][3]["tested"]
    assert [[cell["higher_than"] for cell in row["cells"]] for row in result["rows"]] == [
        ["Bc", "", "", "ABC"],
        ["D", "AD", "aD", ""],
    ]


def test_effect_size_comes_first_and_the_synthetic_warning_is_present():
    result = crosstab.banner_table(KNOWN, rows=["yes", "no"], columns=list("abcd"))
    assert next(iter(result)) == "effect_sizes"
    assert result["effect_sizes"]["cramers_v"] == pytest.approx(association(KNOWN, method="cramer"))
    assert result["warnings"] == ["synthetic_n_chosen_by_researcher"]
    assert result["significance"]["correction"] == "holm"
    assert crosstab.banner_table(KNOWN, rows=["y", "n"], columns=list("abcd"), synthetic=False)["warnings"] == []


def test_equal_proportions_get_no_letters():
    result = crosstab.banner_table([[30, 30], [30, 30]], rows=["y", "n"], columns=["a", "b"])
    assert all(cell["higher_than"] == "" for row in result["rows"] for cell in row["cells"])


def test_tables_are_built_from_answers_and_from_ssr_pmfs():
    table = crosstab.count_table(
        ["x", "y", "x", "z", "x"], ["f", "m", "m", "f", "?"], rows=["x", "y", "z"], columns=["f", "m"]
    )
    assert table.tolist() == [[1, 1], [0, 1], [1, 0]]
    pmfs = [[0.5, 0.5, 0], [0, 0, 1], [0.2, 0.3, 0.5]]
    assert np.allclose(crosstab.pmf_table(pmfs, ["f", "m", "f"], columns=["f", "m"]), [[0.7, 0], [0.8, 0], [0.5, 1]])


def test_column_letters_continue_past_z():
    assert crosstab.column_letters(28)[-3:] == ["Z", "AA", "AB"]


def test_a_table_of_the_wrong_shape_is_rejected():
    with pytest.raises(ValueError, match="does not match"):
        crosstab.banner_table([[1, 2]], rows=["a", "b"], columns=["x", "y"])
