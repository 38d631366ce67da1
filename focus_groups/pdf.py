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
    """Składa PDF: nagłówki, akapity, listy i wiersze tabel z raportu Markdown (tekst to dane, nie znaczniki; ukośniki
    ucieczki z `markdown_text` są zdejmowane)."""
    pdf = FPDF(format="A4")
    pdf.set_title(fg.name)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("Lato", "", str(_font_dir() / "Lato-Regular.ttf"))
    pdf.add_font("Lato", "B", str(_font_dir() / "Lato-Bold.ttf"))
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for line in markdown.splitlines():
        heading = re.match(r"^(#{1,3}) (.*)$", line)
        if heading:
            pdf.set_font("Lato", "B", SIZES[heading.group(1)])
            pdf.multi_cell(width, 8, markdown_plain(heading.group(2)), new_x="LMARGIN", new_y="NEXT")
            continue
        if line.startswith("|---"):
            continue
        pdf.set_font("Lato", "", 10)
        bold = re.match(r"^\*\*(.+?)\*\*\s?(.*)$", line)
        if bold:
            pdf.set_font("Lato", "B", 10)
            pdf.write(5, markdown_plain(bold.group(1)) + " ")
            pdf.set_font("Lato", "", 10)
            pdf.multi_cell(0, 5, markdown_plain(bold.group(2)), new_x="LMARGIN", new_y="NEXT")
            continue
        text = "  ".join(CELL_SEPARATOR.split(line)).strip() if line.startswith("|") else line
        pdf.multi_cell(width, 5, markdown_plain(text) or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
