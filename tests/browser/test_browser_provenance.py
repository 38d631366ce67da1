"""Źródła w przeglądarce: persona napisana „z bazą wiedzy” pokazuje cytowany fragment, a klik prowadzi do niego w
dokumencie, podświetlonego.
"""

from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import expect

from personas import generation
from personas.models import Persona
from rag import ingest
from rag.models import Document
from tests.factories import create_project, create_user, wait_for

REPORT = (
    "Badanie mobilności w Poznaniu. Mieszkańcy centrum wybierają rowery miejskie, bo parkowanie jest drogie. "
    "Studenci jeżdżą hulajnogami na krótkich trasach."
)


def test_a_persona_written_with_the_knowledge_base_links_to_the_highlighted_passage(open_page, step, worker):
    user = create_user()
    project = create_project(owner=user, language="pl")

    step("the report is ingested by the worker")
    ingest.accept_upload(project, SimpleUploadedFile("raport.txt", REPORT.encode()), user=user)
    wait_for(lambda: Document.objects.filter(project=project, status="ready").exists(), timeout=180)

    step("a persona is generated using the knowledge base")
    generation.start_generation(project, user=user, num_personas=1, use_rag=True, segments=False)
    wait_for(lambda: Persona.objects.filter(project=project).exclude(sources=[]).exists(), timeout=180)
    persona = Persona.objects.get(project=project)

    step("the persona shows its source and the link opens the passage")
    page = open_page(user=user, language="pl")
    page.goto(f"/personas/{persona.id}/")
    sources = page.locator(".sources")
    expect(sources).to_contain_text("raport")
    sources.get_by_role("link").first.click()
    cited = page.locator("article.passage--cited")
    expect(cited).to_be_visible()
    expect(cited.locator("mark")).to_contain_text(persona.sources[0]["quote"])
