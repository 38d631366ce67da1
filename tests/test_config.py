"""Konfiguracja YAML: dostarczone pliki są poprawne i spójne, a zepsute kopie dają błąd z nazwą pliku i pola."""

from __future__ import annotations

import itertools
import math
import shutil
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import SystemCheckError

import config
from sight.checks import check_config
from sight.demographics import demographics_errors

SHIPPED = Path(config.__file__).resolve().parent
PROMPT_NAMES = sorted(p.stem for p in (SHIPPED / "prompts" / "en").glob("*.yaml"))
PRESET_IDS = ("poland", "us")
REQUIRED_PROMPTS = {
    "persona_orchestration",
    "persona_generation",
    "persona_needs",
    "moderator",
    "focus_group_turn",
    "stance",
    "summary",
    "survey_answer",
    "concept_extraction",
}


@pytest.fixture
def config_copy(tmp_path: Path) -> Iterator[Path]:
    """Kopia dostarczonej konfiguracji w tmp_path, ustawiona jako bieżąca; po teście wraca oryginał."""
    original = config.CONFIG_DIR
    copy = tmp_path / "config"
    shutil.copytree(SHIPPED, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    config.use_dir(copy)
    yield copy
    config.use_dir(original)


def edit_yaml(path: Path, change: Callable[[Any], None]) -> None:
    """Wczytuje plik YAML, zmienia dane w miejscu i zapisuje z powrotem."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def used_variables(prompt: config.Prompt) -> set[str]:
    return {
        m.group("named") or m.group("braced")
        for text in (prompt.system, prompt.user)
        for m in string.Template.pattern.finditer(text)
        if m.group("named") or m.group("braced")
    }


def age_range(bucket: str) -> tuple[int, int]:
    if bucket.endswith("+"):
        return int(bucket[:-1]), 100
    low, high = bucket.split("-")
    return int(low), int(high)


# --- the shipped configuration ---------------------------------------------------------------------------------------


def test_shipped_config_loads_without_errors():
    config.reload()
    assert config.load_models().role("moderator").model
    assert config.load_features().personas.max_per_run >= 1
    assert REQUIRED_PROMPTS <= config.load_prompts().names()
    assert set(PRESET_IDS) <= set(config.load_demographics())


def test_system_check_is_clean_for_shipped_config():
    config.reload()
    assert check_config() == []


def test_every_prompt_has_an_llm_role_in_models_yaml():
    models = config.load_models()
    for name in config.load_prompts().names():
        assert models.role(name).name == name


def test_polish_and_english_prompts_declare_the_same_variables():
    prompts = config.load_prompts()
    for name in prompts.names():
        pl, en = prompts.get(name, "pl"), prompts.get(name, "en")
        assert pl.id == en.id == name
        assert pl.version == en.version
        assert sorted(pl.variables) == sorted(en.variables)
        assert pl.description and en.description


@pytest.mark.parametrize("language", config.LANGUAGES)
@pytest.mark.parametrize("name", PROMPT_NAMES)
def test_prompt_renders_with_exactly_its_declared_variables(name, language):
    prompt = config.load_prompts().get(name, language)
    assert used_variables(prompt) == set(prompt.variables)
    values = {v: f"<<value of {v}>>" for v in prompt.variables}
    system, user = prompt.render(**values)
    for v in prompt.variables:
        assert f"<<value of {v}>>" in system + user
    assert "$" not in system + user


def test_prompt_render_refuses_a_missing_variable():
    prompt = config.load_prompts().get("stance", "en")
    with pytest.raises(KeyError, match="transcript"):
        prompt.render(persona_profile="x", proposition="y")


@pytest.mark.parametrize(("language", "warning"), [("en", "untrusted"), ("pl", "niezaufane")])
def test_prompts_that_receive_documents_call_them_untrusted_and_never_template_them(language, warning):
    prompts = config.load_prompts()
    for name in ("persona_generation", "focus_group_turn", "survey_answer"):
        prompt = prompts.get(name, language)
        assert warning in prompt.system.lower() and "sources" in prompt.system
        # Fragmenty dokumentów idą osobną wiadomością, nigdy przez zmienną szablonu.
        assert "rag_context" not in prompt.variables and "<<<DOCS" not in prompt.user


def test_presets_for_poland_and_the_us_exist():
    presets = config.load_demographics()
    assert (presets["poland"].language, presets["poland"].country) == ("pl", "PL")
    assert (presets["us"].language, presets["us"].country) == ("en", "US")


@pytest.mark.parametrize("preset_id", PRESET_IDS)
def test_every_category_of_a_preset_sums_to_one_and_is_a_valid_project_target(preset_id):
    preset = config.load_demographics()[preset_id]
    assert {"age_group", "gender", "education", "income", "location", "region"} <= set(preset.categories)
    for category in preset.categories.values():
        assert math.isclose(math.fsum(category.buckets.values()), 1.0, abs_tol=1e-9)
    assert demographics_errors(preset.target_demographics()) == {}


def test_both_presets_use_the_same_category_names():
    presets = config.load_demographics()
    assert set(presets["poland"].categories) == set(presets["us"].categories)


@pytest.mark.parametrize("preset_id", PRESET_IDS)
def test_every_category_and_bucket_has_a_polish_and_english_label(preset_id):
    preset = config.load_demographics()[preset_id]
    assert set(preset.label) == {"pl", "en"}
    for category in preset.categories.values():
        assert set(category.label) == {"pl", "en"}
        assert set(category.bucket_labels) == set(category.buckets)
        for labels in category.bucket_labels.values():
            assert set(labels) == {"pl", "en"}
            assert all(text.strip() for text in labels.values())


@pytest.mark.parametrize("preset_id", PRESET_IDS)
def test_occupations_only_use_buckets_of_their_preset(preset_id):
    preset = config.load_demographics()[preset_id]
    education, income = set(preset.categories["education"].buckets), set(preset.categories["income"].buckets)
    for occupation in preset.vocabularies.occupations:
        assert occupation.education, occupation.name
        assert occupation.income, occupation.name
        assert set(occupation.education) <= education, occupation.name
        assert set(occupation.income) <= income, occupation.name
        assert 18 <= occupation.min_age <= occupation.max_age, occupation.name


@pytest.mark.parametrize("preset_id", PRESET_IDS)
def test_every_age_education_and_income_combination_has_a_fitting_occupation(preset_id):
    preset = config.load_demographics()[preset_id]
    cats = preset.categories
    for age, education, income in itertools.product(
        cats["age_group"].buckets, cats["education"].buckets, cats["income"].buckets
    ):
        low, high = age_range(age)
        fitting = [
            o
            for o in preset.vocabularies.occupations
            if o.min_age <= high and o.max_age >= low and education in o.education and income in o.income
        ]
        assert fitting, (age, education, income)


def test_a_surgeon_needs_a_degree_and_earns_well_and_a_student_is_young_and_earns_little():
    poland = config.load_demographics()["poland"].vocabularies.occupations
    surgeon = next(o for o in poland if o.name == "chirurg")
    student = next(o for o in poland if o.name.startswith("student"))
    assert surgeon.education == ["master"] and set(surgeon.income) <= {"10000-14999", "15000+"}
    assert student.max_age <= 26 and set(student.income) <= {"0-2999", "3000-4999"}


@pytest.mark.parametrize("preset_id", PRESET_IDS)
def test_vocabularies_are_large_enough_and_without_duplicates(preset_id):
    preset = config.load_demographics()[preset_id]
    vocab = preset.vocabularies
    assert set(vocab.first_names) == set(preset.categories["gender"].buckets)
    surname_lists = vocab.surnames.values() if isinstance(vocab.surnames, dict) else [vocab.surnames]
    lists = [
        *vocab.first_names.values(),
        *surname_lists,
        vocab.interests,
        vocab.values,
        vocab.communication_styles,
        vocab.decision_styles,
        vocab.concerns,
        [o.name for o in vocab.occupations],
    ]
    minimums = [40] * (len(vocab.first_names) + len(surname_lists)) + [40, 25, 10, 10, 25, 40]
    for items, minimum in zip(lists, minimums, strict=True):
        assert len(items) >= minimum
        assert len(set(items)) == len(items), [i for i in items if items.count(i) > 1]


def test_polish_surnames_have_a_matching_form_for_each_gender():
    vocab = config.load_demographics()["poland"].vocabularies
    assert isinstance(vocab.surnames, dict)
    assert set(vocab.surnames) == {"female", "male"}
    assert len(vocab.surnames["female"]) == len(vocab.surnames["male"])
    for female, male in zip(vocab.surnames["female"], vocab.surnames["male"], strict=True):
        if male.endswith(("ski", "cki", "dzki")):
            assert female == male[:-1] + "a"
        else:
            assert female == male


# --- broken copies: the error names the file and the field -----------------------------------------------------------


def test_typo_in_models_yaml_is_an_error_naming_the_file_and_field(config_copy):
    edit_yaml(config_copy / "models.yaml", lambda d: d["roles"]["moderator"].update(temprature=0.5))
    with pytest.raises(config.ConfigError) as exc:
        config.load_models()
    assert exc.value.path.name == "models.yaml"
    assert exc.value.field == "roles.moderator.temprature"
    assert "models.yaml: roles.moderator.temprature:" in str(exc.value)


def test_negative_temperature_is_an_error_naming_the_field(config_copy):
    edit_yaml(config_copy / "models.yaml", lambda d: d["defaults"].update(temperature=-0.1))
    with pytest.raises(config.ConfigError) as exc:
        config.load_models()
    assert exc.value.field == "defaults.temperature"
    assert "greater than or equal to 0" in str(exc.value)


def test_defaults_without_a_model_are_an_error(config_copy):
    edit_yaml(config_copy / "models.yaml", lambda d: d["defaults"].pop("model"))
    with pytest.raises(config.ConfigError, match="defaults must set model"):
        config.load_models()


def test_typo_in_features_yaml_is_an_error_naming_the_file_and_field(config_copy):
    edit_yaml(config_copy / "features.yaml", lambda d: d["focus_groups"].update(max_participant=5))
    with pytest.raises(config.ConfigError) as exc:
        config.load_features()
    assert exc.value.path.name == "features.yaml"
    assert exc.value.field == "focus_groups.max_participant"


def test_prompt_using_an_undeclared_variable_is_an_error_naming_the_file_and_variable(config_copy):
    path = config_copy / "prompts" / "en" / "moderator.yaml"
    edit_yaml(path, lambda d: d.update(user=d["user"] + "\nParticipants: $participants\n"))
    with pytest.raises(config.ConfigError) as exc:
        config.load_prompts()
    assert exc.value.path == path
    assert str(exc.value).startswith("prompts/en/moderator.yaml: ")
    assert "undeclared variables: participants" in str(exc.value)


def test_prompt_with_an_unknown_key_is_an_error_naming_the_field(config_copy):
    edit_yaml(config_copy / "prompts" / "pl" / "stance.yaml", lambda d: d.update(sytem=d["system"]))
    with pytest.raises(config.ConfigError) as exc:
        config.load_prompts()
    assert exc.value.path.parent.name == "pl"
    assert exc.value.field == "sytem"


def test_prompt_missing_in_one_language_is_an_error_naming_the_prompt(config_copy):
    (config_copy / "prompts" / "pl" / "stance.yaml").unlink()
    with pytest.raises(config.ConfigError) as exc:
        config.load_prompts()
    assert exc.value.path.name == "pl"
    assert "prompt sets differ between languages: stance" in str(exc.value)


def test_prompt_only_in_one_language_is_an_error(config_copy):
    shutil.copy(config_copy / "prompts" / "en" / "stance.yaml", config_copy / "prompts" / "en" / "stance_v2.yaml")
    with pytest.raises(config.ConfigError, match="stance_v2"):
        config.load_prompts()


def test_moderator_instruction_missing_in_one_language_is_an_error_naming_the_file(config_copy):
    edit_yaml(config_copy / "prompts" / "pl" / "moderator.yaml", lambda data: data["instructions"].pop("invite"))
    with pytest.raises(config.ConfigError) as exc:
        config.load_prompts()
    assert exc.value.path.name == "moderator.yaml" and "invite" in str(exc.value)


@pytest.mark.parametrize("language", ["pl", "en"])
def test_moderator_instructions_render_in_the_projects_language_with_their_values(language):
    prompt = config.load_prompts().get("moderator", language)
    assert set(prompt.instructions) == {"open", "probe", "invite", "interjection", "close"}
    assert "Ewa Nowak" in prompt.instruction("invite", name="Ewa Nowak")
    assert "Why?" in prompt.instruction("probe", probe="Why?")
    with pytest.raises(KeyError):
        prompt.instruction("invite")


@pytest.mark.parametrize("weights", [{"female": 0.6, "male": 0.475}, {"female": 1.5, "male": -0.5}, {}])
def test_bucket_weights_not_summing_to_one_are_an_error_naming_the_file_and_field(config_copy, weights):
    path = config_copy / "demographics" / "poland.yaml"
    edit_yaml(path, lambda d: d["categories"]["gender"].update(buckets=weights))
    with pytest.raises(config.ConfigError) as exc:
        config.load_demographics()
    assert exc.value.path.name == "poland.yaml"
    assert exc.value.field == "categories.gender.buckets"
    assert "sum to 1" in str(exc.value)


def test_unknown_preset_language_is_an_error_naming_the_field(config_copy):
    edit_yaml(config_copy / "demographics" / "us.yaml", lambda d: d.update(language="de"))
    with pytest.raises(config.ConfigError) as exc:
        config.load_demographics()
    assert (exc.value.path.name, exc.value.field) == ("us.yaml", "language")


def test_occupation_with_a_typo_is_an_error_naming_its_position(config_copy):
    edit_yaml(
        config_copy / "demographics" / "us.yaml", lambda d: d["vocabularies"]["occupations"][2].update(max_agee=60)
    )
    with pytest.raises(config.ConfigError) as exc:
        config.load_demographics()
    assert exc.value.field == "vocabularies.occupations.2.max_agee"


def test_invalid_yaml_is_an_error_naming_the_file(config_copy):
    (config_copy / "models.yaml").write_text("defaults: [unclosed\nroles: {}\n", encoding="utf-8")
    with pytest.raises(config.ConfigError) as exc:
        config.load_models()
    assert str(exc.value).startswith("models.yaml: invalid YAML")


def test_missing_file_is_an_error_naming_the_file(config_copy):
    (config_copy / "features.yaml").unlink()
    with pytest.raises(config.ConfigError, match=r"^features\.yaml: file is missing$"):
        config.load_features()


def test_use_dir_switches_between_config_directories(config_copy):
    assert config.CONFIG_DIR == config_copy
    config.use_dir(SHIPPED)
    assert config.load_demographics()["poland"].id == "poland"


# --- system checks --------------------------------------------------------------------------------------------------


def test_system_check_reports_sight_e001_for_a_broken_models_yaml(config_copy):
    edit_yaml(config_copy / "models.yaml", lambda d: d["defaults"].update(temprature=0.5))
    errors = check_config()
    assert [e.id for e in errors] == ["sight.E001"]
    assert errors[0].msg.startswith("models.yaml: defaults.temprature: ")
    assert "field defaults.temprature" in errors[0].hint


@pytest.mark.parametrize(
    ("broken_file", "code"),
    [
        ("features.yaml", "sight.E002"),
        ("prompts/en/summary.yaml", "sight.E003"),
        ("demographics/us.yaml", "sight.E004"),
        ("surveys/anchors/pl.yaml", "sight.E009"),
        ("consistency.yaml", "sight.E010"),
    ],
)
def test_system_check_reports_each_broken_file_under_its_own_id(config_copy, broken_file, code):
    (config_copy / broken_file).write_text("{not: [valid yaml\n", encoding="utf-8")
    errors = check_config()
    assert [e.id for e in errors] == [code]
    assert Path(broken_file).name in errors[0].msg


def test_manage_py_check_fails_with_sight_e001_for_a_broken_models_yaml(config_copy):
    edit_yaml(config_copy / "models.yaml", lambda d: d["roles"]["summary"].update(temperature=-1))
    with pytest.raises(SystemCheckError) as exc:
        call_command("check")
    assert "sight.E001" in str(exc.value)
    assert "models.yaml: roles.summary.temperature" in str(exc.value)


def test_estimates_are_read_for_the_focus_group_roles():
    models = config.load_models()
    for role in ("moderator", "focus_group_turn", "stance"):
        assert models.estimate(role).input_tokens > 0
    with pytest.raises(KeyError):
        models.estimate("summary")


def test_estimate_for_an_unknown_role_is_an_error_naming_the_field(config_copy):
    edit_yaml(
        config_copy / "models.yaml", lambda data: data["estimates"].update({"moderater": data["estimates"]["stance"]})
    )
    with pytest.raises(config.ConfigError, match="moderater"):
        config.load_models()
