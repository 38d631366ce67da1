"""Kreator ankiety: schematy wejścia, walidacja kwestionariusza (422 z nazwą pola), tworzenie, zmiana, kopia i szablony.

Kwestionariusz zmienia się tylko w szkicu; pytania są zapisywane w całości od nowa (w szkicu nie ma jeszcze odpowiedzi),
a opcje mają stałe identyfikatory, więc reguły pomijania i wyniki odwołują się do nich, nie do etykiet.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from django.db import transaction
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from ninja import Field
from pydantic import StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

import config
from personas.browsing import PersonaFilters
from sight.errors import Conflict, InvalidInput
from sight.models import Project
from sight.schemas import InputSchema, schema_bound
from sight.text import has_nul
from surveys.models import Question, Survey

Construct = Literal["agreement", "likelihood", "purchase_intent", "satisfaction", "importance"]
PIPE = re.compile(r"\{Q(\d+)\}")


class OptionIn(InputSchema):
    """Opcja odpowiedzi: stały identyfikator (nadawany, gdy brak) i etykieta."""

    id: str | None = Field(None, pattern=r"^[a-z0-9_]{1,32}$")
    label: str = Field(min_length=1, max_length=300)


class SkipRuleIn(InputSchema):
    """Pokaż pytanie tylko, gdy odpowiedź na wcześniejsze pytanie (numer od 1) jest jedną z wartości."""

    question: StrictInt = Field(ge=1, description="number of an earlier question (1-based)")
    values: list[StrictStr | StrictInt] = Field(
        min_length=1, max_length=20, description="option ids or scale points that show"
    )


class QuestionIn(InputSchema):
    """Pytanie ankiety; pola ustawień dotyczą tylko swojego typu."""

    type: Question.Type
    text: str = Field(min_length=1, max_length=2000, description="{Q1} inserts the answer to question 1 (piping)")
    help_text: str = Field("", max_length=2000)
    required: StrictBool = True
    options: list[OptionIn] = Field(default_factory=list, max_length=100)
    min_picks: StrictInt | None = Field(None, ge=1, le=100)
    max_picks: StrictInt | None = Field(None, ge=1, le=100)
    points: Literal[5, 7] | None = Field(None, description="rating scale: 5 or 7 points")
    # Alias, bo `construct` przesłania metodę BaseModel.construct.
    scale_construct: Construct | None = Field(None, alias="construct")
    low_label: str = Field("", max_length=200)
    high_label: str = Field("", max_length=200)
    method: Question.Method | None = None
    min: StrictFloat | StrictInt | None = None
    max: StrictFloat | StrictInt | None = None
    unit: str = Field("", max_length=20)
    show_if: SkipRuleIn | None = None


class RespondentsIn(InputSchema):
    """Respondenci: cały panel (nic nie podane), segment, filtry albo N person pasujących do filtrów."""

    segment_id: uuid.UUID | None = None
    filters: PersonaFilters | None = None
    count: StrictInt | None = Field(None, ge=1, le=5000)


class SurveyIn(InputSchema):
    """Nowa ankieta."""

    name: str = Field(min_length=1, max_length=255)
    description: str = Field("", max_length=4000)
    questions: list[QuestionIn] = Field(max_length=200)
    respondents: RespondentsIn = Field(default_factory=RespondentsIn)
    seed: StrictInt | None = Field(None, ge=0, le=2**31)
    use_knowledge: bool = Field(False, description="respondents know the project's documents (answers cite passages)")


class SurveyPatch(InputSchema):
    """Zmiana szkicu ankiety."""

    name: str | None = Field(None, min_length=1, max_length=255)
    description: str | None = Field(None, max_length=4000)
    questions: list[QuestionIn] | None = Field(None, max_length=200)
    respondents: RespondentsIn | None = None
    seed: StrictInt | None = Field(None, ge=0, le=2**31)
    use_knowledge: bool | None = None


class FromTemplateIn(InputSchema):
    """Ankieta z szablonu (w języku projektu)."""

    template: str = Field(min_length=1, max_length=64, json_schema_extra=schema_bound(enum=lambda: sorted(templates())))
    name: str | None = Field(None, min_length=1, max_length=255)


# --- walidacja ---------------------------------------------------------------------------------------------------

FIELD_LABELS: dict[str, Promise] = {
    "text": _("text"),
    "help_text": _("help text"),
    "options": _("options"),
    "min_picks": _("minimum picks"),
    "max_picks": _("maximum picks"),
    "points": _("scale points"),
    "low_label": _("low end label"),
    "high_label": _("high end label"),
    "min": _("minimum"),
    "max": _("maximum"),
    "unit": _("unit"),
    "show_if": _("skip rule"),
}


def _type(value: str) -> Promise | str:
    """Nazwa typu pytania dla ludzi (etykieta, nie klucz danych)."""
    return Question.Type(value).label if value in Question.Type.values else value


def field_label(field: str) -> str:
    """Pole błędu dla ludzi: „questions.2.options” → „Pytanie 3, opcje”; inne pola bez zmian."""
    parts = field.split(".")
    if len(parts) == 3 and parts[0] == "questions" and parts[1].isdigit():
        part = FIELD_LABELS.get(parts[2], parts[2])
        return str(format_lazy(_("Question {number}, {field}"), number=int(parts[1]) + 1, field=part))
    return field


def _text(value: str, field: str, *, required: bool = False) -> str:
    if has_nul(value):
        raise InvalidInput(field, _("Text must not contain NUL characters."))
    value = value.strip()
    if required and not value:
        raise InvalidInput(field, _("must not be blank"))
    return value


def _options(q: QuestionIn, field: str) -> list[dict[str, str]]:
    """Opcje z identyfikatorami; brak opcji, za dużo, powtórzona etykieta albo identyfikator to InvalidInput."""
    limit = config.load_features().surveys.max_options
    if q.type not in Question.WITH_OPTIONS:
        if q.options:
            raise InvalidInput(
                f"{field}.options", format_lazy(_("a {type} question has no options"), type=_type(q.type))
            )
        return []
    if len(q.options) < 2:
        raise InvalidInput(f"{field}.options", _("needs at least 2 options"))
    if len(q.options) > limit:
        raise InvalidInput(f"{field}.options", format_lazy(_("at most {limit} options are allowed"), limit=limit))
    labels = [_text(o.label, f"{field}.options", required=True) for o in q.options]
    duplicates = sorted({label for label in labels if [x.casefold() for x in labels].count(label.casefold()) > 1})
    if duplicates:
        raise InvalidInput(
            f"{field}.options", format_lazy(_("duplicate option labels: {labels}"), labels=", ".join(duplicates))
        )
    ids = [o.id or f"o{i + 1}" for i, o in enumerate(q.options)]
    if len(set(ids)) != len(ids):
        raise InvalidInput(f"{field}.options", _("option ids must be unique"))
    return [{"id": i, "label": label} for i, label in zip(ids, labels, strict=True)]


def _settings(q: QuestionIn, field: str, options: list[dict[str, str]]) -> dict[str, Any]:
    """Ustawienia typu: wybory min/max, skala (5 albo 7 punktów, konstrukt, końce, metoda), zakres i jednostka."""
    if q.type == Question.Type.MULTIPLE_CHOICE:
        low, high = q.min_picks or 1, q.max_picks or len(options)
        if low > high:
            raise InvalidInput(f"{field}.min_picks", _("min_picks is greater than max_picks"))
        if high > len(options):
            raise InvalidInput(f"{field}.max_picks", _("max_picks is greater than the number of options"))
        return {"min_picks": low, "max_picks": high}
    if q.type == Question.Type.RATING:
        points = q.points or 5
        if points not in config.SSR_SCALES:
            allowed = format_lazy(
                _("{first} or {last}"), first=", ".join(map(str, config.SSR_SCALES[:-1])), last=config.SSR_SCALES[-1]
            )
            raise InvalidInput(
                f"{field}.points", format_lazy(_("a rating scale has {allowed} points"), allowed=allowed)
            )
        return {
            "points": points,
            "construct": q.scale_construct or "agreement",
            "low_label": _text(q.low_label, f"{field}.low_label"),
            "high_label": _text(q.high_label, f"{field}.high_label"),
            "method": q.method or Question.Method.SSR,
        }
    if q.type == Question.Type.NUMERIC:
        low, high = q.min if q.min is not None else 0.0, q.max if q.max is not None else 1_000_000.0
        if low > high:
            raise InvalidInput(f"{field}.min", _("min is greater than max"))
        return {"min": low, "max": high, "unit": _text(q.unit, f"{field}.unit")}
    return {}


def _skip_rule(q: QuestionIn, index: int, field: str, earlier: list[dict[str, Any]]) -> dict[str, Any]:
    """Reguła pomijania: tylko wcześniejsze pytanie z odpowiedzią, którą da się porównać, i znane wartości."""
    if q.show_if is None:
        return {}
    number = q.show_if.question
    if number > index:
        raise InvalidInput(
            f"{field}.show_if",
            format_lazy(_("question {number} can depend only on an earlier question"), number=index + 1),
        )
    source = earlier[number - 1]
    if source["type"] in (Question.Type.OPEN_TEXT, Question.Type.RANKING, Question.Type.NUMERIC):
        raise InvalidInput(
            f"{field}.show_if",
            format_lazy(_("a skip rule cannot depend on a {type} question"), type=_type(source["type"])),
        )
    known: set[str | int] = (
        {o["id"] for o in source["options"]}
        if source["options"]
        else set(range(0, 11) if source["type"] == Question.Type.NPS else range(1, source["settings"]["points"] + 1))
    )
    unknown = [str(v) for v in q.show_if.values if v not in known]
    if unknown:
        raise InvalidInput(
            f"{field}.show_if",
            format_lazy(
                _("values not among question {number}'s answers: {values}"), number=number, values=", ".join(unknown)
            ),
        )
    return {"question": number, "values": list(q.show_if.values)}


def _pipes(text: str, index: int, field: str) -> None:
    """Wstawienie odpowiedzi `{Qn}` tylko z wcześniejszego pytania."""
    for match in PIPE.finditer(text):
        if not 1 <= int(match.group(1)) <= index:
            raise InvalidInput(
                f"{field}.text", format_lazy(_("{pipe} must refer to an earlier question"), pipe=match.group(0))
            )


def clean_questions(items: Sequence[QuestionIn]) -> list[dict[str, Any]]:
    """Kwestionariusz jako lista słowników do zapisu; pierwszy błąd to InvalidInput z polem `questions.<i>.<pole>`."""
    limit = config.load_features().surveys.max_questions
    if not items:
        raise InvalidInput("questions", _("a survey needs at least one question"))
    if len(items) > limit:
        raise InvalidInput("questions", format_lazy(_("at most {limit} questions are allowed"), limit=limit))
    result: list[dict[str, Any]] = []
    for i, q in enumerate(items):
        field = f"questions.{i}"
        text = _text(q.text, f"{field}.text", required=True)
        _pipes(text, i, field)
        options = _options(q, field)
        result.append(
            {
                "order": i,
                "type": q.type,
                "text": text,
                "help_text": _text(q.help_text, f"{field}.help_text"),
                "required": q.required,
                "options": options,
                "settings": _settings(q, field, options),
                "show_if": _skip_rule(q, i, field, result),
            }
        )
    return result


def _respondents(spec: RespondentsIn) -> dict[str, Any]:
    limit = config.load_features().surveys.max_respondents
    if spec.count is not None and spec.count > limit:
        raise InvalidInput("respondents.count", format_lazy(_("at most {limit} respondents are allowed"), limit=limit))
    return spec.model_dump(mode="json", exclude_none=True)


# --- zapis -------------------------------------------------------------------------------------------------------


def _replace_questions(survey: Survey, questions: list[dict[str, Any]]) -> None:
    survey.questions.all().delete()
    Question.objects.bulk_create([Question(survey=survey, **q) for q in questions])


@transaction.atomic
def create_survey(project: Project, data: SurveyIn) -> Survey:
    """Tworzy szkic ankiety w języku projektu."""
    questions = clean_questions(data.questions)
    survey = Survey.objects.create(
        project=project,
        name=_text(data.name, "name", required=True),
        description=_text(data.description, "description"),
        language=project.language,
        seed=data.seed if data.seed is not None else config.load_features().personas.default_seed,
        respondents_spec=_respondents(data.respondents),
        use_knowledge=data.use_knowledge,
    )
    _replace_questions(survey, questions)
    return survey


@transaction.atomic
def update_survey(survey: Survey, data: SurveyPatch) -> Survey:
    """Zmienia szkic; wystawiona ankieta to Conflict (409) — trzeba ją skopiować."""
    survey = Survey.objects.select_for_update().select_related("project").get(pk=survey.pk)
    if not survey.is_editable:
        raise Conflict(_("a fielded survey is read-only; copy it to change it"))
    values = data.dict(exclude_unset=True)
    if values.get("name") is not None:
        survey.name = _text(values["name"], "name", required=True)
    if values.get("description") is not None:
        survey.description = _text(values["description"], "description")
    if data.seed is not None:
        survey.seed = data.seed
    if data.use_knowledge is not None:
        survey.use_knowledge = data.use_knowledge
    if data.respondents is not None:
        survey.respondents_spec = _respondents(data.respondents)
    if data.questions is not None:
        _replace_questions(survey, clean_questions(data.questions))
    survey.save()
    return survey


@transaction.atomic
def copy_survey(survey: Survey) -> Survey:
    """Nowy szkic z tym samym kwestionariuszem, respondentami i ziarnem (ta sama próba trafia w cache LLM)."""
    copy = Survey.objects.create(
        project=survey.project,
        name=f"{survey.name} (copy)"[:255],
        description=survey.description,
        language=survey.language,
        seed=survey.seed,
        respondents_spec=survey.respondents_spec,
        use_knowledge=survey.use_knowledge,
    )
    fields = ("order", "type", "text", "help_text", "required", "options", "settings", "show_if")
    Question.objects.bulk_create(
        [Question(survey=copy, **{f: getattr(q, f) for f in fields}) for q in survey.questions.order_by("order")]
    )
    return copy


def delete_survey(survey: Survey) -> None:
    """Usuwa ankietę, która nie jest w trakcie badania."""
    if survey.is_active:
        raise Conflict(_("a survey cannot be deleted while it is being fielded"))
    survey.delete()


# --- szablony ----------------------------------------------------------------------------------------------------


@cache
def _load_templates(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def templates() -> dict[str, Any]:
    """Szablony z `config/surveys/templates.yaml`: id → etykiety i wersje pl/en."""
    return _load_templates(config.CONFIG_DIR / "surveys" / "templates.yaml")


def template_list(language: str) -> list[dict[str, Any]]:
    """Szablony z etykietą i pytaniami w danym języku (API i strona kreatora)."""
    return [
        {"id": tid, "label": t["label"].get(language) or t["label"]["en"], **t.get(language, t["en"])}
        for tid, t in templates().items()
    ]


def template_survey(template_id: str, language: str) -> SurveyIn:
    """Szablon jako dane nowej ankiety; nieznany szablon to InvalidInput przy polu `template`."""
    if template_id not in templates():
        raise InvalidInput(
            "template", format_lazy(_("unknown template; known: {templates}"), templates=", ".join(sorted(templates())))
        )
    body = templates()[template_id].get(language) or templates()[template_id]["en"]
    try:
        return SurveyIn.model_validate(body)
    except ValidationError as exc:  # błąd w pliku konfiguracji, nie w żądaniu
        raise ValueError(f"config/surveys/templates.yaml: {template_id}.{language}: {exc}") from exc


def create_from_template(project: Project, data: FromTemplateIn) -> Survey:
    """Szkic ankiety z szablonu w języku projektu (nazwa z szablonu, gdy nie podano)."""
    body = template_survey(data.template, project.language)
    if data.name:
        body.name = data.name
    return create_survey(project, body)


# --- kolejność ---------------------------------------------------------------------------------------------------


def move_question(items: list[dict[str, Any]], index: int, offset: int) -> list[dict[str, Any]]:
    """Przesuwa pytanie (słowniki w kształcie `QuestionIn`) o `offset` miejsc; numery pytań w regułach pomijania i
    wstawieniach `{Qn}` idą za pytaniami. Przesunięcie poza listę nic nie zmienia; reguła, która po zmianie wskazuje
    późniejsze pytanie, zostaje i walidacja przy zapisie zgłasza ją z nazwą pola.
    """
    target = index + offset
    if not (0 <= index < len(items) and 0 <= target < len(items)):
        return items
    order = list(range(len(items)))
    order.insert(target, order.pop(index))
    number = {old + 1: new + 1 for new, old in enumerate(order)}

    def renumber(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f"{{Q{number.get(n, n)}}}"

    moved = []
    for old in order:
        q = {**items[old], "text": PIPE.sub(renumber, items[old]["text"])}
        if q.get("show_if"):
            q["show_if"] = {**q["show_if"], "question": number.get(q["show_if"]["question"], q["show_if"]["question"])}
        moved.append(q)
    return moved
