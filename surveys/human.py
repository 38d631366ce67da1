"""Porównanie z próbą ludzką: przyjęcie pliku z odpowiedziami ludzi, przypisanie kolumn do pytań i wynik porównania.

Plik parsuje `surveys/tables.py` w ograniczonym procesie potomnym; tu są bramki (typ, rozmiar), opis kolumn,
propozycja przypisania (etykiety kolumn ↔ treści pytań, etykiety wartości ↔ opcje, bez wielkości liter i znaków
diakrytycznych), jego sprawdzenie (422 z nazwą pola) i liczby z `surveys/compare.py` per pytanie i per segment.
Porównywalne są pytania jednokrotnego wyboru, skale, NPS i liczby; strona syntetyczna to odpowiedzi person
(dla skal SSR — zsumowane rozkłady).
"""

from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import UploadedFile
from django.utils import translation
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

import config
from rag.parsing import ParseFailure
from sight.demographics import bucket_label
from sight.errors import InvalidInput
from sight.screens import percent
from sight.text import NUL_MESSAGE, has_nul
from surveys import compare, results
from surveys.models import Answer, HumanSample, Question, Survey
from surveys.tables import TableLimits, format_for_name, parse_table

if TYPE_CHECKING:
    from django.db.models import QuerySet

Type = Question.Type
COMPARABLE = frozenset({Type.SINGLE_CHOICE, Type.RATING, Type.NPS, Type.NUMERIC})
MAX_LISTED_VALUES = 60  # kolumna z większą liczbą różnych wartości to liczby albo tekst, nie kody
DISPLAY_BINS = 10
MATCH_RATIO = 0.8
FAILURES = {
    "empty": _("The file is empty or has no data rows."),
    "type_mismatch": _("The file's content does not match its type (for example a binary file named .csv)."),
    "corrupt": _("The file is damaged or malformed and cannot be read."),
    "parser_error": _("The file could not be read."),
    "too_large_unpacked": _("The workbook is too large after decompression."),
    "timeout": _("Reading the file took too long."),
    "resources": _("Reading the file exceeded the memory or time limit."),
}


# --- przyjęcie pliku -------------------------------------------------------------------------------------------


def table_limits() -> TableLimits:
    """Limity pliku z `features.yaml`: wiersze, kolumny i czas z `surveys`, pamięć i kontrola ZIP z `knowledge`."""
    features = config.load_features()
    kb, sv = features.knowledge, features.surveys
    return TableLimits(
        max_rows=sv.human_max_rows,
        max_columns=sv.human_max_columns,
        max_uncompressed=kb.docx_max_uncompressed_mb * 2**20,
        max_ratio=kb.docx_max_ratio,
        memory_bytes=kb.parse_memory_mb * 2**20,
        cpu_seconds=sv.human_parse_cpu_seconds,
        timeout_seconds=sv.human_parse_timeout_seconds,
    )


def failure_message(exc: ParseFailure, limits: TableLimits) -> Any:
    """Powód odrzucenia pliku w języku użytkownika."""
    if exc.code == "too_many_rows":
        return format_lazy(_("The file has more than {n} data rows."), n=limits.max_rows)
    if exc.code == "too_many_columns":
        return format_lazy(_("The file has more than {n} columns."), n=limits.max_columns)
    return FAILURES.get(exc.code, FAILURES["parser_error"])


