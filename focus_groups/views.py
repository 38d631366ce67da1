"""Widoki HTML grup fokusowych: lista, formularz, strona przebiegu na żywo, sterowanie, wtrącenia, wyniki, podsumowanie,
eksporty.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

import config
from focus_groups import discussion, summary
from focus_groups.forms import FocusGroupForm, InterjectForm, TranscriptFilterForm
from focus_groups.models import FocusGroup, FocusGroupEvent, get_focus_group_for_user
from focus_groups.setup import create_focus_group, update_focus_group
from personas.models import Persona
from rag import grounding
from sight.errors import Conflict, InvalidInput, show_domain_error
from sight.models import Project, get_project_for_user
from sight.screens import bar_rows, percent, render_screen

Status = FocusGroup.Status
SPOKEN = (FocusGroupEvent.Kind.TURN, FocusGroupEvent.Kind.ANSWER)
SPEAKING = (*SPOKEN, FocusGroupEvent.Kind.MODERATOR, FocusGroupEvent.Kind.INTERJECTION)
STANCE_ORDER = ("support", "neutral", "oppose")
EXPORT_FORMATS = ("md", "pdf", "csv", "json")


# --- prezentacja (dane do szablonu) ----------------------------------------------------------------------------------


def statistics_rows(stats: dict[str, Any]) -> dict[str, Any]:
    """Statystyki jako słupki (udział, długość wypowiedzi) i słupki skumulowane stanowisk przed/po."""
    participation = stats["participation"]
    shifts = [
        {
            **shift,
            **{
                when: bar_rows(((s, shift[when].get(s, 0)) for s in STANCE_ORDER), scale=shift[f"{when}_count"])
                for when in ("before", "after")
            },
        }
        for shift in stats["stance_shifts"]
    ]
    return {
        "total_turns": stats["total_turns"],
        "turns_bars": bar_rows((p["name"], p["turns"]) for p in participation),
        "words_bars": bar_rows((p["name"], p["words"]) for p in participation),
        "length_bars": bar_rows((b["range"], b["count"]) for b in stats["turn_lengths"]),
        "stance_shifts": shifts,
    }


def now_playing(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Bieżące pytanie i ostatni mówca z najnowszych zdarzeń."""
    question = next((e for e in reversed(events) if e["kind"] == FocusGroupEvent.Kind.QUESTION), None)
    speaker = next((e for e in reversed(events) if e["kind"] in SPEAKING), None)
    return {"question": question, "speaker": speaker}


def _summary_context(fg: FocusGroup, *, error: str = "") -> dict[str, Any]:
    job = fg.summary_job
    return {
        "fg": fg,
        "summary_job": job.as_dict() if job else None,
        "summary_busy": bool(job and not job.is_final),
        "summary_error": error,
    }


def _detail_context(
    request: HttpRequest,
    fg: FocusGroup,
    *,
    interject_form: InterjectForm | None = None,
    interjected: FocusGroupEvent | None = None,
) -> dict[str, Any]:
    """Wszystko, czego potrzebuje strona grupy: strumień na żywo przed końcem, wyniki po nim."""
    people = [link.persona for link in fg.participant_links.select_related("persona__segment")]
    context: dict[str, Any] = {
        "fg": fg,
        "project": fg.project,
        "people": people,
        # Na żywo śledzimy każdy przebieg, który się zaczął i nie skończył (także wstrzymany).
        "is_live": fg.status != Status.PENDING and not fg.is_finished,
        "state": fg.live_state(),
        "interject_form": interject_form or InterjectForm(),
        "interjected": interjected,
        **_summary_context(fg),
    }
    spoken = fg.events.filter(kind__in=SPOKEN).count()
    context["progress"] = {"done": spoken, "total": discussion.planned_steps(fg)}
    context["progress"]["percent"] = min(100, int(percent(spoken, context["progress"]["total"])))
    if fg.status == Status.PENDING:
        context["estimate"] = discussion.estimate_cost(fg)
    if context["is_live"]:
        events = [e.as_dict() for e in fg.events.order_by("seq")]
        grounding.mark_deleted_in_events(events)
        # `after` to numer ostatniego wyrenderowanego zdarzenia (nie `fg.last_seq`), więc nic nie wpadnie w lukę.
        context.update(events=events, after=events[-1]["seq"] if events else 0, now=now_playing(events))
    elif fg.is_finished and fg.last_seq:
        filter_form = TranscriptFilterForm(request.GET or None, focus_group=fg, people=people)
        context.update(
            filter_form=filter_form,
            transcript=_with_source_flags(summary.transcript(fg, **filter_form.filters())),
            stats=statistics_rows(summary.statistics(fg)),
        )
    return context


