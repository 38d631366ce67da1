"""Tabele z danymi ludzi (CSV, XLSX, SPSS .sav): bramki przed parsowaniem i parser w ograniczonym procesie potomnym.

Uruchamiany jako `python -m surveys.tables FORMAT MAX_ROWS MAX_COLUMNS MEMORY CPU` czyta plik ze stdin i wypisuje JSON
z kolumnami (nazwa, etykieta, etykiety wartości) i wartościami kolumna po kolumnie; nie importuje Django. Proces
uruchamia `rag.parsing.run_child` — ten sam mechanizm (limity pamięci, CPU, zapisu, czasu), co dokumenty bazy wiedzy.
Każda wartość to tekst kanoniczny (liczba całkowita bez „.0”) albo None dla braku odpowiedzi.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.parsing import ParseFailure, check_signature, decode_text, limit_self, run_child

EXTENSIONS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".sav": "sav"}
DELIMITERS = ",;\t"
MAX_CELL_CHARS = 500


@dataclass(frozen=True)
class TableLimits:
    """Limity pliku z danymi ludzi (z `features.yaml`, sekcja `surveys`)."""

    max_rows: int = 20_000
    max_columns: int = 300
    max_uncompressed: int = 200 * 2**20
    max_ratio: int = 100
    memory_bytes: int = 768 * 2**20
    cpu_seconds: int = 20
    timeout_seconds: int = 30


@dataclass(frozen=True)
class Table:
    """Sparsowana tabela: kolumny `{name, label, value_labels}` i wartości kolumna po kolumnie."""

    columns: list[dict[str, Any]]
    data: list[list[str | None]]

    @property
    def row_count(self) -> int:
        """Liczba wierszy (respondentów)."""
        return len(self.data[0]) if self.data else 0


def format_for_name(name: str) -> str | None:
    """Format z rozszerzenia nazwy pliku albo None dla nieobsługiwanego."""
    return EXTENSIONS.get(Path(name).suffix.lower())


def parse_table(data: bytes, file_format: str, limits: TableLimits) -> Table:
    """Bramki (pusty plik, sygnatura, kontrola ZIP) i parser w procesie potomnym; porażka to `ParseFailure`."""
    if not data.strip():
        raise ParseFailure("empty", "The file is empty.")
    if file_format == "csv":
        check_signature(data, "txt")
    elif file_format == "xlsx":
        _check_xlsx_archive(data, limits)
    elif file_format == "sav" and not data.startswith((b"$FL2", b"$FL3")):
        raise ParseFailure("type_mismatch", "The file is not an SPSS .sav file although its name says so.")
    args = [file_format, *map(str, (limits.max_rows, limits.max_columns, limits.memory_bytes, limits.cpu_seconds))]
    cap = 64 * 2**20 + limits.max_rows * limits.max_columns * 16
    result = run_child("surveys.tables", args, data, limits.timeout_seconds, cap)
    columns, values = result.get("columns"), result.get("data")
    if not isinstance(columns, list) or not isinstance(values, list) or len(columns) != len(values):
        raise ParseFailure("parser_error", "The file could not be read.")
    if not columns or not values[0]:
        raise ParseFailure("empty", "The file has no data rows.")
    return Table(columns=columns, data=values)


def _check_xlsx_archive(data: bytes, limits: TableLimits) -> None:
    """Kontrola ZIP przed otwarciem XLSX na zadeklarowanych rozmiarach (bomba kompresyjna odpada bez rozpakowania)."""
    if not data.startswith(b"PK\x03\x04"):
        raise ParseFailure("type_mismatch", "The file is not an Excel (XLSX) workbook although its name says so.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ParseFailure("corrupt", "The workbook is damaged (not a valid ZIP archive).") from exc
    declared = sum(e.file_size for e in entries)
    compressed = sum(e.compress_size for e in entries)
    if len(entries) > 1000 or declared > limits.max_uncompressed or declared > limits.max_ratio * max(compressed, 1):
        raise ParseFailure("too_large_unpacked", "The workbook is too large after decompression.")
    if "xl/workbook.xml" not in {e.filename for e in entries}:
        raise ParseFailure("type_mismatch", "The file is a ZIP archive but not an Excel (XLSX) workbook.")


# --- w procesie potomnym ----------------------------------------------------------------------------------------


def canonical(value: Any) -> str | None:
    """Wartość komórki jako tekst kanoniczny: 1.0 → „1”, pusty tekst → None, długi tekst przycięty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float):
        if value != value:  # NaN: brak odpowiedzi w SPSS
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    # NUL nie zmieści się w tekście PostgreSQL (także w JSONB); znaki sterujące poza tym zostają jak w pliku.
    text = str(value).replace("\x00", "").strip()
    return text[:MAX_CELL_CHARS] or None


def _too_many_rows(max_rows: int) -> ParseFailure:
    return ParseFailure("too_many_rows", f"The file has more than {max_rows} data rows.")


def _too_many_columns(max_columns: int) -> ParseFailure:
    return ParseFailure("too_many_columns", f"The file has more than {max_columns} columns.")


