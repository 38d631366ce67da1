"""Widoki HTML wniosków z dyskusji: strona wniosków grupy (z PostgreSQL), start ekstrakcji, porównanie dwóch grup."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from focus_groups import concept_map, concepts, insights
from focus_groups.models import FocusGroup, get_focus_group_for_user
from sight import graph
from sight.screens import render_screen


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


def _graph(
    request: HttpRequest, fg: FocusGroup, *, quotes: int | None = concept_map.QUOTES_PER_EDGE
) -> tuple[concept_map.GraphFilters, dict[str, Any]]:
    filters = concept_map.GraphFilters.from_query(request.GET, questions=len(fg.questions))
    return filters, concept_map.concept_graph(fg, filters, quotes=quotes)


@login_required
def focus_group_graph(request: HttpRequest, focus_group_id: uuid.UUID) -> HttpResponse:
    """Graf pojęć (skrypt rysuje go z danych JSON na stronie) i ta sama treść jako tabela; filtry przez `?`."""
    fg = get_focus_group_for_user(request.user, focus_group_id)
    filters, data = _graph(request, fg)
    context = {
        "fg": fg,
        "project": fg.project,
        "data": data,
        "rows": concept_map.table_rows(data),
        "filters": filters,
        "query": urlencode(filters.as_query()),
    }
    return render_screen(request, "focus_groups/graph.html", "graph_view", context)


@login_required
def focus_group_graph_export(request: HttpRequest, focus_group_id: uuid.UUID, fmt: str) -> HttpResponse:
    """Graf pojęć do pobrania (te same filtry, wszystkie dowody): CSV z wierszem na dowód albo JSON jak w API."""
    fg = get_focus_group_for_user(request.user, focus_group_id)
    if fmt not in ("csv", "json"):
        raise Http404("unknown export format")
    _filters, data = _graph(request, fg, quotes=None)  # eksport ma wszystkie dowody
    if fmt == "csv":
        body = concept_map.csv_export(data, absolute=request.build_absolute_uri)
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    else:
        body = json.dumps({"focus_group": {"id": str(fg.id), "name": fg.name}, **data}, ensure_ascii=False, indent=1)
        response = HttpResponse(body, content_type="application/json")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="concept-graph-{fg.id}-{stamp}.{fmt}"'
    return response
