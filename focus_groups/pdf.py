"""Raport PDF grupy fokusowej z raportu Markdown (fpdf2 + czcionka Lato z pakietu, z polskimi znakami)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import font_lato
from fpdf import FPDF

from focus_groups.models import FocusGroup
from focus_groups.summary import markdown_plain

SIZES = {"#": 18, "##": 14, "###": 12}
CELL_SEPARATOR = re.compile(r"(?<!\\)\|")  # `|` bez ukośnika (ukośnik to `|` z tekstu użytkownika)


@cache
def _font_dir() -> Path:
    return Path(font_lato.__file__).parent / "files"


def pdf_report(fg: FocusGroup, markdown: str) -> bytes:
    """Składa PDF z raportu Markdown: nagłówki, akapity, listy, pogrubione etykiety i prawdziwe tabele (tekst to dane,
    nie znaczniki; ukośniki ucieczki z `markdown_text` są zdejmowane)."""
    pdf = FPDF(format="A4")
    pdf.set_title(fg.name)
    pdf.set_lang(fg.project.language)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("Lato", "", str(_font_dir() / "Lato-Regular.ttf"))
    pdf.add_font("Lato", "B", str(_font_dir() / "Lato-Bold.ttf"))
    pdf.add_page()
    table: list[list[str]] = []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            if not re.match(r"^\|[\s:|-]+\|$", line):  # wiersz separatora nagłówka tabeli pomijamy
                table.append([markdown_plain(c.strip()) for c in CELL_SEPARATOR.split(line.strip()[1:-1])])
            continue
        if table:
            _table(pdf, table)
            table = []
        _line(pdf, line)
    return bytes(pdf.output())


def _line(pdf: FPDF, line: str) -> None:
    """Jeden wiersz raportu: nagłówek, element listy albo akapit (z pogrubionym początkiem `**…**`)."""
    width = pdf.w - pdf.l_margin - pdf.r_margin
    heading = re.match(r"^(#{1,3}) (.*)$", line)
    if heading:
        pdf.set_font("Lato", "B", SIZES[heading.group(1)])
        pdf.multi_cell(width, 8, markdown_plain(heading.group(2)), new_x="LMARGIN", new_y="NEXT")
        return
    item = re.match(r"^( *)- (.*)$", line)
    indent = 5 + 5 * (len(item.group(1)) // 2) if item else 0
    text = item.group(2) if item else line
    pdf.set_x(pdf.l_margin + indent)
    if item:
        pdf.set_font("Lato", "", 10)
        pdf.write(5, "• ")
    bold = re.match(r"^\*\*(.+?)\*\*\s?(.*)$", text)
    if bold:
        pdf.set_font("Lato", "B", 10)
        pdf.write(5, markdown_plain(bold.group(1)) + " ")
        text = bold.group(2)
    pdf.set_font("Lato", "", 10)
    if item or bold:
        pdf.write(5, markdown_plain(text))
        pdf.ln(6)
        return
    pdf.multi_cell(width, 5, markdown_plain(text) or " ", new_x="LMARGIN", new_y="NEXT")


def _table(pdf: FPDF, rows: list[list[str]]) -> None:
    """Tabela z obramowaniem; pierwszy wiersz to nagłówki."""
    pdf.set_font("Lato", "", 9)
    columns = max(len(r) for r in rows)
    with pdf.table(first_row_as_headings=True, text_align="LEFT", line_height=5) as table:
        for cells in rows:
            row = table.row()
            for cell in cells + [""] * (columns - len(cells)):
                row.cell(cell)
    pdf.ln(3)
