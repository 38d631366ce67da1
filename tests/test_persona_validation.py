"""Walidacja na zapisanych personach: chi-kwadrat i TVD, duplikaty, prawie-duplikaty historii, usunięte, liczba zapytań;
modele i dostęp.
"""

import itertools
import json
import random
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.http import Http404
from django.test import Client

import config
from personas.models import Persona, PersonaRun, Segment, get_persona_for_user, get_persona_run_for_user
from personas.sampling import TRAITS, plan_profiles
from personas.validation import statements, validate_personas, validate_run
from sight.models import Project
from tests import factories
from tests.factories import DEMOGRAPHICS, create_project, create_user

pytestmark = pytest.mark.django_db

_seq = itertools.count(1)
WORDS = [f"word{i}" for i in range(400)]


def _story(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(80))


def create_run(*, project: Project | None = None, **values: Any) -> PersonaRun:
    """Przebieg generowania z poprawnymi wartościami domyślnymi."""
    values.setdefault("num_requested", 10)
    values.setdefault("seed", 42)
    return PersonaRun.objects.create(project=project or create_project(), **values)


def create_persona(
    *, project: Project | None = None, demographics: dict[str, str] | None = None, **values: Any
) -> Persona:
    """Persona z losową historią i rozrzuconymi cechami (fabryka z `tests.factories` z innymi domyślnymi)."""
    n = next(_seq)
    rng = random.Random(n)
    demographics = demographics if demographics is not None else {"age_group": "18-34", "gender": "female"}
    values.setdefault("background_story", _story(rng))
    for trait in TRAITS:
        values.setdefault(trait, round(rng.random(), 3))
    return factories.create_persona(
        project=project, demographics=demographics, gender=demographics.get("gender", ""), **values
    )


def _category(report: dict, name: str) -> dict:
    return next(c for c in report["categories"] if c["category"] == name)


def test_personas_matching_the_target_pass_with_every_category_matching():
    project = create_project()
    for profile in plan_profiles(project.target_demographics, 40, seed=1):
        create_persona(project=project, demographics=profile["demographics"], **profile["traits"])
    report = validate_personas(project)
    assert report["computed_on"] == 40 and report["overall"] == "pass"
    for name in DEMOGRAPHICS:
        result = _category(report, name)
        assert result["verdict"] == "matches" and result["tvd"] == 0 and result["p_value"] == pytest.approx(1.0)
        assert result["method"] == "chi_square" and result["dof"] == 1
    assert statements(report, "en")[0] == "Computed on 40 saved personas (deleted ones excluded)."
    assert len(statements(report, "pl")) == len(statements(report, "en"))
    assert json.loads(json.dumps(report, allow_nan=False)) == report


def test_skewed_saved_personas_fail_with_small_p_large_tvd_and_plain_words():
    project = create_project()
    for i in range(40):
        create_persona(
            project=project,
            demographics={"age_group": "18-34" if i % 2 else "35+", "gender": "female" if i < 36 else "male"},
        )
    report = validate_personas(project)
    gender = _category(report, "gender")
    assert gender["p_value"] < 0.001 and gender["tvd"] == pytest.approx(0.4)
    assert gender["verdict"] == "does_not_match" and _category(report, "age_group")["verdict"] == "matches"
    assert [b["observed"] for b in gender["buckets"]] == [36, 4]
    assert report["overall"] == "fail"
    assert (
        f"{gender['label']['en']}: does not match the target — 40% of personas would have to change "
        "bucket for it to match."
    ) in statements(report, "en")
    assert (
        f"{gender['label']['pl']}: niezgodny z celem — 40% person musiałoby zmienić koszyk, by rozkład się zgadzał."
        in statements(report, "pl")
    )


def test_categories_and_buckets_carry_labels_from_the_market_preset():
    preset = next(iter(config.load_demographics().values()))
    project = create_project(target_demographics=preset.target_demographics(), language=preset.language)
    create_persona(
        project=project, demographics=plan_profiles(project.target_demographics, 1, seed=1)[0]["demographics"]
    )
    report = validate_personas(project)
    gender = _category(report, "gender")
    assert gender["label"] == preset.categories["gender"].label
    assert {b["bucket"]: b["label"] for b in gender["buckets"]} == {
        k: dict(v) for k, v in preset.categories["gender"].bucket_labels.items()
    }
    assert _category(validate_personas(create_project()), "age_group")["label"]["en"]


def test_run_validation_uses_saved_personas_not_the_planned_allocation():
    project = create_project()
    run = create_run(project=project, num_requested=20)
    run.allocation = plan_profiles(project.target_demographics, 20, seed=run.seed)
    run.save()
    # Plan jest idealnie zgodny z celem, ale zapisały się tylko kobiety (np. reszta generacji się nie powiodła).
    for profile in run.allocation:
        if profile["gender"] == "female":
            create_persona(project=project, run=run, index=profile["index"], demographics=profile["demographics"])
    create_persona(project=project, demographics={"age_group": "18-34", "gender": "male"})  # spoza przebiegu
    report = validate_run(run)
    run.refresh_from_db()
    assert run.validation == report and report["computed_on"] == 10
    assert _category(report, "gender")["verdict"] == "does_not_match" and report["overall"] == "fail"
    assert run.missing_indexes() == [p["index"] for p in run.allocation if p["gender"] == "male"]


