"""Widoki HTML wniosków z dyskusji: strona wniosków grupy (z PostgreSQL), start ekstrakcji, porównanie dwóch grup."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from focus_groups import concepts, insights
from focus_groups.models import FocusGroup, get_focus_group_for_user
from sight import graph


def _question(request: HttpRequest, fg: FocusGroup) -> int | None:
    """Indeks pytania z `?question=` (błędny albo spoza przewodnika → cała dyskusja)."""
    raw = request.GET.get("question", "")
    return int(raw) if raw.isdigit() and int(raw) < len(fg.questions) else None


@login_required
def focus_group_insights(request: HttpRequest, focus_group_id: uuid.UUID) -> HttpResponse:
    """Wnioski grupy (całość albo jedno pytanie), stan ekstrakcji i grafu, wybór grupy do porównania."""
    fg = get_focus_group_for_user(request.user, focus_group_id)
    question = _question(request, fg)
    context = {
        "fg": fg,
        "project": fg.project,
        "data": insights.insights(fg, question=question, language=(get_language() or "en")[:2]),
        "question": question,
        "job": concepts.latest_job(fg),
        "graph_state": graph.health(),
        "others": FocusGroup.objects.filter(project=fg.project).exclude(pk=fg.pk).only("id", "name"),
    }
    return render(request, "focus_groups/insights.html", context)


@login_required
@require_POST
def focus_group_extract(request: HttpRequest, focus_group_id: uuid.UUID) -> HttpResponse:
    """Startuje (ponowną) ekstrakcję pojęć w tle."""
    fg = get_focus_group_for_user(request.user, focus_group_id)
    try:
        concepts.start_extraction(fg, user=request.user, force=request.POST.get("force") == "1")
    except ValueError:
        messages.error(request, _("There are no turns to analyse yet."))
    else:
        messages.info(request, _("Concept extraction has started."))
    return redirect(reverse("focus_groups:insights", args=[fg.id]))


@login_required
def focus_group_compare(request: HttpRequest, focus_group_id: uuid.UUID) -> HttpResponse:
    """Porównanie z grupą `?with=` (tylko własne grupy; cudza albo nieistniejąca to 404)."""
    a = get_focus_group_for_user(request.user, focus_group_id)
    try:
        other_id = uuid.UUID(request.GET.get("with", ""))
    except ValueError:
        return redirect(reverse("focus_groups:insights", args=[a.id]))
    b = get_focus_group_for_user(request.user, other_id)
    return render(
        request, "focus_groups/compare.html", {"a": a, "b": b, "project": a.project, "data": insights.compare(a, b)}
    )
