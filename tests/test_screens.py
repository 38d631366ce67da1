"""Wspólne pomocnicze ekranów: słupki liczone jedną funkcją i rysowane jednym fragmentem."""

from __future__ import annotations

from pathlib import Path

from django.template.loader import render_to_string
from django.utils import translation

from sight.screens import bar_rows, percent

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_bars_are_measured_against_the_largest_value_unless_a_scale_is_given():
    assert bar_rows([("a", 2), ("b", 8), ("c", 0)]) == [
        {"label": "a", "value": 2, "percent": 25.0},
        {"label": "b", "value": 8, "percent": 100.0},
        {"label": "c", "value": 0, "percent": 0.0},
    ]
    assert [row["percent"] for row in bar_rows([("x", 0.333), ("y", 1.0)], scale=1)] == [33.3, 100.0]
    assert [row["percent"] for row in bar_rows(iter([("za", 1), ("przeciw", 2)]), scale=4)] == [25.0, 50.0]
    assert bar_rows([]) == [] and bar_rows([("a", 0), ("b", 0)])[1]["percent"] == 0.0
    assert percent(1, 3) == 33.3 and percent(5, 0) == 0.0


def test_the_bar_fragment_draws_label_value_and_width_in_the_viewers_locale():
    with translation.override("pl"):
        html = render_to_string(
            "_bar.html#bar", {"label": "18–34 <b>", "value": 12.5, "unit": "%", "percent": 12.5, "title": "18-34"}
        )
    assert '<span class="bar__label" title="18-34">18–34 &lt;b&gt;</span>' in html
    assert 'aria-label="18–34 &lt;b&gt;: 12,5%"' in html and 'style="width: 12.5%"' in html
    assert '<span class="bar__value">12,5%</span>' in html and 'class="bar"' in html
    trait = render_to_string(
        "_bar.html#bar", {"label": "Otwartość", "value": "0,50", "percent": 50, "modifier": "trait"}
    )
    assert 'class="bar bar--trait"' in trait and 'title="Otwartość"' in trait


def test_every_screen_draws_bars_with_the_one_shared_fragment():
    drawing = sorted(
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if 'class="bar__track"' in path.read_text()
    )
    assert drawing == ["_bar.html"]
    users = sorted(
        str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html") if '"_bar.html#bar"' in path.read_text()
    )
    assert users == [
        "focus_groups/detail.html",
        "personas/detail.html",
        "personas/list.html",
        "projects/detail.html",
        "surveys/human_sample.html",
    ]