def test_soft_deleted_personas_are_left_out_of_validation():
    project = create_project()
    for profile in plan_profiles(project.target_demographics, 20, seed=2):
        create_persona(project=project, demographics=profile["demographics"])
    for _ in range(15):
        create_persona(project=project, demographics={"age_group": "35+", "gender": "male"}).soft_delete()
    create_persona(demographics={"age_group": "35+", "gender": "male"})  # inny projekt
    report = validate_personas(project)
    assert report["computed_on"] == 20 and report["overall"] == "pass"
    assert validate_personas(project, Persona.objects.deleted())["computed_on"] == 0


def test_duplicate_names_and_near_duplicate_stories_are_flagged():
    project = create_project(target_demographics={"gender": {"female": 1.0}})
    story = _story(random.Random(99))
    first = create_persona(project=project, full_name="Anna Kowalska", background_story=story)
    second = create_persona(project=project, full_name="anna  kowalska", background_story=story + " word1")
    for _ in range(6):
        create_persona(project=project)
    report = validate_personas(project)
    diversity = report["diversity"]
    assert diversity["duplicate_names"] == [{"name": "Anna Kowalska", "count": 2}]
    stories = diversity["stories"]
    assert stories["compared"] == 8 and stories["near_duplicate_count"] == 1
    pair = stories["near_duplicates"][0]
    assert {pair["a"], pair["b"]} == {str(first.id), str(second.id)} and pair["similarity"] >= 0.9
    assert stories["mean_similarity"] < 0.5
    # Powtórzone imię i sklonowana historia oblewają panel (nie są już tylko zastrzeżeniem).
    assert report["overall"] == "fail"
    by_id = {check["id"]: check for check in report["checks"]}
    assert by_id["duplicate_names"]["status"] == by_id["cloned_stories"]["status"] == "fail"
    assert set(by_id["cloned_stories"]["flagged_ids"]) == set(by_id["duplicate_names"]["flagged_ids"])
    assert set(by_id["cloned_stories"]["flagged_ids"]) == {str(first.id), str(second.id)}
    assert any("Near-identical background story pairs (similarity ≥ 0.90): 1." == s for s in statements(report, "en"))
    assert any("podobieństwo ≥ 0,90" in s for s in statements(report, "pl"))


def test_distinct_personas_raise_no_diversity_flags_and_traits_show_their_spread():
    project = create_project()
    for _ in range(12):
        create_persona(project=project)
    diversity = validate_personas(project)["diversity"]
    assert diversity["duplicate_names"] == [] and diversity["stories"]["near_duplicate_count"] == 0
    for spread in diversity["traits"].values():
        assert (
            0 <= spread["min"] <= spread["mean"] <= spread["max"] <= 1
            and spread["std"] > 0.05
            and not spread["low_spread"]
        )


def test_identical_traits_are_flagged_as_low_spread():
    project = create_project()
    for _ in range(5):
        create_persona(project=project, openness=0.5)
    report = validate_personas(project)
    assert (
        report["diversity"]["traits"]["openness"]["low_spread"]
        and report["diversity"]["traits"]["openness"]["std"] == 0
    )
    assert "Too little spread in traits: openness." in statements(report, "en")
    assert "Za mały rozrzut cech: otwartość." in statements(report, "pl")


def test_zero_weight_buckets_missing_values_and_single_bucket_categories_are_handled():
    project = create_project(
        target_demographics={
            "gender": {"female": 1.0, "male": 0.0},
            "country": {"PL": 1.0},
            "age_group": {"18-34": 0.5, "35+": 0.5},
        }
    )
    for i in range(10):
        create_persona(
            project=project,
            demographics={"gender": "female", "country": "PL", "age_group": "18-34" if i % 2 else "35+"},
        )
    create_persona(project=project, demographics={"gender": "male", "country": "PL"})
    report = validate_personas(project)
    gender, country, age = (_category(report, name) for name in ("gender", "country", "age_group"))
    assert gender["method"] == "impossible_bucket" and gender["p_value"] == 0.0 and gender["statistic"] is None
    assert gender["tvd"] == pytest.approx(1 / 11, abs=1e-6) and gender["verdict"] == "minor_deviation"
    assert country["method"] == "single_bucket" and country["verdict"] == "matches" and country["p_value"] is None
    assert age["missing"] == 1 and age["method"] == "impossible_bucket" and age["verdict"] == "minor_deviation"
    json.dumps(report, allow_nan=False)


def test_buckets_outside_the_target_are_reported_and_fail_the_category():
    project = create_project()
    for _ in range(6):
        create_persona(project=project, demographics={"age_group": "18-34", "gender": "nonbinary"})
    gender = _category(validate_personas(project), "gender")
    assert gender["unexpected"] == {"nonbinary": 6} and gender["tvd"] == 1.0 and gender["verdict"] == "does_not_match"


