"""Pytanie do bazy wiedzy w przeglądarce (dostawca offline): plik TXT, przetworzenie i graf dokumentów w tle,
odpowiedź z numerowanymi cytowaniami prowadzącymi do fragmentów, użyte encje.
"""

from playwright.sync_api import expect

from rag.models import ChunkExtraction, Document
from tests.factories import create_project, create_user, wait_for

BRIEF = (
    "Firma Allegro sprzedaje elektronikę w Warszawie. Klienci Allegro cenią szybką dostawę do domu. "
    "Sklep Allegro współpracuje z manufakturą Bolesławiec, która wytwarza ceramikę na prezenty."
)


def test_a_researcher_asks_the_knowledge_base_and_follows_a_numbered_citation_to_its_passage(open_page, step, worker):
    user = create_user()
    project = create_project(owner=user, language="pl")
    page = open_page(user=user, language="pl")
    page.goto(f"/projects/{project.id}/knowledge/")

    step("upload a brief; ingest and graph extraction follow in the worker")
    upload = page.locator("#knowledge-upload")
    upload.locator("input[type=file]").set_input_files(
        {"name": "brief.txt", "mimeType": "text/plain", "buffer": BRIEF.encode()}
    )
    upload.get_by_role("button", name="Prześlij").click()
    wait_for(lambda: Document.objects.filter(project=project, status="ready").exists(), timeout=180)
    wait_for(lambda: ChunkExtraction.objects.filter(document__project=project).exists(), timeout=180)

    step("ask a question about two entities of the document")
    page.reload()
    panel = page.locator("#knowledge-ask")
    expect(panel).to_contain_text("Graf dokumentów")
    panel.get_by_label("Pytanie", exact=True).fill("Z kim współpracuje Allegro?")
    panel.get_by_role("button", name="Zapytaj", exact=True).click()
    answer = page.locator("#knowledge-answer")
    # Pierwsze pytanie w procesie serwera wczytuje słowniki simplemma (na zajętych dwóch rdzeniach kilkadziesiąt s).
    expect(answer.get_by_role("heading", name="Źródła")).to_be_visible(timeout=180_000)
    expect(answer.locator("ul.entities")).to_contain_text("Allegro")

    step("follow citation [1] to its passage")
    answer.get_by_role("link", name="[1]").first.click()
    expect(page).to_have_url(f"{page.url.split('#')[0]}#citation-1")
    citation = answer.locator("#citation-1")
    expect(citation).to_contain_text("brief.txt")
    citation.get_by_text("Pokaż fragment").click()
    expect(citation.locator("details p")).to_contain_text("manufakturą Bolesławiec")
