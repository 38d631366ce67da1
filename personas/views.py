"""Widoki HTML person: sekcja panelu w projekcie, generowanie, lista z filtrami, szczegóły, potrzeby, usuwanie i
przywracanie.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

import config
from personas.browsing import bulk_delete as soft_delete_many
from personas.browsing import bulk_restore as restore_many
from personas.browsing import export_response, filter_personas, panel_charts
from personas.forms import GenerateForm, PersonaFilterForm, posted_persona_ids
from personas.generation import start_generation, start_needs
from personas.models import Persona, get_persona_for_user
from personas.sampling import BIG_FIVE, HOFSTEDE
from personas.sections import SECTION_TEMPLATE, panel_context
from rag.grounding import mark_deleted
from sight.errors import Conflict, InvalidInput, show_domain_error
from sight.models import Job, Project, get_project_for_user
from sight.screens import bar_rows, distribution_rows, render_screen

UNDO_SESSION_KEY = "personas_undo"


# --- sekcja „Persony” na stronie projektu ------------------------------------------------------------------------


@login_required
def panel(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Sekcja „Persony” projektu jako fragment (odświeżenie po zakończeniu generowania); bez htmx — strona projektu."""
    project = get_project_for_user(request.user, project_id)
    if not request.htmx:
        return redirect(reverse("projects:detail", args=[project.id]) + "#personas")
    return render(request, SECTION_TEMPLATE, panel_context(project))


