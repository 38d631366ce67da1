"""Wykresy wyników ankiety rysowane na serwerze jako SVG (bez JavaScriptu, zgodne z CSP): tu tylko geometria i teksty,
znaczniki w `templates/surveys/results.html` (`#chart`, `#crosstab_chart`).

Liczby są w języku oglądającego (`localized_number`), etykiety to etykiety opcji, nigdy klucze; każdy wykres ma tytuł,
opis dla czytników ekranu i tabelę danych obok. Współrzędne to napisy z kropką dziesiętną (atrybuty SVG nie mogą
dostać polskiego przecinka).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from sight.text import localized_number

WIDTH = 560
LABEL_WIDTH = 170
VALUE_WIDTH = 64
ROW_HEIGHT = 26
BAR_HEIGHT = 16
TOP = 8
COLOURS = 8
NPS_GROUPS = (("0–6", "detractors"), ("7–8", "passives"), ("9–10", "promoters"))


def _coordinate(value: float) -> str:
    return f"{value:.1f}"


def _percent_text(percent: float) -> str:
    return localized_number(round(percent, 1))


def distribution_rows(question: dict[str, Any]) -> list[dict[str, Any]]:
    """Wiersze rozkładu pytania (etykieta, liczność, %) ze statystyk `results.survey_results`; pusto bez rozkładu."""
    s = question["stats"]
    if s.get("options") and "percent" in s["options"][0]:
        return [{"label": o["label"], "count": o["count"], "percent": o["percent"]} for o in s["options"]]
    if isinstance(s.get("counts"), list) and s["counts"] and isinstance(s["counts"][0], dict):
        return [
            {"label": localized_number(c["value"]), "count": c["count"], "percent": c["percent"]} for c in s["counts"]
        ]
    if question["type"] == "nps" and s.get("base"):
        return [{"label": label, "count": s[key]["count"], "percent": s[key]["percent"]} for label, key in NPS_GROUPS]
    return []


def distribution_chart(question: dict[str, Any]) -> dict[str, Any] | None:
    """Poziomy wykres słupkowy rozkładu pytania (długość = % odpowiadających) z tabelą danych; None bez rozkładu."""
    rows = distribution_rows(question)
    if not rows:
        return None
    track = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    for i, row in enumerate(rows):
        y = TOP + i * ROW_HEIGHT
        bars.append(
            {
                **row,
                "count_text": localized_number(round(row["count"], 1)),
                "percent_text": _percent_text(row["percent"]),
                "x": _coordinate(LABEL_WIDTH),
                "y": _coordinate(y),
                "width": _coordinate(max(track * row["percent"] / 100, 0)),
                "height": _coordinate(BAR_HEIGHT),
                "text_y": _coordinate(y + BAR_HEIGHT - 3),
                "label_x": _coordinate(LABEL_WIDTH - 8),
                "value_x": _coordinate(LABEL_WIDTH + track + 6),
            }
        )
    summary = "; ".join(f"{bar['label']}: {bar['percent_text']}%" for bar in bars)
    base = localized_number(round(float(question["stats"].get("base") or 0), 1))
    return {
        "id": f"chart-{question['id']}",
        "title": _("Question %(number)s: %(text)s") % {"number": question["number"], "text": question["text"]},
        "desc": _("Horizontal bars, share of respondents per answer (base %(base)s): %(summary)s.")
        % {"base": base, "summary": summary},
        "width": str(WIDTH),
        "height": str(TOP * 2 + len(bars) * ROW_HEIGHT),
        "track": _coordinate(track),
        "bars": bars,
    }


def crosstab_chart(table: dict[str, Any], category: str) -> dict[str, Any] | None:
    """Słupki 100 % dla kolumn banera (grup): odcinki to % kolumnowe odpowiedzi, kolory z legendy; None bez danych."""
    if not table.get("columns"):
        return None
    track = WIDTH - LABEL_WIDTH - 8
    legend = [{"label": row["label"], "colour": i % COLOURS} for i, row in enumerate(table["rows"])]
    groups = []
    for j, column in enumerate(table["columns"]):
        y, x = TOP + j * ROW_HEIGHT, float(LABEL_WIDTH)
        segments = []
        for i, row in enumerate(table["rows"]):
            percent = row["cells"][j]["percent"] or 0.0
            width = track * percent / 100
            segments.append(
                {
                    "label": row["label"],
                    "colour": i % COLOURS,
                    "percent_text": _percent_text(percent),
                    "x": _coordinate(x),
                    "width": _coordinate(width),
                }
            )
            x += width
        label = f"{column['label'] or '—'} ({column['letter']})"
        groups.append(
            {
                "label": label,
                "base_text": localized_number(round(column["base"], 1)),
                "y": _coordinate(y),
                "height": _coordinate(BAR_HEIGHT),
                "text_y": _coordinate(y + BAR_HEIGHT - 3),
                "label_x": _coordinate(LABEL_WIDTH - 8),
                "segments": segments,
            }
        )
    question = table["question"]
    return {
        "id": f"crosstab-chart-{question['id']}",
        "title": _("Question %(number)s by %(category)s") % {"number": question["number"], "category": category},
        "desc": _(
            "Stacked bars, one per group, each 100%%: segments are the column percentages of the answers %(answers)s."
        )
        % {"answers": ", ".join(item["label"] for item in legend)},
        "width": str(WIDTH),
        "height": str(TOP * 2 + len(groups) * ROW_HEIGHT),
        "groups": groups,
        "legend": legend,
    }
