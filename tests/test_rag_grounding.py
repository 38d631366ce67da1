"""Ugruntowanie person w dokumentach projektu: fragmenty trafiają do wiadomości użytkownika jako dane."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from langchain_core.messages import HumanMessage, SystemMessage

from personas.models import Persona
from rag import ingest
from sight import jobs, llm
from tests.factories import create_project
from tests.test_persona_generation import profile, run_worker, start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_llm")]

PASSAGE = "Studenci wybierają rowery miejskie i hulajnogi, bo parkowanie w centrum jest drogie. KANAREK-7"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_personas_generated_with_the_knowledge_base_get_passages_in_the_user_message_only(
    django_capture_on_commit_callbacks,
):
    project = create_project()
    document, _ = ingest.accept_upload(project, SimpleUploadedFile("badanie.txt", PASSAGE.encode()), user=project.owner)
    jobs.execute(str(document.job_id))
    llm.script("persona_generation", [profile])
    run = start(project, 1, django_capture_on_commit_callbacks, segments=False, use_rag=True)
    run_worker()
    messages = llm.scripted_calls("persona_generation")[0]
    system = [m.text for m in messages if isinstance(m, SystemMessage)]
    user = [m.text for m in messages if isinstance(m, HumanMessage)]
    assert not any("KANAREK-7" in text for text in system)
    assert any("KANAREK-7" in text and "<<<DOCS-" in text and "untrusted DATA" in text for text in user)
    assert Persona.objects.get(run=run).rag_context_used


def test_without_the_knowledge_base_option_no_passage_is_sent(django_capture_on_commit_callbacks):
    project = create_project()
    document, _ = ingest.accept_upload(project, SimpleUploadedFile("b.txt", PASSAGE.encode()), user=project.owner)
    jobs.execute(str(document.job_id))
    llm.script("persona_generation", [profile])
    run = start(project, 1, django_capture_on_commit_callbacks, segments=False, use_rag=False)
    run_worker()
    assert not any("KANAREK-7" in m.text for m in llm.scripted_calls("persona_generation")[0])
    assert not Persona.objects.get(run=run).rag_context_used