@login_required
def generate(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Start generowania panelu; błędny formularz wraca z błędami (htmx: sekcja projektu, bez JS: osobna strona)."""
    project = get_project_for_user(request.user, project_id)
    form = GenerateForm(request.POST if request.method == "POST" else None, project=project)
    status = 422 if form.is_bound else 200
    if form.is_bound and form.is_valid():
        try:
            start_generation(project, user=request.user, **form.cleaned_data)
        except (Conflict, InvalidInput) as exc:
            status = show_domain_error(request, exc, form=form)
    if form.is_bound and not form.errors:
        if request.htmx:
            return render(request, SECTION_TEMPLATE, panel_context(project))
        messages.info(request, _("Persona generation started."))
        return redirect(reverse("projects:detail", args=[project.id]) + "#personas")
    if request.htmx:
        return render(request, SECTION_TEMPLATE, panel_context(project, form=form), status=status)
    return render(request, "personas/generate.html", {"project": project, "form": form}, status=status)


@login_required
def export(request: HttpRequest, project_id: uuid.UUID, fmt: str) -> HttpResponse:
    """Panel do pobrania jako CSV albo JSON."""
    if fmt not in ("csv", "json"):
        raise Http404
    return export_response(get_project_for_user(request.user, project_id), fmt)


# --- lista -----------------------------------------------------------------------------------------------------------


def _remember_undo(request: HttpRequest, project: Project, ids: list[uuid.UUID]) -> None:
    """Zapamiętuje w sesji właśnie usunięte persony, by lista pokazała „Cofnij”."""
    request.session[UNDO_SESSION_KEY] = {"project": str(project.id), "ids": [str(i) for i in ids]}


def _pop_undo(request: HttpRequest, project: Project) -> list[Persona]:
    """Persony właśnie usunięte (do przycisku „Cofnij”); pokazywane raz."""
    undo = request.session.get(UNDO_SESSION_KEY)
    if not undo or undo.get("project") != str(project.id):
        return []
    del request.session[UNDO_SESSION_KEY]
    return list(Persona.objects.for_user(request.user).filter(project=project, pk__in=undo["ids"]).deleted())


@login_required
def persona_list(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Persony projektu: filtry, wykresy, stronicowanie, usuwanie zbiorcze (htmx: tylko lista)."""
    project = get_project_for_user(request.user, project_id)
    form = PersonaFilterForm(request.GET, project=project)
    filters = form.filters()
    personas = filter_personas(project, filters)
    charts = panel_charts(personas, project.target_demographics or {})
    context = {
        "project": project,
        "form": form,
        "deleted_view": filters.deleted,
        "undo": _pop_undo(request, project),
        "page": Paginator(personas, config.load_features().page_size).get_page(request.GET.get("page")),
        "charts": {
            "demographics": [{"label": c["label"], "rows": bar_rows(c["pairs"])} for c in charts["demographics"]],
            "values": bar_rows(charts["values"]),
            "interests": bar_rows(charts["interests"]),
        },
        "active_count": Persona.objects.filter(project=project).active().count(),
        "deleted_count": Persona.objects.filter(project=project).deleted().count(),
    }
    return render_screen(request, "personas/list.html", "persona_list", context)


def _back(request: HttpRequest, default: str) -> HttpResponse:
    """Przekierowanie do `next` (tylko ten sam serwis) albo do adresu domyślnego; htmx podąża za nim po fragment."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = default
    return redirect(target)


@login_required
@require_POST
def bulk_delete(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Usuwa miękko zaznaczone persony projektu (obce są pomijane) i proponuje „Cofnij”."""
    project = get_project_for_user(request.user, project_id)
    ids = list(
        Persona.objects.filter(project=project, pk__in=posted_persona_ids(request.POST.getlist("ids")))
        .active()
        .values_list("id", flat=True)
    )
    if ids:
        soft_delete_many(project, ids)
        _remember_undo(request, project, ids)
    else:
        messages.warning(request, _("Select at least one persona."))
    return _back(request, reverse("personas:list", args=[project.id]))


@login_required
@require_POST
def bulk_restore(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Przywraca zaznaczone (albo właśnie usunięte) persony projektu."""
    project = get_project_for_user(request.user, project_id)
    restored = restore_many(project, posted_persona_ids(request.POST.getlist("ids")))
    if restored:
        messages.success(
            request,
            ngettext("%(count)d persona restored.", "%(count)d personas restored.", restored) % {"count": restored},
        )
    else:
        messages.warning(request, _("Select at least one persona."))
    return _back(request, reverse("personas:list", args=[project.id]))


# --- persona -------------------------------------------------------------------------------------------------------


def membership_rows(persona: Persona) -> list[dict[str, Any]]:
    """Dlaczego persona jest w panelu: jej koszyk w każdej kategorii, udział koszyka w rynku i w panelu."""
    panel = list(Persona.objects.filter(project=persona.project).active().values_list("demographics", flat=True))
    rows = []
    for category in distribution_rows(persona.project.target_demographics or {}):
        bucket = next((b for b in category["buckets"] if b["key"] == persona.demographics.get(category["key"])), None)
        same = Counter(d.get(category["key"]) for d in panel if isinstance(d, dict))[
            persona.demographics.get(category["key"])
        ]
        rows.append(
            {
                "label": category["label"],
                "bucket": bucket["label"] if bucket else persona.demographics.get(category["key"]),
                "target_percent": bucket["percent"] if bucket else None,
                "panel_count": same,
                "panel_total": len(panel),
                "panel_percent": round(100 * same / len(panel), 1) if panel else None,
            }
        )
    return rows


def _trait_rows(persona: Persona, traits: tuple[str, ...]) -> list[dict[str, Any]]:
    """Cechy persony jako słupki 0–1."""
    return bar_rows(((capfirst(Persona.trait_label(trait)), getattr(persona, trait)) for trait in traits), scale=1)


def needs_context(request: HttpRequest, persona: Persona) -> dict[str, Any]:
    """Stan potrzeb i bolączek: wynik oraz ostatnie zadanie (z postępem na żywo, gdy trwa)."""
    job = (
        Job.objects.for_user(request.user)
        .filter(project=persona.project, kind="personas.needs", params__persona_id=str(persona.id))
        .first()
    )
    return {
        "persona": persona,
        "needs_job": job.as_dict() if job else None,
        "needs_job_live": job is not None and not job.is_final,
    }


@login_required
def persona_detail(request: HttpRequest, persona_id: uuid.UUID) -> HttpResponse:
    """Persona: demografia, cechy, historia, segment, miejsce w panelu, potrzeby i bolączki."""
    persona = get_persona_for_user(request.user, persona_id, include_deleted=True)
    segment = persona.segment
    context = {
        **needs_context(request, persona),
        "big_five": _trait_rows(persona, BIG_FIVE),
        "hofstede": _trait_rows(persona, HOFSTEDE),
        "membership": membership_rows(persona),
        "segment_size": segment.personas.filter(deleted_at__isnull=True).count() if segment else 0,
        "segment_fallback": bool(segment and segment.run.segment_fallback),
        "sources": mark_deleted(persona.sources),
    }
    return render(request, "personas/detail.html", context)


@login_required
def needs(request: HttpRequest, persona_id: uuid.UUID) -> HttpResponse:
    """Potrzeby i bolączki: POST uruchamia (albo odświeża) generowanie, GET zwraca fragment sekcji."""
    persona = get_persona_for_user(request.user, persona_id)
    if request.method == "POST":
        start_needs(persona, user=request.user, regenerate="regenerate" in request.POST)
        if not request.htmx:
            messages.info(request, _("Generating needs and pains."))
    if not request.htmx:
        return redirect(reverse("personas:detail", args=[persona.id]) + "#needs")
    return render(request, "personas/detail.html#needs", needs_context(request, persona))


@login_required
@require_POST
def delete(request: HttpRequest, persona_id: uuid.UUID) -> HttpResponse:
    """Usuwa personę miękko; lista pokaże przycisk „Cofnij”."""
    persona = get_persona_for_user(request.user, persona_id)
    persona.soft_delete()
    _remember_undo(request, persona.project, [persona.id])
    return _back(request, reverse("personas:list", args=[persona.project_id]))


@login_required
@require_POST
def restore(request: HttpRequest, persona_id: uuid.UUID) -> HttpResponse:
    """Przywraca usuniętą personę."""
    persona = get_persona_for_user(request.user, persona_id, include_deleted=True)
    persona.restore()
    messages.success(request, _("“%(name)s” restored.") % {"name": persona.full_name})
    return _back(request, reverse("personas:detail", args=[persona.id]))
