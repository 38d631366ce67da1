"""Losowanie profili: kwoty największych reszt, dokładne rozkłady brzegowe, powtarzalność, wiek, zawód, cechy."""

import json
import math
import random
import statistics
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import config
from config import DemographicPreset, Occupation
from personas.sampling import (
    BIG_FIVE,
    HOFSTEDE,
    TRAITS,
    allocate,
    draw_age,
    draw_traits,
    find_preset,
    largest_remainder,
    parse_age_range,
    pick_occupation,
    plan_for_project,
    plan_profiles,
    topup_counts,
    trait_shifts,
)
from sight.models import Project

# Rozkład jako liczby całkowite (licznik wag) — test zna dokładne udziały k/Σk, implementacja dostaje floaty.
integer_weights = st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=12).filter(
    lambda ks: sum(ks) > 0
)
integer_distributions = st.lists(integer_weights, min_size=1, max_size=5)


def _as_target(categories: list[list[int]]) -> dict[str, dict[str, float]]:
    return {f"cat{i}": {f"b{j}": k / sum(ks) for j, k in enumerate(ks)} for i, ks in enumerate(categories)}


def _assert_largest_remainder(ks: list[int], n: int, counts: dict[str, int]) -> None:
    """Wyrocznia niezależna od implementacji: |liczność − kwota| < 1 i zaokrąglone w górę mają reszty nie mniejsze niż
    pozostałe.
    """
    quotas = {f"b{j}": Fraction(k * n, sum(ks)) for j, k in enumerate(ks)}
    assert list(counts) == list(quotas)
    assert sum(counts.values()) == n
    assert all(c >= 0 for c in counts.values())
    assert all(math.floor(q) <= counts[b] <= math.floor(q) + 1 for b, q in quotas.items())
    order = list(quotas)
    up = [b for b in order if counts[b] > math.floor(quotas[b])]
    down = [b for b in order if counts[b] == math.floor(quotas[b]) and quotas[b] != math.floor(quotas[b])]
    for a in up:
        for b in down:
            rem_a, rem_b = quotas[a] - math.floor(quotas[a]), quotas[b] - math.floor(quotas[b])
            assert rem_a > rem_b or (rem_a == rem_b and order.index(a) < order.index(b))


