"""Czysty tekst: jedyne miejsce, które sprawdza znak NUL (PostgreSQL nie przechowuje go w tekście), dla schematów
API, parametrów zapytań, formularzy i modeli; oraz komórki CSV odporne na formuły.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from pydantic import AfterValidator, GetCoreSchemaHandler, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

NUL_MESSAGE = "Text must not contain NUL characters."
# Wzorce dla OpenAPI: klient (i fuzzer) wie ze schematu, że NUL jest odrzucany, a pole wymagane nie może być puste
# ani złożone z samych spacji (serwer obcina skrajne spacje przed sprawdzeniem długości).
NUL_FREE_PATTERN = "^[^\\x00]*$"
NON_BLANK_PATTERN = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"


def has_nul(value: object) -> bool:
    """Czy wartość jest tekstem ze znakiem NUL — jedyna funkcja, która to sprawdza."""
    return isinstance(value, str) and "\x00" in value


def reject_nul(value: str) -> str:
    """Tekst bez zmian albo ValueError (pydantic robi z niego błąd pola: 422 z `loc`)."""
    if has_nul(value):
        raise ValueError(NUL_MESSAGE)
    return value


def no_nul(value: str) -> None:
    """Walidator pól modeli i formularzy Django: tekst z NUL to ValidationError."""
    if has_nul(value):
        raise ValidationError(_(NUL_MESSAGE), code="nul")


@dataclass(frozen=True)
class _NulFree:
    """Znacznik typu: walidacja przez `reject_nul`, w schemacie JSON wzorzec bez NUL."""

    pattern: str = NUL_FREE_PATTERN

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(reject_nul, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", self.pattern)
        return json_schema


def drop_nul(value: str) -> str:
    """Tekst bez znaków NUL (dla odpowiedzi modelu: zbłąkany NUL nie jest powodem, by pytać model jeszcze raz)."""
    return value.replace("\x00", "") if has_nul(value) else value


# Tekst od klienta (pole schematu albo parametr zapytania): bez skrajnych spacji, NUL to 422; długość dokłada pole.
CleanText = Annotated[str, StringConstraints(strip_whitespace=True), _NulFree()]
# To samo dla pola wymaganego: po obcięciu spacji zostaje co najmniej jeden znak (serwer: `min_length=1`).
RequiredText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), _NulFree(NON_BLANK_PATTERN)]
# Tekst z odpowiedzi modelu: NUL usunięty, bez wzorca w schemacie JSON, który dostaje dostawca LLM.
ModelText = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(drop_nul)]


def spreadsheet_safe(value: object) -> object:
    """Komórka CSV odporna na wstrzyknięcie formuł (tekst od LLM i użytkownika to dane); listy łączone średnikiem."""
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


EXCEL_BOM = "\ufeff"


def spreadsheet_csv(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    """CSV do otwarcia w Excelu: zaczyna się od BOM (bez niego Excel czyta UTF-8 jako ANSI i psuje polskie litery),
    a każda komórka jest odporna na formuły (`spreadsheet_safe`).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([spreadsheet_safe(h) for h in header])
    writer.writerows([spreadsheet_safe(v) for v in row] for row in rows)
    return EXCEL_BOM + buffer.getvalue()


def localized_number(value: float) -> str:
    """Liczba w bieżącym języku (po polsku „0,8”), bez zbędnego „,0” przy całkowitej; przez `formats.number_format`."""
    return number_format(int(value) if float(value).is_integer() else value)
