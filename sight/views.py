"""Widoki HTML rdzenia: projekty, konto, tokeny API, zadania, stan usług."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

import config
from sight import health, jobs, llm
from sight.forms import ApiTokenForm, ProjectForm, SignupForm
from sight.models import ApiToken, Job, Project, get_job_for_user, get_project_for_user
from sight.projects import delete_project, sections_context
from sight.screens import distribution_rows, preset_choices, render_screen

SMOKE_CALLS = 5


def home(request: HttpRequest) -> HttpResponse:
    """Strona główna: lista projektów (po zalogowaniu)."""
    return redirect("projects:list")


def signup(request: HttpRequest) -> HttpResponse:
    """Zakładanie konta: e-mail i hasło; po sukcesie użytkownik jest zalogowany."""
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupForm(request.POST) if request.method == "POST" else SignupForm()
    if form.is_bound and form.is_valid():
        form.instance.preferred_language = (get_language() or "pl")[:2]
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome to Sight! Your account is ready."))
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/signup.html", {"form": form}, status=422 if form.errors else 200)


def health_status(request: HttpRequest) -> HttpResponse:
    """Stan usług: fragment stopki dla htmx albo pełna strona bez JavaScriptu."""
    return render_screen(request, "sight/health.html", "health", {"health": health.status()})


# --- projekty ------------------------------------------------------------------------------------------------------


def _render_project_form(request: HttpRequest, form: ProjectForm, project: Project | None) -> HttpResponse:
    status = 422 if form.is_bound and form.errors else 200
    return render(
        request, "projects/form.html", {"form": form, "project": project, "presets": preset_choices()}, status=status
    )


def _load_preset(request: HttpRequest, project: Project | None) -> HttpResponse:
    """Wczytuje kategorie presetu do edytora bez zapisu (htmx: tylko edytor; bez JS: cały formularz)."""
    preset = config.load_demographics().get(request.POST.get("preset", ""))
    initial = {name: request.POST.get(name, "") for name in ProjectForm.Meta.fields if name != "target_demographics"}
    form = ProjectForm(initial=initial, instance=project)
    form.show_distribution(preset.target_demographics() if preset else None, request.POST)
    if request.htmx:
        return render(request, "projects/form.html#distribution_editor", {"form": form, "presets": preset_choices()})
    return _render_project_form(request, form, project)


@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    """Projekty użytkownika, stronicowane (htmx: tylko lista)."""
    page = Paginator(Project.objects.for_user(request.user), config.load_features().page_size).get_page(
        request.GET.get("page")
    )
    return render_screen(request, "projects/list.html", "project_list", {"page": page})


@login_required
def project_create(request: HttpRequest) -> HttpResponse:
    """Nowy projekt z rozkładem demograficznym."""
    if request.method == "POST" and "load_preset" in request.POST:
        return _load_preset(request, None)
    form = ProjectForm(request.POST if request.method == "POST" else None, instance=Project(owner=request.user))
    if form.is_bound and form.is_valid():
        project = form.save()
        messages.success(request, _("Project “%(name)s” created.") % {"name": project.name})
        return redirect("projects:detail", project.id)
    return _render_project_form(request, form, None)


@login_required
def project_detail(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Projekt: pola, rozkład jako słupki, test połączenia z LLM i sekcje zarejestrowane przez aplikacje."""
    project = get_project_for_user(request.user, project_id)
    smoke = Job.objects.for_user(request.user).filter(project=project, kind="llm.smoke").first()
    context = {
        "project": project,
        "distribution": distribution_rows(project.target_demographics),
        "smoke_job": smoke.as_dict() if smoke else None,
    }
    return render(request, "projects/detail.html", sections_context(request, project) | context)