@settings(max_examples=300, deadline=None)
@given(
    categories=integer_distributions,
    n=st.integers(min_value=1, max_value=500),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_every_bucket_gets_its_largest_remainder_quota_and_zipped_profiles_keep_the_marginals_exactly(
    categories, n, seed
):
    target = _as_target(categories)
    profiles = allocate(target, n, seed=seed)
    assert len(profiles) == n
    for (category, weights), ks in zip(target.items(), categories, strict=True):
        counts = largest_remainder(weights, n)
        _assert_largest_remainder(ks, n, counts)
        observed = Counter(profile[category] for profile in profiles)
        assert {b: c for b, c in counts.items() if c} == dict(observed)
    assert allocate(target, n, seed=seed) == profiles


@settings(max_examples=100, deadline=None)
@given(
    weights=st.lists(
        st.floats(min_value=0, max_value=1, allow_nan=False, allow_subnormal=False), min_size=1, max_size=10
    ).filter(lambda ws: sum(ws) > 1e-3),
    n=st.integers(0, 500),
)
def test_largest_remainder_counts_sum_to_n_for_arbitrary_float_weights(weights, n):
    counts = largest_remainder({f"b{i}": w / sum(weights) for i, w in enumerate(weights)}, n)
    assert sum(counts.values()) == n and all(c >= 0 for c in counts.values())


@pytest.mark.parametrize(
    ("weights", "n", "expected"),
    [
        ({"a": 0.5, "b": 0.5}, 3, {"a": 2, "b": 1}),
        ({"b": 0.5, "a": 0.5}, 3, {"b": 2, "a": 1}),
        ({"a": 0.2, "b": 0.3, "c": 0.5}, 7, {"a": 1, "b": 2, "c": 4}),
        ({"a": 0.34, "b": 0.33, "c": 0.33}, 10, {"a": 4, "b": 3, "c": 3}),
        ({"a": 0.15, "b": 0.35, "c": 0.5}, 10, {"a": 2, "b": 3, "c": 5}),
        ({"a": 0.15, "b": 0.35, "c": 0.5}, 1, {"a": 0, "b": 0, "c": 1}),
        ({"a": 1.0, "b": 0.0}, 5, {"a": 5, "b": 0}),
    ],
)
def test_largest_remainder_breaks_ties_by_bucket_order(weights, n, expected):
    assert largest_remainder(weights, n) == expected


@pytest.mark.parametrize("weights", [{}, {"a": 0.0}, {"a": -0.5, "b": 1.5}])
def test_largest_remainder_rejects_distributions_without_positive_mass(weights):
    with pytest.raises(ValueError, match="weights"):
        largest_remainder(weights, 10)


def test_a_different_seed_draws_different_combinations_with_the_same_marginals():
    target = {
        "age_group": {"18-24": 0.2, "25-34": 0.3, "35-54": 0.3, "55+": 0.2},
        "gender": {"female": 0.5, "male": 0.5},
        "location": {"city": 0.6, "village": 0.4},
    }
    first, second = allocate(target, 100, seed=1), allocate(target, 100, seed=2)
    assert first != second
    for category in target:
        assert Counter(p[category] for p in first) == Counter(p[category] for p in second)


def test_allocation_does_not_depend_on_the_order_of_categories():
    target = {"gender": {"female": 0.5, "male": 0.5}, "location": {"city": 0.6, "village": 0.4}}
    reordered = {"location": target["location"], "gender": target["gender"]}
    assert allocate(target, 50, seed=7) == allocate(reordered, 50, seed=7)


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        ("18-24", (18, 24)),
        ("25 – 34", (25, 34)),
        ("65+", (65, 80)),
        ("40-40", (40, 40)),
        ("34-18", None),
        ("seniors", None),
        ("", None),
    ],
)
def test_age_ranges_are_parsed_from_bucket_labels(bucket, expected):
    assert parse_age_range(bucket) == expected


@given(low=st.integers(14, 90), span=st.integers(0, 30), seed=st.integers())
def test_drawn_age_always_falls_inside_its_bucket(low, span, seed):
    assert low <= draw_age(f"{low}-{low + span}", random.Random(seed)) <= low + span
    assert low <= draw_age(f"{low}+", random.Random(seed)) <= low + 15
    assert draw_age("unknown", random.Random(seed)) is None and draw_age(None, random.Random(seed)) is None


@settings(deadline=None)
@given(seed=st.integers(), shift=st.floats(min_value=-1, max_value=1))
def test_traits_are_in_the_unit_interval_and_reproducible(seed, shift):
    traits = draw_traits(random.Random(seed), {"openness": shift, "indulgence": -shift})
    assert list(traits) == list(TRAITS) == [*BIG_FIVE, *HOFSTEDE]
    assert all(0.0 <= v <= 1.0 for v in traits.values())
    assert draw_traits(random.Random(seed), {"openness": shift, "indulgence": -shift}) == traits


def test_trait_shifts_move_the_means_and_leave_other_traits_centred():
    rng_plain, rng_shifted = random.Random(1), random.Random(1)
    plain = [draw_traits(rng_plain) for _ in range(3000)]
    shifted = [draw_traits(rng_shifted, {"openness": 0.2, "neuroticism": -0.15}) for _ in range(3000)]
    mean = lambda rows, trait: statistics.fmean(r[trait] for r in rows)  # noqa: E731
    assert mean(shifted, "openness") - mean(plain, "openness") == pytest.approx(0.2, abs=0.02)
    assert mean(shifted, "neuroticism") - mean(plain, "neuroticism") == pytest.approx(-0.15, abs=0.02)
    assert mean(shifted, "agreeableness") == pytest.approx(0.5, abs=0.02)
    assert statistics.pstdev(r["extraversion"] for r in plain) == pytest.approx(0.15, abs=0.02)
    assert statistics.pstdev(r["individualism"] for r in plain) == pytest.approx(0.2, abs=0.02)


