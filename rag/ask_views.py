"""Widoki HTML pytań do bazy wiedzy: odpowiedź z cytowaniami i ekstrakcja grafu dokumentów na żądanie."""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from rag import ask, docgraph
from rag.views import TEMPLATE, knowledge_context
from sight.models import get_project_for_user


class AskForm(forms.Form):
    """Pytanie do bazy wiedzy."""

    question = forms.CharField(label=gettext_lazy("Question"), max_length=2000, strip=True)


@login_required
@require_POST
def ask_view(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Odpowiedź na pytanie: htmx dostaje fragment odpowiedzi, zwykły formularz — cały ekran bazy wiedzy."""
    project = get_project_for_user(request.user, project_id)
    form = AskForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write a question of up to 2000 characters."))
        return redirect("rag:knowledge", project_id=project.id)
    question = form.cleaned_data["question"]
    context = {"project": project, "ask_result": ask.ask(project, question), "ask_question": question}
    if request.htmx:
        response = render(request, "rag/_ask.html#answer", {**context, "result": context["ask_result"]})
    else:
        response = render(request, TEMPLATE, {**knowledge_context(project), **context})
    patch_vary_headers(response, ("HX-Request",))
    return response


@login_required
@require_POST
def extract_graph(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Startuje ekstrakcję grafu dokumentów projektu, które jeszcze jej nie mają."""
    project = get_project_for_user(request.user, project_id)
    started = docgraph.start_project_extraction(project, user=request.user)
    if started:
        messages.success(request, _("The document graph extraction has started."))
    else:
        messages.info(request, _("Every ready document already has its graph."))
    return redirect("rag:knowledge", project_id=project.id)