# --- lista i konfiguracja
# ----------------------------------------------------------------------------------------------


@login_required
def focus_group_list(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Grupy fokusowe projektu, od najnowszych (htmx: tylko lista)."""
    project = get_project_for_user(request.user, project_id)
    groups = (
        FocusGroup.objects.filter(project=project)
        .annotate(participant_count=Count("participant_links"))
        .order_by("-created_at")
    )
    page = Paginator(groups, config.load_features().page_size).get_page(request.GET.get("page"))
    return render_screen(
        request,
        "focus_groups/list.html",
        "focus_group_list",
        {"project": project, "page": page, "groups": page.object_list},
    )


def _render_form(request: HttpRequest, form: FocusGroupForm, project: Project, fg: FocusGroup | None) -> HttpResponse:
    status = 422 if form.is_bound and form.errors else 200
    panel_size = Persona.objects.filter(project=project).active().count()
    return render(
        request,
        "focus_groups/form.html",
        {"form": form, "project": project, "fg": fg, "panel_size": panel_size},
        status=status,
    )


@login_required
def focus_group_create(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Nowa grupa fokusowa z przewodnikiem i uczestnikami z panelu projektu."""
    project = get_project_for_user(request.user, project_id)
    form = FocusGroupForm(request.POST if request.method == "POST" else None, project=project)
    if form.is_bound and form.is_valid():
        try:
            fg = create_focus_group(project, form.schema)
        except InvalidInput as exc:
            show_domain_error(request, exc, form=form)
        else:
            messages.success(request, _("Focus group “%(name)s” created.") % {"name": fg.name})
            return redirect("focus_groups:detail", fg.id)
    return _render_form(request, form, project, None)


@login_required
def focus_group_edit(request: HttpRequest, focus_group_id: uuid.UUID) -> HttpResponse:
    """Zmiana grupy, dopóki nie wystartowała (potem tylko podgląd)."""
    fg = get_focus_group_for_user(request.user, focus_group_id)
    if not fg.is_editable:
        messages.error(request, _("A focus group can be changed only before it starts."))
        return redirect("focus_groups:detail", fg.id)
    form = FocusGroupForm(request.POST if request.method == "POST" else None, project=fg.project, instance=fg)
    if form.is_bound and form.is_valid():
        try:
            update_focus_group(fg, form.schema)
        except InvalidInput as exc:
            show_domain_error(request, exc, form=form)
        except Conflict as exc:
            show_domain_error(request, exc)
            return redirect("focus_groups:detail", fg.id)
        else:
            messages.success(request, _("Focus group “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
            return redirect("focus_groups:detail", fg.id)
    return _render_form(request, form, fg.project, fg)


@login_required
def focus_group_delete(request: HttpRequest, focus_group_id: uuid.UUID) -> HttpResponse:
    """Usunięcie grupy po potwierdzeniu; trwającej nie można usunąć."""
    fg = get_focus_group_for_user(request.user, focus_group_id)
    if fg.is_active:
        messages.error(request, _("Stop the focus group before deleting it."))
        return redirect("focus_groups:detail", fg.id)
    if request.method == "POST":
        fg.delete()
        messages.success(request, _("Focus group “%(name)s” deleted.") % {"name": fg.name})
        return redirect("focus_groups:list", fg.project_id)
    return render(request, "focus_groups/delete.html", {"fg": fg, "project": fg.project})


# --- strona grupy i sterowanie
# -----------------------------------------------------------------------------------------


@login_required
def focus_group_detail(request: HttpRequest, focus_group_id: uuid.UUID) -> HttpResponse:
    """Grupa: przed startem koszt, w trakcie strumień na żywo, po końcu transkrypcja z filtrami (htmx: tylko
    transkrypcja), statystyki i podsumowanie.
    """
    fg = get_focus_group_for_user(request.user, focus_group_id)
    return render_screen(request, "focus_groups/detail.html", "transcript", _detail_context(request, fg))


def _after_control(request: HttpRequest, fg: FocusGroup) -> HttpResponse:
    """htmx: przeładowanie strony (nowe zadanie, nowy strumień); bez JS: przekierowanie."""
    url = reverse("focus_groups:detail", args=[fg.id])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_POST
def focus_group_run(request: HttpRequest, focus_group_id: uuid.UUID, *, resume: bool = False) -> HttpResponse:
    """Startuje przebieg w tle albo wznawia wstrzymany (od miejsca, w którym stanął)."""
    fg = get_focus_group_for_user(request.user, focus_group_id)
    try:
        (discussion.resume_run if resume else discussion.start_run)(fg, user=request.user)
    except Conflict as exc:
        show_domain_error(request, exc)
    else:
        messages.info(request, _("The discussion has been resumed.") if resume else _("The discussion has started."))
    return _after_control(request, fg)


@login_required
@require_POST
def focus_group_control(request: HttpRequest, focus_group_id: uuid.UUID, *, control: str) -> HttpResponse:
    """Pauza albo stop przed następną turą (htmx: nowy stan w miejscu przycisków)."""
    fg = get_focus_group_for_user(request.user, focus_group_id)
    try:
        fg = discussion.request_control(fg, control)
    except Conflict as exc:
        show_domain_error(request, exc)
        return _after_control(request, fg)
    if request.htmx:
        return render(request, "focus_groups/detail.html#status_live", {"state": fg.live_state()})
    messages.info(
        request,
        _("The discussion will pause before the next turn.")
        if control == FocusGroup.Control.PAUSE
        else _("The discussion will stop before the next turn."),
    )
    return redirect("focus_groups:detail", fg.id)


@login_required
@require_POST
def focus_group_interject(request: HttpRequest, focus_group_id: uuid.UUID) -> HttpResponse:
    """Wtrącenie badacza; wypowiedź pojawia się w strumieniu przez websocket (htmx: świeży formularz)."""
    fg = get_focus_group_for_user(request.user, focus_group_id)
    form = InterjectForm(request.POST)
    event, status = None, 422
    if form.is_valid():
        try:
            event, status = discussion.interject(fg, text=form.cleaned_data["text"], user=request.user), 200
        except Conflict as exc:
            status = show_domain_error(request, exc, form=form)
    if request.htmx:
        form = InterjectForm() if event else form
        context = {"fg": fg, "interject_form": form, "interjected": event}
        return render(request, "focus_groups/detail.html#interject", context, status=status)
    if event:
        messages.success(request, _("Your question was sent to the moderator."))
        return redirect(reverse("focus_groups:detail", args=[fg.id]) + f"#event-{event.seq}")
    return render(request, "focus_groups/detail.html", _detail_context(request, fg, interject_form=form), status=status)


# --- wyniki ----------------------------------------------------------------------------------------------------------


@login_required
def focus_group_summary(request: HttpRequest, focus_group_id: uuid.UUID) -> HttpResponse:
    """GET: fragment podsumowania (odpytywany w trakcie pisania); POST: pisze albo odświeża podsumowanie w tle."""
    fg = get_focus_group_for_user(request.user, focus_group_id)
    error, status = "", 200
    if request.method == "POST":
        try:
            summary.start_summary(fg, user=request.user, regenerate=fg.summary is not None)
        except Conflict as exc:
            error, status = exc.message, exc.status
    if request.htmx:
        return render(request, "focus_groups/detail.html#summary", _summary_context(fg, error=error), status=status)
    if error:
        messages.error(request, error)
    return redirect(reverse("focus_groups:detail", args=[fg.id]) + "#summary")


@login_required
def focus_group_export(request: HttpRequest, focus_group_id: uuid.UUID, fmt: str) -> HttpResponse:
    """Plik do pobrania: raport Markdown albo PDF, CSV wypowiedzi, JSON zdarzeń."""
    fg = get_focus_group_for_user(request.user, focus_group_id)
    if fmt not in EXPORT_FORMATS:
        raise Http404("unknown export format")
    return summary.export(fg, fmt)


def _with_source_flags(transcript: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Transkrypcja z flagą „źródło usunięte” przy cytatach wypowiedzi (jedno zapytanie)."""
    grounding.mark_deleted_in_events(e for group in transcript for e in group["events"])
    return transcript