def test_configured_presets_shift_traits_and_unknown_presets_are_refused():
    presets = config.load_features().personas.trait_presets
    for name, shifts in presets.items():
        assert trait_shifts(name) == shifts
    assert trait_shifts(None) == {} and trait_shifts("") == {}
    with pytest.raises(ValueError, match="unknown trait preset"):
        trait_shifts("no-such-preset")


def test_plan_with_a_preset_shifts_the_planned_traits():
    preset = next(name for name, shifts in config.load_features().personas.trait_presets.items() if shifts)
    trait, shift = next(iter(config.load_features().personas.trait_presets[preset].items()))
    target = {"gender": {"female": 0.5, "male": 0.5}}
    plain = plan_profiles(target, 400, seed=3)
    skewed = plan_profiles(target, 400, seed=3, trait_preset=preset)
    delta = statistics.fmean(p["traits"][trait] for p in skewed) - statistics.fmean(p["traits"][trait] for p in plain)
    assert delta == pytest.approx(shift, abs=0.04)


OCCUPATIONS = [
    Occupation(name="student", min_age=18, max_age=26, education=["secondary"], income=["low"]),
    Occupation(name="surgeon", min_age=30, max_age=70, education=["higher"], income=["high"]),
    Occupation(
        name="shop assistant", min_age=18, max_age=67, education=["secondary", "vocational"], income=["low", "medium"]
    ),
    Occupation(name="pensioner", min_age=60, max_age=100),
]


@pytest.mark.parametrize(
    ("age", "education", "income", "allowed"),
    [
        (20, "secondary", "low", {"student", "shop assistant"}),
        (45, "higher", "high", {"surgeon"}),
        (45, "vocational", "medium", {"shop assistant"}),
        (65, "higher", "high", {"surgeon", "pensioner"}),
        (75, "higher", "high", {"pensioner"}),
        (80, "primary", "low", {"pensioner"}),
        (None, "higher", "high", {"surgeon", "pensioner"}),
        (20, "doctorate", "low", {"student", "shop assistant"}),
    ],
)
def test_picked_occupation_is_consistent_with_age_education_and_income(age, education, income, allowed):
    picks = {
        pick_occupation(random.Random(seed), age=age, education=education, income=income, occupations=OCCUPATIONS)
        for seed in range(40)
    }
    assert picks == allowed


def test_no_consistent_occupation_gives_none():
    assert (
        pick_occupation(random.Random(1), age=40, education="secondary", income="high", occupations=OCCUPATIONS[:3])
        is None
    )
    assert pick_occupation(random.Random(1), age=40, education="secondary", income="low", occupations=[]) is None


def _preset(preset_id: str, language: str, location: dict[str, float]) -> DemographicPreset:
    vocabularies = {
        "first_names": {"female": ["Ana"]},
        "surnames": ["X"],
        "occupations": [{"name": f"{preset_id} clerk"}],
        "interests": ["x"],
        "values": ["x"],
        "communication_styles": ["x"],
        "decision_styles": ["x"],
    }
    categories = {"location": {"label": {"en": "Location"}, "buckets": location}}
    return DemographicPreset.model_validate(
        {
            "id": preset_id,
            "label": {"en": preset_id},
            "country": preset_id,
            "language": language,
            "categories": categories,
            "vocabularies": vocabularies,
        }
    )


def test_the_preset_sharing_most_buckets_wins_and_language_breaks_ties():
    poland, usa = (
        _preset("poland", "pl", {"mazowieckie": 0.5, "slaskie": 0.5}),
        _preset("usa", "en", {"texas": 0.5, "ohio": 0.5}),
    )
    assert find_preset({"location": {"texas": 1.0}}, "pl", [poland, usa]) is usa
    assert find_preset({"gender": {"f": 1.0}}, "pl", [poland, usa]) is poland
    assert find_preset({"gender": {"f": 1.0}}, "de", [poland, usa]) is None
    assert find_preset({"gender": {"f": 1.0}}, "pl", []) is None