def test_small_samples_use_a_monte_carlo_p_value_and_say_when_they_cannot_tell():
    project = create_project(
        target_demographics={"age_group": {"18-24": 0.2, "25-34": 0.2, "35-44": 0.2, "45-54": 0.2, "55+": 0.2}}
    )
    for bucket in ("18-24", "25-34", "35-44"):
        create_persona(project=project, demographics={"age_group": bucket})
    report = validate_personas(project)
    age = _category(report, "age_group")
    assert age["method"] == "monte_carlo" and age["low_expected"] and age["p_value"] > 0.05
    assert age["tvd"] == pytest.approx(0.4) and age["verdict"] == "inconclusive"
    assert report["overall"] == "warn"
    assert validate_personas(project)["categories"][0]["p_value"] == age["p_value"]


def test_a_project_without_personas_reports_no_data():
    report = validate_personas(create_project())
    assert report["computed_on"] == 0 and report["overall"] == "no_data"
    assert all(c["verdict"] == "no_data" for c in report["categories"])
    assert statements(report, "en") == ["No saved personas: nothing to check."]


def test_validation_query_count_does_not_grow_with_the_number_of_personas(django_assert_max_num_queries):
    project = create_project()
    for _ in range(3):
        create_persona(project=project)
    with django_assert_max_num_queries(2):
        validate_personas(project)
    for _ in range(60):
        create_persona(project=project)
    with django_assert_max_num_queries(2):
        report = validate_personas(project)
    assert report["computed_on"] == 63


def test_story_comparison_is_capped_at_a_deterministic_sample_of_500(django_assert_max_num_queries):
    project = create_project(target_demographics={"gender": {"female": 1.0}})
    rng = random.Random(5)
    Persona.objects.bulk_create(
        [
            Persona(
                project=project, full_name=f"P {i}", background_story=_story(rng), demographics={"gender": "female"}
            )
            for i in range(510)
        ]
    )
    with django_assert_max_num_queries(2):
        report = validate_personas(project)
    stories = report["diversity"]["stories"]
    assert report["computed_on"] == 510 and stories["compared"] == 500 and stories["sampled"]
    assert "Stories were compared on a sample of 500 personas." in statements(report, "en")
    assert validate_personas(project)["diversity"]["stories"] == stories


def test_persona_access_helper_hides_other_users_and_deleted_personas():
    owner, stranger = create_user(), create_user()
    persona = create_persona(project=create_project(owner=owner))
    assert get_persona_for_user(owner, persona.id) == persona
    with pytest.raises(Http404):
        get_persona_for_user(stranger, persona.id)
    persona.soft_delete()
    with pytest.raises(Http404):
        get_persona_for_user(owner, persona.id)
    assert get_persona_for_user(owner, persona.id, include_deleted=True).is_deleted
    assert (
        list(Persona.objects.for_user(owner).deleted()) == [persona]
        and not Persona.objects.for_user(owner).active().exists()
    )
    assert not Persona.objects.for_user(stranger).exists()
    persona.restore()
    assert list(Persona.objects.for_user(owner).active()) == [persona]


def test_run_access_helper_is_scoped_to_the_project_owner():
    run = create_run()
    assert get_persona_run_for_user(run.project.owner, run.id) == run
    with pytest.raises(Http404):
        get_persona_run_for_user(create_user(), run.id)


def test_a_run_index_can_be_saved_only_once():
    run = create_run()
    create_persona(project=run.project, run=run, index=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        create_persona(project=run.project, run=run, index=3)
    create_persona(project=run.project, run=create_run(project=run.project), index=3)


def test_traits_outside_the_unit_interval_are_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        create_persona(openness=1.2)


def test_segments_link_runs_and_personas_and_name_search_uses_the_trigram_index():
    run = create_run()
    segment = Segment.objects.create(
        run=run, project=run.project, index=0, name="Młodzi miejscy", characteristics=["mobile first"]
    )
    persona = create_persona(project=run.project, run=run, segment=segment, full_name="Zofia Wiśniewska")
    assert list(run.segments.all()) == [segment] and list(segment.personas.all()) == [persona]
    assert list(Persona.objects.filter(full_name__icontains="wiśniew")) == [persona]
    assert persona.traits.keys() == set(TRAITS) and list(persona.big_five) == list(TRAITS[:5])


def test_persona_admin_lists_filters_and_searches(admin_client: Client):
    run = create_run()
    segment = Segment.objects.create(run=run, project=run.project, index=0, name="Segment A")
    create_persona(project=run.project, segment=segment, full_name="Jan Nowak", occupation="nauczyciel")
    create_persona(project=run.project, full_name="Ewa Lis").soft_delete()
    page = admin_client.get("/admin/personas/persona/", {"q": "nauczyciel", "deleted": "no", "gender": "female"})
    assert page.status_code == 200 and "Jan Nowak" in page.text and "Ewa Lis" not in page.text
    assert admin_client.get("/admin/personas/persona/", {"deleted": "yes"}).text.count("Ewa Lis") >= 1
    assert admin_client.get("/admin/personas/personarun/").status_code == 200
    assert admin_client.get("/admin/personas/segment/").status_code == 200