def accept_upload(survey: Survey, upload: UploadedFile) -> HumanSample:
    """Przyjmuje plik z odpowiedziami ludzi (typ z rozszerzenia, limit rozmiaru, parser z limitami) i zapisuje tabelę
    z propozycją przypisania; każdy zły plik to `InvalidInput("file", powód)`.
    """
    name = (upload.name or "data").rsplit("/", 1)[-1][:300]
    if has_nul(name):
        raise InvalidInput("file", NUL_MESSAGE)
    file_format = format_for_name(name)
    if file_format is None:
        raise InvalidInput("file", _("Supported file types: CSV, XLSX and SPSS .sav."))
    max_mb = config.load_features().surveys.human_max_upload_mb
    if upload.size is None or upload.size > max_mb * 2**20:
        raise InvalidInput("file", format_lazy(_("The file is larger than {mb} MB."), mb=max_mb))
    upload.seek(0)
    data = upload.read(max_mb * 2**20 + 1)
    limits = table_limits()
    try:
        table = parse_table(data, file_format, limits)
    except ParseFailure as exc:
        raise InvalidInput("file", failure_message(exc, limits)) from exc
    sample = HumanSample(
        survey=survey,
        filename=name,
        file_format=file_format,
        size=len(data),
        row_count=table.row_count,
        columns=[describe_column(c, v) for c, v in zip(table.columns, table.data, strict=True)],
        data=table.data,
    )
    sample.mapping = propose_mapping(sample, list(survey.questions.order_by("order")))
    sample.save()
    return sample


def to_number(code: str | None) -> float | None:
    """Liczba z kodu (także z przecinkiem dziesiętnym) albo None."""
    if code is None:
        return None
    try:
        number = float(code.replace(",", ".").replace("\u00a0", "").replace(" ", ""))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def describe_column(column: dict[str, Any], values: list[str | None]) -> dict[str, Any]:
    """Kolumna z najczęstszymi wartościami (kod, etykieta, liczność), liczbą różnych wartości i czy to liczby."""
    counts = Counter(v for v in values if v is not None)
    labels = column.get("value_labels") or {}
    listed = sorted(counts.items(), key=lambda kv: (to_number(kv[0]) is None, to_number(kv[0]) or 0, kv[0]))
    return {
        "name": column["name"],
        "label": column.get("label") or column["name"],
        "value_labels": labels,
        "distinct": len(counts),
        "numeric": bool(counts) and all(to_number(code) is not None for code in counts),
        "values": [{"code": code, "label": labels.get(code, ""), "count": n} for code, n in listed[:MAX_LISTED_VALUES]],
    }


# --- przypisanie ---------------------------------------------------------------------------------------------


