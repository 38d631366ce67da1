"""Eksporty grupy fokusowej: Markdown z tekstem dosłownym (bez HTML i znaczników od użytkowników), CSV dla Excela."""

import csv
import io
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from focus_groups.models import FocusGroup
from focus_groups.summary import markdown_plain, markdown_report, markdown_text
from tests.factories import create_persona, create_project

ATTACK = "<img src=x onerror=alert(1)>"
PROPOSITION = "<b>Kaucja</b> 5 zł za kubek jest uczciwa"
# Prawie każdy znak, który coś znaczy w Markdown albo HTML, plus polskie litery i nowe wiersze.
TEXT = st.text(
    alphabet=st.characters(codec="ascii", categories=["L", "N", "P", "S", "Zs"]) | st.sampled_from("ąęłśżź\n")
)
RENDER = MarkdownIt("commonmark").enable("table")
STRUCTURE = {"h1", "h2", "h3", "p", "ul", "li", "strong", "table", "thead", "tbody", "tr", "th", "td"}


class Page(HTMLParser):
    """Znaczniki i tekst wyrenderowanego HTML."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.chunks: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)

    def handle_data(self, data):
        self.chunks.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.chunks).split())


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_escaped_text_renders_as_exactly_the_same_words_in_a_single_paragraph(value):
    page = Page(RENDER.render(markdown_text(value)))
    assert page.tags <= {"p"} and page.text == " ".join(value.split())
    assert markdown_plain(markdown_text(value)) == " ".join(value.split())


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_escaped_multiline_text_stays_plain_paragraphs(value):
    page = Page(RENDER.render(markdown_text(value, inline=False)))
    assert page.tags <= {"p"} and page.text == " ".join(value.split())


@pytest.fixture
def group(db):
    project = create_project()
    anna, piotr = (create_persona(project=project, full_name=n) for n in ("Anna | <b>Kowalska</b>", "Piotr **Nowak**"))
    fg = FocusGroup.objects.create(
        project=project,
        name="<script>alert(1)</script> Bank",
        description="[kliknij](javascript:alert(1))\n# nie nagłówek",
        questions=[{"text": '=HYPERLINK("http://evil")', "proposition": PROPOSITION}, {"text": "Opłaty?"}],
    )
    events = [
        ("question", "q0", {"text": '=HYPERLINK("http://evil")'}, None, 0),
        ("stance", "s0a", {"when": "before", "stance": "oppose", "persona_name": anna.full_name}, anna.id, 0),
        ("moderator", "m0", {"text": "Zacznijmy."}, None, 0),
        (
            "turn",
            "t0",
            {"text": f"{ATTACK}\n1. lista\n> cytat ![x](http://evil/t.png)", "persona_name": anna.full_name},
            anna.id,
            0,
        ),
        ("interjection", "i0", {"text": "<a href=http://evil>Ceny?</a>"}, None, 0),
        ("turn", "t1", {"text": "Zgoda, drożej.", "persona_name": piotr.full_name}, piotr.id, 0),
        ("stance", "s0b", {"when": "after", "stance": "support", "persona_name": anna.full_name}, anna.id, 0),
        ("question", "q1", {"text": "Opłaty?"}, None, 1),
        # Stanowisko przy pytaniu bez tezy (grupy sprzed tez): eksporty go nie pokazują.
        ("stance", "s1a", {"when": "before", "stance": "oppose", "persona_name": piotr.full_name}, piotr.id, 1),
        ("turn", "t2", {"text": "Za wysokie.", "persona_name": piotr.full_name}, piotr.id, 1),
        ("stance", "s1b", {"when": "after", "stance": "support", "persona_name": piotr.full_name}, piotr.id, 1),
    ]
    for kind, key, payload, persona_id, qi in events:
        fg.append_event(kind, key=key, payload=payload, persona_id=persona_id, question_index=qi)
    fg.summary = {
        "executive_summary": "<iframe src=http://evil></iframe> Podsumowanie.",
        "key_insights": [{"text": "**Ceny** <b>rządzą</b>", "citations": [4]}],
        "recommendations": ["[obniżyć](http://evil)"],
        "sentiment_narrative": "Ton <i>mieszany</i>.",
    }
    fg.save()
    return fg


def test_the_markdown_report_renders_user_and_model_text_literally(group):
    page = Page(RENDER.render(markdown_report(group)))
    assert page.tags <= STRUCTURE, page.tags - STRUCTURE
    for literal in (
        "<script>alert(1)</script> Bank",
        "[kliknij](javascript:alert(1)) # nie nagłówek",
        f"{ATTACK} 1. lista > cytat ![x](http://evil/t.png)",
        "<a href=http://evil>Ceny?</a>",
        "Anna | <b>Kowalska</b>",
        "Piotr **Nowak**",
        "**Ceny** <b>rządzą</b> (turns #4)",
        "[obniżyć](http://evil)",
        f"Proposition: {PROPOSITION}",
        f"Q1, proposition “{PROPOSITION}”: 1 of 1 changed their stance",
    ):
        assert literal in page.text, literal
    assert "Q2, proposition" not in page.text


def test_the_pdf_report_builds_from_the_escaped_report_and_drops_the_escape_backslashes(group):
    from focus_groups.pdf import pdf_report

    report = markdown_report(group)
    assert pdf_report(group, report).startswith(b"%PDF")
    assert ATTACK in markdown_plain(report) and "\\" not in markdown_plain(report)


def test_the_turns_csv_opens_in_excel_and_carries_questions_interjections_and_stances(group):
    from focus_groups.summary import export

    body = export(group, "csv").content
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
    by_seq = {int(r["seq"]): r for r in rows}
    anna_turn = next(r for r in rows if r["text"].startswith(ATTACK))
    assert anna_turn["question"] == '\'=HYPERLINK("http://evil")'
    assert (anna_turn["stance_before"], anna_turn["stance_after"]) == ("oppose", "support")
    assert anna_turn["proposition"] == PROPOSITION
    assert anna_turn["persona_name"] == "Anna | <b>Kowalska</b>"
    interjection = next(r for r in rows if r["kind"] == "interjection")
    assert interjection["persona_name"] == "Researcher" and interjection["text"] == "<a href=http://evil>Ceny?</a>"
    piotr_turn = next(r for r in rows if r["text"] == "Zgoda, drożej.")
    assert piotr_turn["stance_before"] == piotr_turn["stance_after"] == ""
    open_turn = next(r for r in rows if r["text"] == "Za wysokie.")
    assert open_turn["question"] == "Opłaty?" and open_turn["proposition"] == ""
    assert open_turn["stance_before"] == open_turn["stance_after"] == ""
    assert {r["kind"] for r in by_seq.values()} == {"moderator", "turn", "interjection"}