def test_plan_fills_columns_from_category_aliases_and_is_json_and_reproducible():
    target = {
        "age_group": {"18-24": 0.5, "65+": 0.5},
        "gender": {"female": 0.5, "male": 0.5},
        "education_level": {"secondary": 1.0},
        "income_bracket": {"low": 1.0},
        "region": {"north": 1.0},
        "pets": {"cat": 1.0},
    }
    profiles = plan_profiles(target, 20, seed=11, occupations=OCCUPATIONS)
    assert [p["index"] for p in profiles] == list(range(20))
    assert json.loads(json.dumps(profiles)) == profiles
    assert profiles == plan_profiles(target, 20, seed=11, occupations=OCCUPATIONS)
    for p in profiles:
        low, high = parse_age_range(p["demographics"]["age_group"])
        assert low <= p["age"] <= high
        assert (p["gender"], p["education"], p["income"], p["location"]) == (
            p["demographics"]["gender"],
            "secondary",
            "low",
            "north",
        )
        assert p["demographics"]["pets"] == "cat"
        assert p["occupation"] in ({"student", "shop assistant"} if p["age"] < 60 else {"shop assistant", "pensioner"})
    assert Counter(p["gender"] for p in profiles) == {"female": 10, "male": 10}


def test_plan_without_an_age_category_leaves_age_empty():
    profiles = plan_profiles({"gender": {"female": 1.0}}, 3, seed=1)
    assert [p["age"] for p in profiles] == [None, None, None] and all(p["occupation"] is None for p in profiles)


@pytest.mark.parametrize("n", [0, -1, 10**6])
def test_plan_refuses_a_number_of_personas_outside_one_to_max_per_run(n):
    with pytest.raises(ValueError, match="between 1 and"):
        plan_profiles({"gender": {"female": 1.0}}, n, seed=1)


@pytest.mark.parametrize("preset_id", sorted(config.load_demographics()))
def test_plan_for_a_project_takes_consistent_occupations_from_its_market_preset(preset_id):
    preset = config.load_demographics()[preset_id]
    project = Project(target_demographics=preset.target_demographics(), language=preset.language)
    profiles = plan_for_project(project, 200, seed=5)
    by_name = {o.name: o for o in preset.vocabularies.occupations}
    assert sum(p["occupation"] is not None for p in profiles) >= 190
    for p in profiles:
        if p["occupation"] is not None:
            occupation = by_name[p["occupation"]]
            assert occupation.min_age <= p["age"] <= occupation.max_age
            assert not occupation.education or p["education"] in occupation.education
            assert not occupation.income or p["income"] in occupation.income


def test_a_top_up_makes_the_whole_panel_hit_the_quotas_for_its_new_size():
    weights = {"a": 0.5, "b": 0.3, "c": 0.2}
    assert topup_counts(weights, 10, Counter({"a": 7, "b": 3})) == {"a": 3, "b": 3, "c": 4}
    # Nadmiar w jednym koszyku (tu 'a') sprawia, że braki dzielą się proporcjonalnie, bez ujemnych kwot.
    assert topup_counts(weights, 2, Counter({"a": 10, None: 2})) == {"a": 0, "b": 1, "c": 1}
    existing = Counter({"a": 3, "b": 4, "c": 3})
    top_up = topup_counts(weights, 30, existing)
    assert {k: existing[k] + top_up[k] for k in weights} == largest_remainder(weights, 40)


def test_planned_names_are_unique_follow_the_gender_and_skip_names_already_taken():
    preset = config.load_demographics()["poland"]
    taken = ["Anna Nowak", "Piotr Nowak"]
    profiles = plan_profiles(
        {"gender": {"female": 0.5, "male": 0.5}}, 200, seed=3, vocabularies=preset.vocabularies, taken_names=taken
    )
    names = [p["full_name"] for p in profiles]
    assert None not in names and len(set(names)) == 200 and not set(names) & set(taken)
    for p in profiles:
        assert p["full_name"].split()[0] in preset.vocabularies.first_names[p["gender"]]
    unnamed = plan_profiles({"gender": {"other": 1.0}}, 2, seed=3, vocabularies=preset.vocabularies)
    assert unnamed[0]["full_name"] is None