def fold(text: Any) -> str:
    """Tekst do porównań: małe litery, bez znaków diakrytycznych (także ł), interpunkcja jako spacje."""
    text = unicodedata.normalize("NFKD", str(text).lower().replace("ł", "l"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def _similar(a: str, b: str) -> float:
    """Podobieństwo złożonych tekstów: 1 dla równych, zawierania dłuższej frazy, inaczej stosunek difflib."""
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    if min(len(a), len(b)) >= 10 and (a in b or b in a):
        return 0.95
    return difflib.SequenceMatcher(None, a, b).ratio()


def _column_score(column: dict[str, Any], q: Question) -> float:
    """Jak dobrze kolumna pasuje do pytania: etykieta albo nazwa ↔ treść, albo nazwa typu „Q3”/„pyt3”."""
    text = fold(q.text)
    names = {fold(column["name"]), fold(column["label"])}
    if any(re.fullmatch(rf"(q|p|pyt|pytanie|question)\s*0*{q.number}", n) for n in names):
        return 0.9
    return max(_similar(n, text) for n in names)


def _value_label(column: dict[str, Any], code: str) -> str:
    return column["value_labels"].get(code) or code


def propose_values(column: dict[str, Any], q: Question) -> dict[str, Any]:
    """Propozycja kodów: opcje po etykiecie (albo po kolejności kodów 1…n), punkty skali po numerze lub etykiecie."""
    codes = [v["code"] for v in column["values"]]
    if q.type == Type.SINGLE_CHOICE:
        options = [(o["id"], fold(o["label"])) for o in q.options]
        proposal = {}
        for code in codes:
            if code in q.option_labels():
                proposal[code] = code
                continue
            label = fold(_value_label(column, code))
            score, option = max(((_similar(label, text), oid) for oid, text in options), default=(0.0, ""))
            if score >= MATCH_RATIO:
                proposal[code] = option
        if not proposal and column["numeric"]:
            # Kody SPSS bez etykiet to zwykle numery opcji w kolejności kwestionariusza.
            for code in codes:
                number = to_number(code)
                if number is not None and number.is_integer() and 1 <= number <= len(options):
                    proposal[code] = options[int(number) - 1][0]
        return proposal
    if q.type == Type.RATING:
        ends = {fold(q.settings.get("low_label", "")): 1, fold(q.settings.get("high_label", "")): q.points}
        proposal = {}
        for code in codes:
            number = to_number(code)
            label = fold(_value_label(column, code))
            if number is not None and number.is_integer() and 1 <= number <= q.points:
                proposal[code] = int(number)
            elif (lead := re.match(r"\d+", label)) and 1 <= int(lead.group()) <= q.points:
                proposal[code] = int(lead.group())
            elif label and label in ends:
                proposal[code] = ends[label]
        return proposal
    return {}


def propose_mapping(sample: HumanSample, questions: list[Question]) -> dict[str, Any]:
    """Propozycja przypisania: każdemu porównywalnemu pytaniu najlepiej pasująca kolumna (każda kolumna raz)."""
    pairs = sorted(
        ((_column_score(c, q), i, q) for q in questions if q.type in COMPARABLE for i, c in enumerate(sample.columns)),
        key=lambda t: (-t[0], t[2].order, t[1]),
    )
    used_columns: set[int] = set()
    chosen: dict[Any, dict[str, Any]] = {}
    for score, index, q in pairs:
        if score < MATCH_RATIO or index in used_columns or q.id in chosen:
            continue
        column = sample.columns[index]
        used_columns.add(index)
        chosen[q.id] = {"question": str(q.id), "column": column["name"], "values": propose_values(column, q)}
    mapped = [chosen[q.id] for q in questions if q.id in chosen]
    segment = propose_segment(sample, survey=sample.survey, skip={sample.columns[i]["name"] for i in used_columns})
    return {"questions": mapped, "segment": segment}


def category_names(category: str) -> set[str]:
    """Nazwy kategorii do dopasowania kolumny: klucz i etykiety po polsku i angielsku."""
    names = {fold(category)}
    for language in ("pl", "en"):
        with translation.override(language):
            names.add(fold(results.CATEGORY_LABELS[category]))
    return names


def synthetic_groups(survey: Survey, category: str) -> list[str]:
    """Grupy respondentów ankiety w kategorii (jak kolumny tabeli krzyżowej)."""
    field = results.GROUP_FIELDS[category]
    rows = Answer.objects.filter(survey=survey).order_by().values_list(field, flat=True).distinct()
    return sorted({g for raw in rows if (g := results._group(category, raw))})


def group_label(category: str, key: str) -> str:
    """Etykieta grupy (koszyk z presetu albo tekst przedziału wieku czy nazwy segmentu)."""
    return key if category in ("age_group", "segment") else bucket_label(category, key)


def propose_segment(sample: HumanSample, *, survey: Survey, skip: set[str]) -> dict[str, Any] | None:
    """Kolumna segmentu, gdy jej nazwa to kategoria banera (płeć, wiek…), z kodami przypisanymi do grup person."""
    for column in sample.columns:
        if column["name"] in skip:
            continue
        names = {fold(column["name"]), fold(column["label"])}
        category = next((c for c in results.CATEGORIES if names & category_names(c)), None)
        if category is None:
            continue
        return {"column": column["name"], "category": category, "values": propose_groups(column, survey, category)}
    return None


def propose_groups(column: dict[str, Any], survey: Survey, category: str) -> dict[str, str]:
    """Kody kolumny segmentu → grupy person: po etykiecie koszyka (pl/en) albo kluczu; wiek liczbowo na przedziały."""
    groups = synthetic_groups(survey, category)
    names = {}
    for key in groups:
        names[fold(key)] = key
        for language in ("pl", "en"):
            names[fold(bucket_label(category, key, language=language))] = key
    proposal = {}
    for v in column["values"]:
        code = v["code"]
        number = to_number(code)
        if category == "age_group" and number is not None:
            key = results._group("age_group", int(number))
        else:
            key = names.get(fold(_value_label(column, code)), "")
        if key in groups:
            proposal[code] = key
    return proposal


def clean_mapping(sample: HumanSample, questions: list[Question], payload: dict[str, Any]) -> dict[str, Any]:
    """Sprawdza przypisanie od użytkownika; zła kolumna, pytanie, opcja czy punkt skali to `InvalidInput` z polem."""
    by_id = {str(q.id): q for q in questions}
    columns = {c["name"]: c for c in sample.columns}
    seen: set[str] = set()
    mapped = []
    for i, item in enumerate(payload.get("questions") or []):
        q = by_id.get(str(item["question"]))
        if q is None:
            raise InvalidInput(f"questions.{i}.question", _("This question is not in the survey."))
        if q.type not in COMPARABLE:
            raise InvalidInput(
                f"questions.{i}.question", _("Only single choice, rating, NPS and numeric questions can be compared.")
            )
        if str(q.id) in seen:
            raise InvalidInput(f"questions.{i}.question", _("This question is mapped twice."))
        seen.add(str(q.id))
        if item["column"] not in columns:
            raise InvalidInput(f"questions.{i}.column", _("There is no such column in the file."))
        present = set(sample.column_values([item["column"]]).get(item["column"], []))
        values = _clean_values(q, item.get("values") or {}, present, f"questions.{i}.values")
        mapped.append({"question": str(q.id), "column": item["column"], "values": values})
    segment = payload.get("segment")
    if segment:
        if segment["column"] not in columns:
            raise InvalidInput("segment.column", _("There is no such column in the file."))
        if segment["category"] not in results.CATEGORIES:
            raise InvalidInput("segment.category", _("Unknown category."))
        present, known = (
            set(sample.column_values([segment["column"]]).get(segment["column"], [])),
            set(synthetic_groups(sample.survey, segment["category"])),
        )
        groups = {}
        for code, group in (segment.get("values") or {}).items():
            if group in (None, ""):
                continue
            if code not in present:
                raise InvalidInput(f"segment.values.{code[:40]}", _("There is no such value in the column."))
            if group not in known:
                raise InvalidInput(f"segment.values.{code[:40]}", _("No respondent of the survey is in this group."))
            groups[code] = group
        segment = {"column": segment["column"], "category": segment["category"], "values": groups}
    return {"questions": mapped, "segment": segment or None}


def _clean_values(q: Question, values: dict[str, Any], present: set[str | None], field: str) -> dict[str, Any]:
    """Kody z kolumny → opcje (identyfikatory) albo punkty skali; puste pozycje pomijane."""
    clean: dict[str, Any] = {}
    option_ids = {o["id"] for o in q.options}
    for code, target in values.items():
        if target in (None, ""):
            continue
        if code not in present:
            raise InvalidInput(f"{field}.{code[:40]}", _("There is no such value in the column."))
        if q.type == Type.SINGLE_CHOICE:
            if str(target) not in option_ids:
                raise InvalidInput(f"{field}.{code}", _("Not an option of this question."))
            clean[str(code)] = str(target)
        elif q.type == Type.RATING:
            point = to_number(str(target))
            if point is None or not point.is_integer() or not 1 <= point <= q.points:
                raise InvalidInput(f"{field}.{code}", format_lazy(_("A scale point from 1 to {n}."), n=q.points))
            clean[str(code)] = int(point)
    return clean


def save_mapping(sample: HumanSample, mapping: dict[str, Any]) -> HumanSample:
    """Zapisuje sprawdzone przypisanie; próba z przypisanym pytaniem jest gotowa do porównania."""
    sample.mapping = mapping
    sample.status = HumanSample.Status.MAPPED if mapping["questions"] else HumanSample.Status.UPLOADED
    sample.save(update_fields=["mapping", "status", "updated_at"])
    return sample


# --- porównanie ----------------------------------------------------------------------------------------------


def _human_answer(q: Question, code: str | None, values: dict[str, Any]) -> Any:
    """Odpowiedź człowieka w kategoriach pytania (identyfikator opcji, punkt, liczba) albo None."""
    if code is None:
        return None
    if q.type in (Type.SINGLE_CHOICE, Type.RATING):
        return values.get(code)
    number = to_number(code)
    if q.type == Type.NPS:
        return int(number) if number is not None and number.is_integer() and 0 <= number <= 10 else None
    return number


def _categories(q: Question, human: list[Any], synthetic: list[Any]) -> tuple[list[Any], list[str], list[float] | None]:
    """Kategorie pytania (klucze, etykiety, wartości liczbowe dla skal uporządkowanych)."""
    if q.type == Type.SINGLE_CHOICE:
        return [o["id"] for o in q.options], [o["label"] for o in q.options], None
    if q.type in (Type.RATING, Type.NPS):
        keys = list(range(1, q.points + 1)) if q.type == Type.RATING else list(range(11))
        return keys, [str(k) for k in keys], [float(k) for k in keys]
    keys = sorted({float(v) for v in [*human, *synthetic]})
    return keys, [str(k) for k in keys], keys


def _counts(q: Question, keys: list[Any], answers: list[Any], pmfs: list[list[float]] | None) -> list[float]:
    """Liczności kategorii; dla skal SSR suma rozkładów respondentów (liczności ułamkowe)."""
    if pmfs is not None:
        return [float(sum(p[i] for p in pmfs)) for i in range(len(keys))]
    counter = Counter(map(float, answers) if q.type == Type.NUMERIC else answers)
    return [float(counter.get(k, 0)) for k in keys]


def _display_rows(
    q: Question, keys: list[Any], labels: list[str], h: list[float], s: list[float]
) -> list[dict[str, Any]]:
    """Wiersze nałożonych rozkładów: liczności i % obu prób; liczby z wieloma wartościami w przedziałach."""
    if q.type == Type.NUMERIC and len(keys) > DISPLAY_BINS:
        low, high = keys[0], keys[-1]
        width = (high - low) / DISPLAY_BINS
        bins = [min(int((k - low) / width), DISPLAY_BINS - 1) for k in keys]
        labels = [f"{low + b * width:g}–{low + (b + 1) * width:g}" for b in range(DISPLAY_BINS)]
        hb, sb = [0.0] * DISPLAY_BINS, [0.0] * DISPLAY_BINS
        for b, hc, sc in zip(bins, h, s, strict=True):
            hb[b] += hc
            sb[b] += sc
        keys, h, s = list(range(DISPLAY_BINS)), hb, sb
    hn, sn = sum(h), sum(s)
    return [
        {
            "key": str(k),
            "label": label,
            "human_count": hc,
            "human_percent": percent(hc, hn),
            "synthetic_count": round(sc, 2),
            "synthetic_percent": percent(sc, sn),
        }
        for k, label, hc, sc in zip(keys, labels, h, s, strict=True)
    ]


def _metrics(q: Question, human: list[Any], synthetic: list[Any], pmfs: list[list[float]] | None) -> dict[str, Any]:
    keys, labels, values = _categories(q, human, synthetic)
    h, s = _counts(q, keys, human, None), _counts(q, keys, synthetic, pmfs)
    if not keys:
        h = s = []
    out = compare.compare_distributions(h, s, values=values) if keys else compare.compare_distributions([0], [0])
    return {**out, "distribution": _display_rows(q, keys, labels, h, s)}


def _synthetic_rows(
    survey: Survey, questions: list[Question], category: str | None
) -> dict[Any, list[tuple[Any, Any, str]]]:
    """Udane odpowiedzi person na przypisane pytania: (wartość, rozkład, grupa segmentu); jedno zapytanie."""
    fields = ["question_id", "value", "pmf", *([results.GROUP_FIELDS[category]] if category else [])]
    rows = Answer.objects.filter(survey=survey, question__in=questions, failed=False).order_by()
    out: dict[Any, list[tuple[Any, Any, str]]] = defaultdict(list)
    for row in rows.values_list(*fields):
        group = results._group(category, row[3]) if category else ""
        out[row[0]].append((row[1], row[2], group))
    return out


def compare_sample(sample: HumanSample, questions: list[Question] | None = None) -> dict[str, Any]:
    """Porównanie per przypisane pytanie (i per segment), korelacja średnich przy ≥ 3 skalach; stała liczba zapytań."""
    survey = sample.survey
    if questions is None:
        questions = list(survey.questions.order_by("order"))
    by_id = {str(q.id): q for q in questions}
    mapping = sample.mapping or {}
    known = {c["name"] for c in sample.columns}
    items = [(by_id[m["question"]], m) for m in mapping.get("questions", []) if m["question"] in by_id]
    items = [(q, m) for q, m in items if m["column"] in known]
    segment = mapping.get("segment") or None
    if segment and segment["column"] not in known:
        segment = None
    category = segment["category"] if segment else None
    synthetic = _synthetic_rows(survey, [q for q, _m in items], category)
    columns = sample.column_values([m["column"] for _q, m in items] + ([segment["column"]] if segment else []))
    human_groups = _human_groups(columns, segment)
    members: dict[str, list[int]] = defaultdict(list)
    for i, group in enumerate(human_groups):
        if group:
            members[group].append(i)
    rows = []
    for q, m in sorted(items, key=lambda pair: pair[0].order):
        codes = columns[m["column"]]
        # Odpowiedź liczona raz na różny kod, nie raz na wiersz (20 000 wierszy, kilkanaście kodów).
        lookup = {code: _human_answer(q, code, m["values"]) for code in set(codes)}
        human_all = [lookup[c] for c in codes]
        answers = synthetic.get(q.id, [])
        row = _question_row(q, m["column"], human_all, answers)
        row["segments"] = [
            {
                "segment": key,
                "label": group_label(category, key),
                **_question_row(
                    q, m["column"], [human_all[i] for i in members[key]], [a for a in answers if a[2] == key]
                ),
            }
            for key in sorted(members)
        ]
        rows.append(row)
    ratings = [r for r in rows if r["type"] == Type.RATING]
    return {
        "sample_id": str(sample.id),
        "human_rows": sample.row_count,
        "questions": rows,
        "item_means": compare.item_mean_correlation(ratings),
        "segment": {"column": segment["column"], "category": category} if segment else None,
        "not_mapped": [
            q.number for q in questions if q.type in COMPARABLE and str(q.id) not in {m["question"] for _q, m in items}
        ],
    }


def _human_groups(columns: dict[str, list[str | None]], segment: dict[str, Any] | None) -> list[str | None]:
    """Grupa person każdego wiersza pliku wg kolumny segmentu; wiek podany liczbą trafia do przedziału banera."""
    if not segment:
        return []
    codes = columns[segment["column"]]
    lookup: dict[str | None, str | None] = {}
    for code in set(codes):
        group = segment["values"].get(code) if code is not None else None
        number = to_number(code)
        if group is None and segment["category"] == "age_group" and number is not None:
            group = results._group("age_group", int(number)) or None
        lookup[code] = group
    return [lookup[c] for c in codes]


def _question_row(
    q: Question, column: str, human_all: list[Any], answers: list[tuple[Any, Any, str]]
) -> dict[str, Any]:
    human = [a for a in human_all if a is not None]
    values = [a[0] for a in answers if a[0] is not None]
    ssr = q.type == Type.RATING and q.method == Question.Method.SSR
    pmfs = [a[1] for a in answers if a[1] is not None] if ssr else None
    metrics = _metrics(q, human, values, pmfs)
    metrics.pop("segments", None)
    return {
        "question_id": str(q.id),
        "number": q.number,
        "text": q.text,
        "type": q.type,
        "method": q.method,
        "column": column,
        "human_missing": len(human_all) - len(human),
        **metrics,
    }


def samples_for(survey: Survey) -> QuerySet[HumanSample]:
    """Próby ankiety bez danych (lista i karta na stronie ankiety)."""
    return survey.human_samples.defer("data", "columns").order_by("-created_at")
