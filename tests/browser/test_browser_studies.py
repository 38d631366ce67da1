"""Pozostałe badania w przeglądarce, każde jedną szczęśliwą ścieżką: wnioski z dyskusji (pojęcia, porównanie dwóch
przebiegów). Ankieta: `test_browser_survey_done_when.py`; baza wiedzy: `test_browser_knowledge.py`.
"""

import re

from playwright.sync_api import expect

from focus_groups import discussion
from focus_groups.models import FocusGroup
from sight.models import Job
from tests.factories import create_focus_group, create_panel_persona, create_project, create_user, wait_for


def panel(user, *, language="en", size=4):
    """Projekt z panelem person zgodnym z rozkładem fabryk."""
    project = create_project(owner=user, name="Cups", language=language)
    people = [create_panel_persona(project=project, full_name=f"Osoba {n}") for n in range(size)]
    return project, people


def test_insights_show_the_concepts_of_a_discussion_and_compare_it_with_a_second_run(open_page, step, worker):
    user = create_user()
    project, people = panel(user, size=3)
    questions = ("Would a deposit on cups change how you buy coffee?",)
    groups = [
        create_focus_group(project=project, personas=people, name=name, turns=3, questions=questions)
        for name in ("Run A", "Run B")
    ]
    for fg in groups:
        discussion.start_run(fg, user=user)
    wait_for(lambda: FocusGroup.objects.filter(project=project, status="completed").count() == 2, timeout=240)
    wait_for(
        lambda: Job.objects.filter(kind="focus_groups.concepts", status__in=["succeeded", "failed"]).count() == 2,
        timeout=240,
    )
    page = open_page(user=user)

    step("the key concepts, each with a quote that links to its turn")
    page.goto(f"/focus-groups/{groups[0].id}/insights/")
    concepts = page.locator("#key-concepts")
    expect(concepts.locator("tbody tr").first).to_be_visible()
    quote = concepts.locator("tbody a[href*='#event-']").first
    seq = re.search(r"#event-(\d+)$", quote.get_attribute("href")).group(1)
    quote.click()
    expect(page.locator(f"#transcript #event-{seq}")).to_be_in_viewport()

    step("the concept graph: a click on a node lists its quotes, each linking to the transcript")
    page.goto(f"/focus-groups/{groups[0].id}/insights/graph/")
    expect(page.locator("#graph-table table").first).to_be_visible()
    page.wait_for_function(
        "() => { const c = document.querySelector('[data-concept-graph]'); return !!(c && c._cyreg && c._cyreg.cy); }"
    )
    page.evaluate(
        """() => {
            const cy = document.querySelector('[data-concept-graph]')._cyreg.cy;
            cy.edges().filter((e) => (e.data('evidence') || []).length > 0)[0].source().emit('tap');
        }"""
    )
    evidence = page.locator("[data-graph-evidence] a[href*='#event-']").first
    expect(evidence).to_be_visible()
    seq = re.search(r"#event-(\d+)$", evidence.get_attribute("href")).group(1)
    evidence.click()
    expect(page.locator(f"#transcript #event-{seq}")).to_be_in_viewport()

    step("compare with the second run")
    page.goto(f"/focus-groups/{groups[0].id}/insights/")
    page.locator("#compare-with").select_option(label="Run B")
    page.locator("#compare").get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare: A = Run A, B = Run B")
    expect(page.locator("#stability")).to_contain_text("% of key concepts recur across seeds")
    expect(page.locator("main section.card:not(#stability)").first).to_contain_text("Q1.")
