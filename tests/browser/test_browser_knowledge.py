"""Baza wiedzy w przeglądarce, ścieżka z „Done when” (dostawca offline): raport PDF i brief DOCX przesłane ze strony
przetwarzają się na żywo, wyszukiwanie po polsku innymi formami słów, persony „z bazą wiedzy” ze źródłem
prowadzącym do podświetlonego fragmentu, pytanie do bazy wiedzy z numerowanym cytowaniem i wrogi plik, który kończy
się czytelną porażką.
"""

from playwright.sync_api import expect

from personas.models import Persona
from rag.models import ChunkExtraction, Document
from tests.factories import create_project, create_user, wait_for
from tests.test_rag import docx_bytes, pdf_bytes

REPORT = (
    "Raport o kawiarniach w Poznaniu. Klienci mówią, że kaucja za kubek wielorazowy powinna wynosić najwyżej pięć "
    "złotych. Studenci chętniej zwracają kubki, gdy automat stoi przy uczelni."
)
BRIEF = (
    "Brief dla sieci Kawa Miejska. Sieć Kawa Miejska współpracuje z palarnią Ziarno z Gniezna, która wypala kawę "
    "dla wszystkich lokali. Klienci Kawy Miejskiej cenią szybką obsługę rano."
)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 200


def upload(page, name: str, mime: str, body: bytes) -> None:
    form = page.locator("#knowledge-upload")
    form.locator("input[type=file]").set_input_files({"name": name, "mimeType": mime, "buffer": body})
    form.get_by_role("button", name="Prześlij").click()
    expect(page.locator("#knowledge-documents")).to_contain_text(name.rsplit(".", 1)[0])


def test_a_report_and_a_brief_ground_personas_and_answer_a_question_with_citations(open_page, step, worker):
    user = create_user()
    project = create_project(owner=user, language="pl", target_sample_size=2)
    page = open_page(user=user, language="pl")
    page.goto(f"/projects/{project.id}/knowledge/")

    step("upload a PDF report and a DOCX brief, and watch them become ready without reloading")
    upload(page, "raport.pdf", "application/pdf", pdf_bytes(REPORT))
    upload(page, "brief.docx", DOCX, docx_bytes(BRIEF))
    for document in Document.objects.filter(project=project):
        expect(page.locator(f"#document-{document.id}-status")).to_have_text("gotowy", timeout=180_000)

    step("search in Polish with other forms of the words")
    page.get_by_label("Zapytaj swoje dokumenty").fill("kaucji za kubki")
    page.get_by_role("button", name="Szukaj").click()
    passage = page.locator("#knowledge-results article.passage").first
    # Pierwsze wyszukiwanie w procesie serwera wczytuje polski słownik simplemma (na zajętej maszynie kilkadziesiąt s).
    expect(passage).to_contain_text("kaucja za kubek", timeout=180_000)
    expect(passage).to_contain_text("raport")

    step("generate personas using the knowledge base")
    page.goto(f"/projects/{project.id}/")
    section = page.locator("#personas")
    section.locator("input[name=num_personas]").fill("2")
    expect(section.get_by_label("Użyj bazy wiedzy")).to_be_checked()
    section.get_by_role("button", name="Wygeneruj persony").click()
    expect(page.locator("#personas .job--succeeded")).to_be_visible(timeout=180_000)
    wait_for(lambda: Persona.objects.filter(project=project).exclude(sources=[]).exists(), timeout=60)
    persona = Persona.objects.filter(project=project).exclude(sources=[]).first()

    step("from the persona to the passage its statement came from")
    page.locator(f"#persona-card-{persona.id}").get_by_role("link", name=persona.full_name).click()
    sources = page.locator(".sources")
    expect(sources).to_contain_text(persona.sources[0]["document_title"])
    sources.get_by_role("link").first.click()
    cited = page.locator("article.passage--cited")
    expect(cited.locator("mark")).to_contain_text(persona.sources[0]["quote"])

    step("ask the knowledge base and follow citation [1]")
    wait_for(lambda: ChunkExtraction.objects.filter(document__project=project).count() >= 2, timeout=180)
    page.goto(f"/projects/{project.id}/knowledge/")
    panel = page.locator("#knowledge-ask")
    panel.get_by_label("Pytanie", exact=True).fill("Z kim współpracuje Kawa Miejska?")
    panel.get_by_role("button", name="Zapytaj", exact=True).click()
    answer = page.locator("#knowledge-answer")
    expect(answer.get_by_role("heading", name="Źródła")).to_be_visible(timeout=180_000)
    answer.get_by_role("link", name="[1]").first.click()
    citation = answer.locator("#citation-1")
    expect(citation).to_contain_text("brief")

    step("a renamed program fails cleanly, with a reason a researcher understands")
    upload(page, "program.pdf", "application/pdf", ELF)
    hostile = Document.objects.get(project=project, original_name="program.pdf")
    status = page.locator(f"#document-{hostile.id}-status")
    expect(status).to_contain_text("nieudan", timeout=120_000)
    expect(status).to_contain_text("nie zgadza się")