@login_required
def project_edit(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Edycja projektu."""
    project = get_project_for_user(request.user, project_id)
    if request.method == "POST" and "load_preset" in request.POST:
        return _load_preset(request, project)
    form = ProjectForm(request.POST if request.method == "POST" else None, instance=project)
    if form.is_bound and form.is_valid():
        form.save()
        messages.success(request, _("Project “%(name)s” saved.") % {"name": project.name})
        return redirect("projects:detail", project.id)
    return _render_project_form(request, form, project)


@login_required
def project_delete(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Usunięcie projektu po potwierdzeniu (GET pokazuje pytanie, POST usuwa)."""
    project = get_project_for_user(request.user, project_id)
    if request.method == "POST":
        delete_project(project)
        messages.success(request, _("Project “%(name)s” deleted.") % {"name": project.name})
        return redirect("projects:list")
    return render(request, "projects/delete.html", {"project": project})


@login_required
@require_POST
def project_smoke(request: HttpRequest, project_id: uuid.UUID) -> HttpResponse:
    """Uruchamia test połączenia z LLM (zadanie `llm.smoke`); trwający test nie jest dublowany."""
    project = get_project_for_user(request.user, project_id)
    job = Job.objects.for_user(request.user).filter(project=project, kind="llm.smoke").active().first()
    job = job or jobs.start_job(
        kind="llm.smoke", user=request.user, project=project, params={"calls": SMOKE_CALLS}, total=SMOKE_CALLS
    )
    if request.htmx:
        return render(request, "projects/detail.html#smoke_job", {"project": project, "smoke_job": job.as_dict()})
    messages.info(request, _("LLM connection test started."))
    return redirect("projects:detail", project.id)


# --- zadania -------------------------------------------------------------------------------------------------------


@login_required
def job_detail(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """Strona zadania: postęp na żywo, anulowanie, wywołania LLM, tokeny, koszt i czas trwania."""
    job = get_job_for_user(request.user, job_id)
    return render(
        request,
        "sight/job_detail.html",
        {"job": job.as_dict(), "job_row": job, "kind_label": jobs.job_label(job.kind), "usage": llm.job_usage(job)},
    )


@login_required
@require_POST
def job_cancel(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """Anuluje zadanie (w kolejce od razu, trwające przy najbliższym raporcie postępu)."""
    job = jobs.cancel(get_job_for_user(request.user, job_id))
    if request.htmx:
        return render(request, "sight/job_progress.html#job_progress", {"job": job.as_dict()})
    messages.info(request, _("Cancellation requested."))
    return redirect("jobs:detail", job.id)


# --- tokeny API ----------------------------------------------------------------------------------------------------


def _render_tokens(request: HttpRequest, form: ApiTokenForm, *, status: int = 200, raw_token: str = "") -> HttpResponse:
    context = {"form": form, "tokens": ApiToken.objects.for_user(request.user), "raw_token": raw_token}
    return render_screen(request, "sight/tokens.html", "tokens", context, status=status)


@login_required
def token_list(request: HttpRequest) -> HttpResponse:
    """Tokeny API użytkownika i formularz nowego tokenu."""
    return _render_tokens(request, ApiTokenForm())


@never_cache
@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    """Tworzy token; jawna wartość jest pokazana tylko w tej odpowiedzi (bez przekierowania, bez zapisu)."""
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _render_tokens(request, form, status=422)
    _token, raw = ApiToken.issue(user=request.user, name=form.cleaned_data["name"])
    return _render_tokens(request, ApiTokenForm(), raw_token=raw)


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: uuid.UUID) -> HttpResponse:
    """Odwołuje token użytkownika (cudzy to 404)."""
    token = get_object_or_404(ApiToken.objects.for_user(request.user), pk=token_id)
    token.revoke()
    if request.htmx:
        return _render_tokens(request, ApiTokenForm())
    messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    return redirect("tokens:list")


def favicon(request: HttpRequest) -> HttpResponse:
    """`/favicon.ico` (przeglądarki pytają o nią same, np. w adminie) wskazuje ikonę z plików statycznych."""
    return redirect(static("img/favicon.svg"), permanent=True)
