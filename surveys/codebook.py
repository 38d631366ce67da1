"""Księga kodów eksportu: zmienne w stylu SPSS (q1, q2_1 …) z etykietami zmiennych i wartości oraz ich wartości.

Jedna definicja dla pliku `.sav` i dla XLSX (arkusz danych i arkusz „księga kodów”): wybór pojedynczy to kod opcji
z etykietami, wybór wielokrotny to zmienna 0/1 na opcję, ranking to zmienna z miejscem na opcję, skala to punkt (przy
SSR losowanie z ziarnem) i osobna zmienna z wartością oczekiwaną, tekst otwarty to zmienna tekstowa. Brak odpowiedzi
(pominięte albo nieudane pytanie) to brak danych, nigdy zero. Stałe etykiety w języku widza (aktywny gettext).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from django.utils.translation import gettext as _

from personas.models import Persona
from sight.demographics import bucket_label
from surveys.models import Answer, Question, Survey

Type = Question.Type
Measure = Literal["nominal", "ordinal", "scale"]
PERSONA_FIELDS = ("gender", "education", "income", "location")


class AnswerCell(NamedTuple):
    """Pola odpowiedzi potrzebne eksportom (bez obiektu modelu i rozkładu SSR: 20 000 odpowiedzi czyta się szybko)."""

    value: Any
    text: str
    expected_value: float | None
    failed: bool


def answer_cells(survey: Survey) -> dict[tuple[Any, Any], AnswerCell]:
    """Odpowiedzi ankiety jednym zapytaniem: (persona, pytanie) → pola eksportu."""
    rows = (
        Answer.objects.filter(survey=survey)
        .order_by()
        .values_list("persona_id", "question_id", "value", "text", "expected_value", "failed")
    )
    return {(persona, question): AnswerCell(*rest) for persona, question, *rest in rows}


@dataclass(frozen=True)
class Variable:
    """Zmienna eksportu: nazwa bezpieczna dla SPSS, etykieta, skala pomiaru, etykiety wartości i sposób odczytu."""

    name: str
    label: str
    measure: Measure
    kind: str
    text: bool = False
    values: dict[int, str] = field(default_factory=dict)
    question: Question | None = None
    option: str = ""

    def value(self, persona: Persona, position: int, answer: AnswerCell | None) -> Any:
        """Wartość zmiennej dla respondenta: kod, liczba albo tekst; None (albo pusty tekst) przy braku odpowiedzi."""
        if self.question is None:
            return _persona_value(self.kind, persona, position)
        if answer is None or answer.failed:
            return "" if self.text else None
        return _answer_value(self, answer)

    def value_label(self, code: Any) -> Any:
        """Etykieta kodu (XLSX pokazuje etykiety, nie kody) albo sama wartość, gdy etykiety nie ma."""
        return self.values.get(code, code) if self.kind == "choice" else code


def _persona_value(kind: str, persona: Persona, position: int) -> Any:
    if kind == "respondent":
        return position
    if kind == "name":
        return persona.full_name
    if kind == "age":
        return persona.age
    if kind == "segment":
        return persona.segment.name if persona.segment else ""
    return bucket_label(kind, getattr(persona, kind))


def _answer_value(var: Variable, answer: AnswerCell) -> Any:
    q = var.question
    assert q is not None
    if var.kind == "text":
        return answer.text
    if var.kind == "choice":
        ids = [o["id"] for o in q.options]
        return ids.index(answer.value) + 1 if answer.value in ids else None
    if var.kind == "picked":
        return int(var.option in (answer.value or []))
    if var.kind == "rank":
        order = list(answer.value or [])
        return order.index(var.option) + 1 if var.option in order else None
    if var.kind == "expected":
        return None if answer.expected_value is None else round(answer.expected_value, 4)
    if isinstance(answer.value, bool) or not isinstance(answer.value, int | float):
        return None
    return answer.value


def _scale_labels(q: Question) -> dict[int, str]:
    """Etykiety punktów skali: końce z kreatora (albo stałe końce NPS), środek jako liczby."""
    if q.type == Type.NPS:
        ends = {0: _("Not at all likely"), 10: _("Extremely likely")}
        return {p: ends.get(p, str(p)) for p in range(0, 11)}
    points = q.points
    ends = {1: q.settings.get("low_label") or "", points: q.settings.get("high_label") or ""}
    return {p: ends.get(p) or str(p) for p in range(1, points + 1)}


def question_variables(q: Question) -> list[Variable]:
    """Zmienne jednego pytania (nazwy q<n> albo q<n>_<i> dla opcji wyboru wielokrotnego i rankingu)."""
    name, label = f"q{q.number}", q.text
    if q.type == Type.SINGLE_CHOICE:
        values = {i: o["label"] for i, o in enumerate(q.options, start=1)}
        return [Variable(name, label, "nominal", "choice", values=values, question=q)]
    if q.type in (Type.MULTIPLE_CHOICE, Type.RANKING):
        picked = q.type == Type.MULTIPLE_CHOICE
        values = {0: _("not selected"), 1: _("selected")} if picked else {}
        return [
            Variable(
                f"{name}_{i}",
                f"{label}: {o['label']}",
                "nominal" if picked else "ordinal",
                "picked" if picked else "rank",
                values=values,
                question=q,
                option=o["id"],
            )
            for i, o in enumerate(q.options, start=1)
        ]
    if q.type in (Type.RATING, Type.NPS):
        out = [Variable(name, label, "ordinal", "point", values=_scale_labels(q), question=q)]
        if q.method == Question.Method.SSR:
            out.append(Variable(f"{name}_ev", f"{label} ({_('expected value')})", "scale", "expected", question=q))
        return out
    if q.type == Type.NUMERIC:
        unit = q.settings.get("unit") or ""
        return [Variable(name, f"{label} [{unit}]" if unit else label, "scale", "number", question=q)]
    return [Variable(name, label, "nominal", "text", text=True, question=q)]


def survey_variables(questions: list[Question]) -> list[Variable]:
    """Wszystkie zmienne: respondent i cechy persony, potem pytania w kolejności."""
    people = [
        Variable("respondent", _("Respondent"), "nominal", "respondent"),
        Variable("name", _("Full name"), "nominal", "name", text=True),
        Variable("gender", _("Gender"), "nominal", "gender", text=True),
        Variable("age", _("Age"), "scale", "age"),
        Variable("education", _("Education"), "nominal", "education", text=True),
        Variable("income", _("Income"), "nominal", "income", text=True),
        Variable("location", _("Location"), "nominal", "location", text=True),
        Variable("segment", _("Segment"), "nominal", "segment", text=True),
    ]
    return people + [v for q in questions for v in question_variables(q)]


def survey_table(survey: Survey) -> tuple[list[Variable], list[list[Any]]]:
    """Zmienne i wiersze (respondent po respondencie) w trzech zapytaniach, niezależnie od liczby pytań."""
    questions = list(survey.questions.order_by("order"))
    variables = survey_variables(questions)
    respondents = survey.respondents.select_related("persona", "persona__segment").order_by("position")
    answers = answer_cells(survey)
    rows = []
    for position, r in enumerate(respondents, start=1):
        p = r.persona
        row = [v.value(p, position, answers.get((p.id, v.question.id)) if v.question else None) for v in variables]
        rows.append(row)
    return variables, rows


def describe_values(var: Variable) -> str:
    """Etykiety wartości jako tekst księgi kodów: „1 = PKO; 2 = mBank”."""
    return "; ".join(f"{code} = {label}" for code, label in var.values.items())
