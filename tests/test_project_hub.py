"""Strona projektu jako węzeł: sekcje zarejestrowane przez aplikacje, w kolejności, bez zapytań rosnących z danymi."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from focus_groups.models import FocusGroup
from sight import jobs, projects
from sight.models import Job, Project
from tests.factories import create_persona, create_project

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
APPS = ("sight", "personas", "focus_groups", "surveys", "rag")


@pytest.fixture
def client(user) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def create_focus_group(project: Project, name: str) -> FocusGroup:
    return FocusGroup.objects.create(project=project, name=name, questions=[{"text": "Co sądzisz?", "probes": []}])


def test_every_app_registers_its_section_of_the_project_page():
    assert [(s.name, s.template) for s in projects.sections()] == [
        ("personas", "personas/_section.html#personas_section"),
        ("focus_groups", "focus_groups/_section.html#focus_groups_section"),
        ("surveys", "surveys/_section.html#surveys_section"),
        ("knowledge", "rag/_section.html#knowledge_section"),
    ]


def test_the_project_page_shows_each_apps_section_in_registered_order(client, user):
    project = create_project(owner=user)
    create_persona(project=project, full_name="Zofia Lis")
    create_focus_group(project, "Rozmowa o cenach")
    html = client.get(f"/projects/{project.id}/").content.decode()
    assert html.index("Target demographics") < html.index('id="personas"') < html.index('id="focus-groups"')
    assert "Zofia Lis" in html and "Rozmowa o cenach" in html and "Can the panel be trusted?" in html
    assert html.count('src="/static/js/personas.js"') == 1


def test_sections_are_merged_in_order_and_a_newly_registered_one_shows_up(monkeypatch, client, user):
    monkeypatch.setattr(projects, "SECTIONS", dict(projects.SECTIONS))
    calls = []

    @projects.project_section("probe", order=15, template="sight/health.html#health", scripts=("js/personas.js",))
    def probe(request, project):
        calls.append(project.id)
        return {"health": {"database": {"ok": True}}}

    project = create_project(owner=user)
    context = projects.sections_context(None, project)
    assert context["project_sections"] == [
        "personas/_section.html#personas_section",
        "sight/health.html#health",
        "focus_groups/_section.html#focus_groups_section",
        "surveys/_section.html#surveys_section",
        "rag/_section.html#knowledge_section",
    ]
    assert (
        context["project_scripts"] == ["js/personas.js"]
        and context["health"]["database"]["ok"]
        and calls == [project.id]
    )
    html = client.get(f"/projects/{project.id}/").content.decode()
    assert html.index('id="personas"') < html.index('class="health"') < html.index('id="focus-groups"')


def _page_queries(client: Client, project: Project) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/projects/{project.id}/").status_code == 200
    return len(queries)


def test_the_project_page_query_count_does_not_grow_with_the_number_of_focus_groups(client, user):
    project = create_project(owner=user)
    few = _page_queries(client, project)
    for n in range(5):
        create_focus_group(project, f"Grupa {n}")
    five = _page_queries(client, project)
    for n in range(5, 25):
        create_focus_group(project, f"Grupa {n}")
    html = client.get(f"/projects/{project.id}/").content.decode()
    assert _page_queries(client, project) == five <= few + 1
    assert "All 25 focus groups" in html and html.count('class="fg-list__item"') == 5
    assert "Grupa 24" in html and "Grupa 19" not in html


def test_every_registered_job_kind_has_a_human_name():
    app_kinds = {kind for kind in jobs.HANDLERS if not kind.startswith("test.")}
    assert app_kinds >= {"llm.smoke", "personas.generate", "focus_groups.run"} and app_kinds <= set(jobs.LABELS)
    assert jobs.job_label("no.such.kind") == "no.such.kind"


@pytest.mark.parametrize(
    ("kind", "polish"),
    [
        ("llm.smoke", "Test połączenia z LLM"),
        ("personas.generate", "Generowanie person"),
        ("personas.needs", "Potrzeby i bolączki"),
        ("focus_groups.run", "Przebieg grupy fokusowej"),
        ("focus_groups.summary", "Podsumowanie grupy fokusowej"),
    ],
)
def test_the_job_page_names_the_kind_from_the_registry_in_the_viewers_language(user, kind, polish):
    job = Job.objects.create(kind=kind, user=user, project=create_project(owner=user))
    client = Client(headers={"accept-language": "pl"})
    client.force_login(user)
    html = client.get(f"/jobs/{job.id}/").content.decode()
    assert f"<h1>{polish}</h1>" in html
    with translation.override("en"):
        assert jobs.job_label(kind) == str(jobs.LABELS[kind]) != polish


def _imports(path: Path) -> set[str]:
    """Moduły importowane przez plik (`import a.b`, `from a.b import c` → `a.b` oraz `a.b.c`)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_no_module_imports_a_view_module_of_another_app():
    offenders = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            own = {f"{app}.views"} if path.name == "urls.py" else set()
            views = {name for name in _imports(path) if name.endswith(".views") and name.split(".")[0] in APPS}
            offenders += [f"{path.relative_to(ROOT)} → {name}" for name in views - own]
    assert offenders == []


def test_core_names_no_app_outside_the_composition_root():
    """Rdzeń nie importuje aplikacji ani nie zna ich rodzajów zadań i modeli; wyjątek: miejsca, które je montują."""
    composition_root = {"api.py", "routing.py", "urls.py", "settings.py"}
    apps = tuple(app for app in APPS if app != "sight")
    offenders = []
    for path in (ROOT / "sight").rglob("*.py"):
        if path.name in composition_root or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        named = {name for name in _imports(path) if name.split(".")[0] in apps}
        named |= {
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith(tuple(f"{app}." for app in apps))
        }
        named |= {
            "apps.get_model" for node in ast.walk(tree) if isinstance(node, ast.Attribute) and node.attr == "get_model"
        }
        offenders += [f"{path.relative_to(ROOT)}: {name}" for name in sorted(named)]
    assert offenders == []