def _from_rows(
    header: list[Any], rows: list[list[Any]], max_columns: int, labels: list[Any] | None = None
) -> dict[str, Any]:
    """Nagłówek i wiersze → kolumny; kolumny bez nagłówka i bez danych odpadają, powtórzona nazwa dostaje przyrostek.

    `labels` to drugi wiersz nagłówka z treścią pytań (eksport Qualtrics); bez niego etykietą jest nazwa.
    """
    cells = [row for row in ([canonical(v) for v in r] for r in rows) if any(v is not None for v in row)]
    width = max([len(header), *map(len, cells)])
    padded = [row + [None] * (width - len(row)) for row in cells]
    columns: list[dict[str, Any]] = []
    data: list[list[str | None]] = []
    names: set[str] = set()
    for i, values in enumerate(map(list, zip(*padded, strict=True)) if padded else ([] for _ in range(width))):
        name = canonical(header[i]) if i < len(header) else None
        if name is None and all(v is None for v in values):
            continue
        name = name or f"column_{i + 1}"
        while name in names:
            name = f"{name}_{i + 1}"
        names.add(name)
        label = canonical(labels[i]) if labels and i < len(labels) else None
        columns.append({"name": name, "label": label or name, "value_labels": {}})
        data.append(values)
    if len(columns) > max_columns:
        raise _too_many_columns(max_columns)
    return {"columns": columns, "data": data}


def _csv_table(data: bytes, max_rows: int, max_columns: int) -> dict[str, Any]:
    text = decode_text(data)
    sample = text[:65536]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        delimiter = max(DELIMITERS, key=first.count)
    csv.field_size_limit(MAX_CELL_CHARS * 20)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader, [])
        rows = []
        for row in reader:
            if len(row) > max_columns:
                raise _too_many_columns(max_columns)
            rows.append(row)
            if len(rows) > max_rows:
                raise _too_many_rows(max_rows)
    except csv.Error as exc:
        raise ParseFailure("corrupt", "The CSV file is malformed and cannot be read.") from exc
    if len(header) > max_columns:
        raise _too_many_columns(max_columns)
    if len(rows) >= 2 and any(cell.startswith('{"ImportId"') for cell in rows[1]):
        # Qualtrics: identyfikatory pól, treści pytań, wiersz ImportId, dopiero potem odpowiedzi.
        return _from_rows(header, rows[2:], max_columns, labels=rows[0])
    return _from_rows(header, rows, max_columns)


def _xlsx_table(data: bytes, max_rows: int, max_columns: int) -> dict[str, Any]:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    lines = sheet.iter_rows(values_only=True)  # bez max_col: openpyxl dopełniałby każdy wiersz do tej szerokości
    header = list(next(lines, ()))
    rows = []
    for row in lines:
        rows.append(list(row[: max_columns + 1]))
        if len(rows) > max_rows:
            raise _too_many_rows(max_rows)
    if len(header) > max_columns and any(v is not None for v in header[max_columns:]):
        raise _too_many_columns(max_columns)
    return _from_rows(header[:max_columns], [r[:max_columns] for r in rows], max_columns)


def _sav_table(data: bytes, max_rows: int, max_columns: int) -> dict[str, Any]:
    import pyreadstat

    _empty, meta = pyreadstat.read_sav(io.BytesIO(data), output_format="dict", metadataonly=True)
    if meta.number_columns and meta.number_columns > max_columns:
        raise _too_many_columns(max_columns)
    values, meta = pyreadstat.read_sav(io.BytesIO(data), output_format="dict", row_limit=max_rows + 1)
    labels = meta.column_labels or [None] * len(meta.column_names)
    columns, table = [], []
    for name, label in zip(meta.column_names, labels, strict=True):
        column = list(values[name])
        if len(column) > max_rows:
            raise _too_many_rows(max_rows)
        value_labels = meta.variable_value_labels.get(name, {})
        columns.append(
            {
                "name": name,
                "label": canonical(label) or name,
                "value_labels": {canonical(k): canonical(v) or "" for k, v in value_labels.items()},
            }
        )
        table.append([canonical(v) for v in column])
    return {"columns": columns, "data": table}


def _main(file_format: str, max_rows: int, max_columns: int, memory_bytes: int, cpu_seconds: int) -> int:
    limit_self(memory_bytes, cpu_seconds)
    data = sys.stdin.buffer.read()
    readers = {"csv": _csv_table, "xlsx": _xlsx_table, "sav": _sav_table}
    try:
        result: dict[str, Any] = readers[file_format](data, max_rows, max_columns)
    except ParseFailure as exc:
        result = {"error": exc.code, "message": exc.message}
    except MemoryError:
        result = {"error": "resources", "message": "Reading the file exceeded the memory limit."}
    except Exception:  # noqa: BLE001 - każdy błąd parsera to nieczytelny plik, nie awaria
        result = {"error": "corrupt", "message": "The file is damaged or not in the format its name says."}
    sys.stdout.write(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1], *map(int, sys.argv[2:6])))
