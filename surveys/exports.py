"""Eksport odpowiedzi: CSV (wiersz na respondenta, kolumny z etykietami, bezpieczny dla arkuszy), JSON, XLSX (dane
z etykietami i księga kodów) oraz SPSS `.sav` (etykiety zmiennych i wartości, skala pomiaru).

Zmienne XLSX i `.sav` definiuje `surveys/codebook.py`; CSV i JSON zostają w układzie „pytanie = kolumna”.
"""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path
from typing import Any

import polars as pl
import pyreadstat
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from sight.demographics import bucket_label
from sight.text import spreadsheet_csv
from surveys.codebook import AnswerCell, Variable, answer_cells, describe_values, survey_table, survey_variables
from surveys.models import Question, Survey

FORMATS = ("csv", "json", "xlsx", "sav")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/x-spss-sav",
}
# Limity formatu SPSS w bajtach UTF-8 (dłuższe readstat ucina sam, czasem w środku znaku).
SPSS_VARIABLE_LABEL_BYTES, SPSS_VALUE_LABEL_BYTES = 256, 120
BOLD = Font(bold=True)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(q: Question, answer: AnswerCell | None) -> Any:
    """Komórka: etykiety opcji, punkt skali (przy SSR losowanie z ziarnem), liczba albo tekst; pusta przy braku."""
    if answer is None or answer.failed:
        return ""
    labels = q.option_labels()
    if q.type == Question.Type.OPEN_TEXT:
        return answer.text
    if q.type == Question.Type.RANKING:
        return " > ".join(labels.get(v, v) for v in answer.value)
    if isinstance(answer.value, list):
        return "; ".join(labels.get(v, v) for v in answer.value)
    return labels.get(answer.value, answer.value) if isinstance(answer.value, str) else answer.value


def respondent_rows(survey: Survey) -> tuple[list[str], list[list[Any]]]:
    """Nagłówki i wiersze: respondent, cechy persony, po kolumnie na pytanie (+ wartość oczekiwana przy SSR)."""
    questions = list(survey.questions.order_by("order"))
    people = [r.persona for r in survey.respondents.select_related("persona", "persona__segment").order_by("position")]
    answers = answer_cells(survey)
    header = [v.label for v in survey_variables([])]
    for q in questions:
        header.append(f"Q{q.number} {q.text}")
        if q.method == Question.Method.SSR:
            header.append(f"Q{q.number} {_('expected value')}")
    rows = []
    for i, p in enumerate(people, start=1):
        row: list[Any] = [
            i,
            p.full_name,
            bucket_label("gender", p.gender),
            p.age,
            bucket_label("education", p.education),
            bucket_label("income", p.income),
            bucket_label("location", p.location),
        ]
        row.append(p.segment.name if p.segment else "")
        for q in questions:
            answer = answers.get((p.id, q.id))
            row.append(_cell(q, answer))
            if q.method == Question.Method.SSR:
                row.append("" if answer is None or answer.expected_value is None else round(answer.expected_value, 4))
        rows.append(row)
    return header, rows


# --- XLSX ---------------------------------------------------------------------------------------------------------


def _cells(sheet: Any, values: list[Any], *, bold: bool = False) -> list[Any]:
    """Wiersz arkusza w trybie strumieniowym; tekst zawsze jako tekst: bez formuły (openpyxl zamienia „=…” w formułę)
    i — gdy wygląda jak formuła — z prefiksem cytatu, więc Excel nie zrobi z niego formuły także po edycji komórki.
    """
    out = []
    for value in values:
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value)
        if isinstance(value, str):
            cell.data_type = "s"
            if value[:1] in FORMULA_STARTS:
                cell.quotePrefix = True
        if bold:
            cell.font = BOLD
        out.append(cell)
    return out


def _measure_label(measure: str) -> str:
    return {"nominal": _("nominal"), "ordinal": _("ordinal"), "scale": _("scale")}[measure]


def xlsx_bytes(survey: Survey) -> bytes:
    """Skoroszyt: arkusz odpowiedzi (nagłówek z etykietami, komórki z etykietami wartości) i księga kodów."""
    variables, rows = survey_table(survey)
    book = Workbook(write_only=True)
    data = book.create_sheet(_("Responses")[:31])
    data.freeze_panes = "A2"
    data.append(_cells(data, [var.label for var in variables], bold=True))
    for row in rows:
        data.append(_cells(data, [var.value_label(value) for var, value in zip(variables, row, strict=True)]))
    codes = book.create_sheet(_("Codebook")[:31])
    codes.append(_cells(codes, [_("Variable"), _("Question"), _("Measure"), _("Values and labels")], bold=True))
    for var in variables:
        codes.append(_cells(codes, [var.name, var.label, _measure_label(var.measure), describe_values(var)]))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- SPSS .sav ----------------------------------------------------------------------------------------------------


def _fit(text: str, limit: int) -> str:
    """Tekst przycięty do limitu bajtów UTF-8 na granicy znaku."""
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _column(var: Variable, values: list[Any]) -> pl.Series:
    if var.text:
        return pl.Series(var.name, [ILLEGAL_CHARACTERS_RE.sub("", v or "") for v in values], dtype=pl.Utf8)
    return pl.Series(var.name, [None if v is None else float(v) for v in values], dtype=pl.Float64)


def sav_bytes(survey: Survey) -> bytes:
    """Plik SPSS: zmienne z księgi kodów, etykiety zmiennych (treść pytań) i wartości, skala pomiaru."""
    variables, rows = survey_table(survey)
    columns = list(zip(*rows, strict=True)) if rows else [() for _v in variables]
    frame = pl.DataFrame([_column(var, list(col)) for var, col in zip(variables, columns, strict=True)])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "survey.sav"
        pyreadstat.write_sav(
            frame,
            path,
            file_label=_fit(survey.name, 64),
            column_labels={v.name: _fit(v.label, SPSS_VARIABLE_LABEL_BYTES) for v in variables},
            variable_value_labels={
                v.name: {code: _fit(label, SPSS_VALUE_LABEL_BYTES) for code, label in v.values.items()}
                for v in variables
                if v.values
            },
            variable_measure={v.name: v.measure for v in variables},
        )
        return path.read_bytes()


# --- odpowiedź HTTP -----------------------------------------------------------------------------------------------


def export(survey: Survey, fmt: str) -> HttpResponse:
    """Plik do pobrania: CSV, JSON (ankieta, pytania i respondenci z odpowiedziami), XLSX albo SPSS `.sav`."""
    if fmt == "xlsx":
        body: bytes | str = xlsx_bytes(survey)
    elif fmt == "sav":
        body = sav_bytes(survey)
    elif fmt == "json":
        header, rows = respondent_rows(survey)
        data = {
            "survey": {"id": str(survey.id), "name": survey.name, "language": survey.language, "seed": survey.seed},
            "questions": [q.as_dict() for q in survey.questions.order_by("order")],
            "respondents": [dict(zip(header, row, strict=True)) for row in rows],
        }
        body = json.dumps(data, ensure_ascii=False)
    else:
        body = spreadsheet_csv(*respondent_rows(survey))
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="survey-{survey.id}-{stamp}.{fmt}"'
    return response
