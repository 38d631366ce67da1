"""Widoki HTML bazy wiedzy: lista dokumentów z przesyłaniem, „zapytaj dokumenty” i usuwanie."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from rag import grounding, ingest, retrieval
from rag.forms import SearchForm, UploadForm
from rag.models import Document, get_document_for_user
from sight.errors import InvalidInput
from sight.models import Project, get_project_for_user
from sight.screens import render_screen

TEMPLATE = "rag/knowledge.html"


def passage_parts(text: str, words: list[str]) -> list[tuple[str, bool]]:
    """Fragment podzielony na kawałki (tekst, czy podświetlić) dla słów zapytania; szablon dodaje `<mark>`."""
    if not words:
        return [(text, False)]
    pattern = re.compile("|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)), re.IGNORECASE)
    parts, last = [], 0
    for match in pattern.finditer(text):
        parts.append((text[last : match.start()], False))
        parts.append((match.group(), True))
        last = match.end()
    parts.append((text[last:], False))
    return [p for p in parts if p[0]]


def knowledge_context(project: Project, *, upload_form: UploadForm | None = None, query: str = "") -> dict[str, Any]:
    """Kontekst ekranu: dokumenty, formularze i — dla pytania — wyniki z podświetleniem i obiema pozycjami."""
    hits = retrieval.search(project, query) if query else []
    words = retrieval.highlight_terms(query)
    return {
        "project": project,
        "documents": Document.objects.filter(project=project).select_related("job"),
        "upload_form": upload_form or UploadForm(),
        "search_form": SearchForm(initial={"q": query}),
        "query": query,
        "hits": [{"hit": h, "parts": passage_parts(h.text, words)} for h in hits],
    }


@login_required
def knowledge(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Baza wiedzy projektu; z `?q=` — wyniki wyszukiwania (htmx: sam fragment wyników)."""
    project = get_project_for_user(request.user, project_id)
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_bound and form.is_valid() else ""
    fragment = "results" if query else "documents"
    return render_screen(request, TEMPLATE, fragment, knowledge_context(project, query=query))


@login_required
@require_POST
def upload(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Przesłanie pliku; błąd typu lub rozmiaru wraca przy formularzu, powtórka pliku pokazuje istniejący dokument."""
    project = get_project_for_user(request.user, project_id)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            document, created = ingest.accept_upload(
                project, form.cleaned_data["file"], user=request.user, title=form.cleaned_data["title"]
            )
        except InvalidInput as exc:
            form.add_error("file", exc.message)
        else:
            if not created:
                messages.info(request, _("This file is already in the project as “%(t)s”.") % {"t": document.title})
            return redirect("rag:knowledge", project_id=project.id)
    return render_screen(request, TEMPLATE, "documents", knowledge_context(project, upload_form=form), status=422)


@login_required
@require_POST
def delete(request: HttpRequest, document_id: uuid.UUID) -> HttpResponse:
    """Usuwa dokument z fragmentami, indeksem i plikiem."""
    document = get_document_for_user(request.user, document_id)
    project_id = document.project_id
    document.delete_with_file()
    messages.success(request, _("The document was deleted."))
    return redirect("rag:knowledge", project_id=project_id)


@login_required
def passage(request: HttpRequest, document_id: uuid.UUID, chunk_id: int) -> HttpResponse:
    """Cytowany fragment w dokumencie (z sąsiednimi), podświetlony — cel linków „źródła” persony, tury i odpowiedzi."""
    document = get_document_for_user(request.user, document_id)
    context = grounding.passage_context(document, chunk_id, quote=request.GET.get("quote", "")[:300])
    return render(request, "rag/passage.html", context)
