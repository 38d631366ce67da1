"""Interfejs HTML: układ strony, projekty z edytorem rozkładu, zadania, tokeny API, języki, CSRF, fragmenty htmx."""

import math
import re
import shutil

import pytest
import yaml
from django.template.loader import render_to_string
from django.test import Client

import config
from sight.models import ApiToken, Job, Project
from tests.factories import DEMOGRAPHICS, create_project, create_user

HTMX = {"HTTP_HX_REQUEST": "true"}


def english(client: Client) -> Client:
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def dist_fields(distribution: dict) -> dict[str, str]:
    """Pola edytora rozkładu, tak jak wysyła je formularz."""
    data = {}
    for c, (category, buckets) in enumerate(distribution.items()):
        data[f"dist-{c}-name"] = category
        for b, (bucket, weight) in enumerate(buckets.items()):
            data[f"dist-{c}-{b}-bucket"] = bucket
            data[f"dist-{c}-{b}-weight"] = str(weight)
    return data


def project_form(distribution: dict | None = None, **fields: str) -> dict[str, str]:
    data = {
        "name": "Bankowość mobilna",
        "description": "Opis",
        "target_audience": "Dorośli",
        "research_objectives": "Cele",
        "notes": "",
        "language": "pl",
        "target_sample_size": "30",
        "token_budget": "",
    }
    data.update(fields)
    data.update(dist_fields(DEMOGRAPHICS if distribution is None else distribution))
    return data


TEMP_PRESET = {
    "id": "testland",
    "label": {"pl": "Testlandia", "en": "Testland"},
    "country": "TL",
    "language": "en",
    "categories": {
        "age_group": {"label": {"pl": "Wiek", "en": "Age"}, "buckets": {"18-39": 0.6, "40+": 0.4}},
        "region": {"label": {"pl": "Region", "en": "Region"}, "buckets": {"north": 0.25, "south": 0.75}},
    },
    "vocabularies": {
        "first_names": {"female": ["Ann"], "male": ["Bob"]},
        "surnames": ["Smith"],
        "occupations": [{"name": "clerk"}],
        "interests": ["chess"],
        "values": ["honesty"],
        "communication_styles": ["direct"],
        "decision_styles": ["careful"],
    },
}


@pytest.fixture
def preset(tmp_path):
    """Pierwszy preset z config/demographics; gdy katalog jest pusty — tymczasowy preset w kopii konfiguracji."""
    presets = config.load_demographics()
    if presets:
        yield next(iter(presets.values()))
        return
    original = config.CONFIG_DIR
    shutil.copytree(original, tmp_path / "config")
    (tmp_path / "config" / "demographics").mkdir(exist_ok=True)
    (tmp_path / "config" / "demographics" / "testland.yaml").write_text(yaml.safe_dump(TEMP_PRESET))
    config.use_dir(tmp_path / "config")
    try:
        yield next(iter(config.load_demographics().values()))
    finally:
        config.use_dir(original)


# --- układ strony ----------------------------------------------------------------------------------------------------


def test_base_layout_has_nav_csrf_header_htmx_with_ws_and_lazy_health_footer(logged_client, settings):
    settings.SIGHT_LLM_PROVIDER = "fake"
    html = english(logged_client).get("/projects/").content.decode()
    assert 'href="/projects/"' in html and 'href="/tokens/"' in html
    assert 'href="/admin/"' not in html
    assert re.search(r"""<body hx-headers='\{"X-CSRFToken": "[\w-]+"\}'>""", html)
    assert "django_htmx/htmx-2.min.js" in html and "django_htmx/ext/hx-ws-2.min.js" in html
    assert 'action="/i18n/setlang/"' in html
    assert 'hx-get="/health/"' in html and 'hx-trigger="load, every 30s"' in html
    assert "Offline demo" not in html


def test_staff_see_the_admin_link_and_offline_mode_shows_a_banner(db, settings):
    settings.SIGHT_LLM_PROVIDER = "offline"
    client = english(Client())
    client.force_login(create_user(is_staff=True))
    html = client.get("/projects/").content.decode()
    assert 'href="/admin/"' in html
    assert "Offline demo — no LLM configured" in html


def test_health_footer_fragment_and_full_page(db):
    fragment = english(Client()).get("/health/", **HTMX)
    body = fragment.content.decode()
    assert fragment.status_code == 200 and "<html" not in body
    for name in ("Database", "Redis", "Graph", "LLM"):
        assert name in body
    assert "HX-Request" in fragment["Vary"]
    page = english(Client()).get("/health/").content.decode()
    assert "<html" in page and "Service status" in page


def test_language_switch_renders_polish_or_english(logged_client):
    assert ">Projekty<" in logged_client.get("/projects/").content.decode()
    resp = logged_client.post("/i18n/setlang/", {"language": "en", "next": "/projects/"})
    assert resp.status_code == 302 and resp["Location"] == "/projects/"
    html = logged_client.get("/projects/").content.decode()
    assert ">Projects<" in html and 'lang="en"' in html
    logged_client.post("/i18n/setlang/", {"language": "pl", "next": "/projects/"})
    assert ">Projekty<" in logged_client.get("/projects/").content.decode()


def test_unknown_pages_are_a_friendly_404(logged_client):
    resp = logged_client.get("/projects/00000000-0000-0000-0000-000000000000/")
    assert resp.status_code == 404


# --- projekty ------------------------------------------------------------------------------------------------------


def test_project_list_is_paginated_and_htmx_gets_only_the_fragment(logged_client, user):
    page_size = config.load_features().page_size
    for i in range(page_size + 2):
        create_project(owner=user, name=f"Projekt {i:03d}")
    create_project(name="Cudzy projekt")
    full = logged_client.get("/projects/").content.decode()
    assert "<html" in full and full.count('class="card project-item"') == page_size
    assert "Cudzy projekt" not in full
    fragment = logged_client.get("/projects/?page=2", **HTMX)
    body = fragment.content.decode()
    assert "<html" not in body and body.strip().startswith('<div id="project-list">')
    assert body.count('class="card project-item"') == 2
    restore = logged_client.get("/projects/?page=2", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<html" in restore.content.decode()


def test_project_create_edit_and_delete_through_the_html_forms(logged_client, user):
    assert logged_client.get("/projects/new/").status_code == 200
    resp = logged_client.post("/projects/new/", project_form())
    project = Project.objects.get(owner=user)
    assert resp.status_code == 302 and resp["Location"] == f"/projects/{project.id}/"
    assert (
        project.target_demographics == DEMOGRAPHICS
        and project.target_sample_size == 30
        and project.token_budget is None
    )

    detail = english(logged_client).get(f"/projects/{project.id}/").content.decode()
    assert "Bankowość mobilna" in detail and "Test LLM connection" in detail
    assert 'style="width: 50.0%"' in detail

    edit_page = logged_client.get(f"/projects/{project.id}/edit/").content.decode()
    assert 'name="dist-0-name" value="age_group"' in edit_page and 'name="dist-1-1-weight" value="0.5"' in edit_page
    new_distribution = {"region": {"north": "0,25", "south": "0.75"}}
    resp = logged_client.post(
        f"/projects/{project.id}/edit/",
        project_form(new_distribution, name="Nowa nazwa", token_budget="5000", language="en"),
    )
    assert resp.status_code == 302
    project.refresh_from_db()
    assert project.name == "Nowa nazwa" and project.language == "en" and project.token_budget == 5000
    assert project.target_demographics == {"region": {"north": 0.25, "south": 0.75}}

    confirm = logged_client.get(f"/projects/{project.id}/delete/")
    assert confirm.status_code == 200 and "Nowa nazwa" in confirm.content.decode()
    resp = logged_client.post(f"/projects/{project.id}/delete/")
    assert resp.status_code == 302 and resp["Location"] == "/projects/"
    assert not Project.objects.filter(pk=project.id).exists()


def test_editor_round_trips_weights_that_need_full_precision(logged_client, user):
    thirds = {"segment": {"a": 1 / 3, "b": 1 / 3, "c": 1 - 2 / 3}}
    project = create_project(owner=user, target_demographics=thirds)
    page = logged_client.get(f"/projects/{project.id}/edit/").content.decode()
    fields = {k: v for k, v in re.findall(r'name="(dist-[\w-]+)" value="([^"]*)"', page)}
    resp = logged_client.post(f"/projects/{project.id}/edit/", project_form({}, **fields))
    assert resp.status_code == 302
    project.refresh_from_db()
    assert math.isclose(sum(project.target_demographics["segment"].values()), 1.0, abs_tol=1e-9)


def test_blank_editor_rows_are_ignored_and_spare_rows_are_offered(logged_client, user):
    data = project_form()
    data.update(
        {"dist-0-9-bucket": "", "dist-0-9-weight": "", "dist-7-name": "", "dist-7-0-bucket": "", "dist-7-0-weight": ""}
    )
    assert logged_client.post("/projects/new/", data).status_code == 302
    assert Project.objects.get(owner=user).target_demographics == DEMOGRAPHICS
    page = logged_client.get("/projects/new/").content.decode()
    assert "data-extra" in page and 'name="dist-0-name" value=""' in page


TOO_MANY_CATEGORIES = {f"cat{i}": {"all": 1} for i in range(13)}
TOO_MANY_BUCKETS = {"wide": {f"b{i}": (1 if i == 0 else 0) for i in range(41)}}


@pytest.mark.parametrize(
    ("case", "data", "message"),
    [
        ("negative", project_form({"age": {"young": -0.5, "old": 1.5}}), "must not be negative"),
        ("nan", project_form({"age": {"young": "nan", "old": "0.5"}}), "finite number"),
        ("infinite", project_form({"age": {"young": "inf", "old": "0.5"}}), "finite number"),
        ("overflow", project_form({"age": {"young": "1e999", "old": "0.5"}}), "finite number"),
        ("non-numeric", project_form({"age": {"young": "abc", "old": "0.5"}}), "must be a number"),
        ("missing weight", project_form({"age": {"young": "", "old": "1"}}), "must be a number"),
        ("sum too low", project_form({"age": {"young": 0.5, "old": 0.4}}), "must sum to 1"),
        ("sum off by 1e-5", project_form({"age": {"young": 0.5, "old": 0.49999}}), "must sum to 1"),
        ("empty", project_form({}), "Add at least one category"),
        (
            "category without buckets",
            project_form({"age": {}}) | {"dist-0-0-bucket": "", "dist-0-0-weight": ""},
            "at least one bucket",
        ),
        ("too many categories", project_form(TOO_MANY_CATEGORIES), "At most 12 categories"),
        ("too many buckets", project_form(TOO_MANY_BUCKETS), "at most 40 buckets"),
        ("long category", project_form({"x" * 65: {"a": 1}}), "at most 64 characters"),
        ("long bucket", project_form({"age": {"y" * 65: 1}}), "at most 64 characters"),
        ("nul category", project_form({"a\x00ge": {"a": 1}}), "NUL"),
        ("nul bucket", project_form({"age": {"a\x00": 1}}), "NUL"),
        ("nameless bucket", project_form({"age": {"": 1}}), "Every weight needs a bucket name"),
        ("nameless category", project_form({"": {"a": 1}}), "Give this category a name"),
        (
            "duplicate category",
            project_form({"age": {"a": 1}}) | {"dist-5-name": "age", "dist-5-0-bucket": "b", "dist-5-0-weight": "1"},
            "used twice",
        ),
        (
            "duplicate bucket",
            project_form({"age": {"a": 0.5}}) | {"dist-0-7-bucket": "a", "dist-0-7-weight": "0.5"},
            "appears twice",
        ),
        ("unknown language", project_form(language="de"), "Select a valid choice"),
        ("long name", project_form(name="n" * 256), "at most 255 characters"),
        ("empty name", project_form(name=""), "This field is required"),
        ("nul in text", project_form(description="a\x00b"), "Null characters are not allowed"),
        ("sample size zero", project_form(target_sample_size="0"), "greater than or equal to 1"),
        ("sample size huge", project_form(target_sample_size="100000"), "less than or equal to 1000"),
        ("sample size text", project_form(target_sample_size="many"), "Enter a whole number"),
        ("negative budget", project_form(token_budget="-5"), "greater than or equal to 0"),
    ],
)
def test_invalid_project_input_re_renders_with_field_errors_and_never_500(logged_client, user, case, data, message):
    resp = english(logged_client).post("/projects/new/", data)
    assert resp.status_code == 422, case
    assert message in resp.content.decode(), case
    assert 'class="errorlist' in resp.content.decode()
    assert not Project.objects.filter(owner=user).exists()


def test_distribution_errors_are_shown_at_their_category_and_input_is_kept(logged_client, user):
    data = project_form({"age": {"young": "abc", "old": "0.5"}, "gender": {"f": 0.5, "m": 0.5}})
    html = english(logged_client).post("/projects/new/", data).content.decode()
    invalid = re.findall(r'<fieldset class="dist-category dist-category--invalid"[^>]*>.*?</fieldset>', html, re.S)
    assert len(invalid) == 1
    assert (
        'value="age"' in invalid[0]
        and "young: the weight must be a number" in invalid[0]
        and 'value="abc"' in invalid[0]
    )
    assert 'name="dist-1-name" value="gender"' in html


def test_edit_with_a_bad_distribution_keeps_the_saved_one(logged_client, user):
    project = create_project(owner=user)
    resp = logged_client.post(f"/projects/{project.id}/edit/", project_form({"age": {"a": 2}}))
    assert resp.status_code == 422
    project.refresh_from_db()
    assert project.target_demographics == DEMOGRAPHICS


def test_another_users_project_is_404_everywhere(logged_client):
    other = create_project(name="Tajny projekt")
    for url in (f"/projects/{other.id}/", f"/projects/{other.id}/edit/", f"/projects/{other.id}/delete/"):
        assert logged_client.get(url).status_code == 404
    assert logged_client.post(f"/projects/{other.id}/edit/", project_form(name="przejęty")).status_code == 404
    assert logged_client.post(f"/projects/{other.id}/delete/").status_code == 404
    assert logged_client.post(f"/projects/{other.id}/llm-test/").status_code == 404
    other.refresh_from_db()
    assert other.name == "Tajny projekt" and not Job.objects.filter(project=other).exists()


def test_preset_loads_into_the_editor_without_saving(logged_client, user, preset):
    resp = logged_client.post("/projects/new/", {"name": "", "load_preset": "1", "preset": preset.id}, **HTMX)
    body = resp.content.decode()
    assert resp.status_code == 200 and body.strip().startswith('<div id="distribution-editor"')
    for category, buckets in preset.target_demographics().items():
        assert f'value="{category}"' in body
        for bucket in buckets:
            assert f'value="{bucket}"' in body
    assert "errorlist" not in body and not Project.objects.exists()
    full = logged_client.post(
        "/projects/new/", project_form(name="Zachowana nazwa") | {"load_preset": "1", "preset": preset.id}
    )
    assert (
        full.status_code == 200
        and 'value="Zachowana nazwa"' in full.content.decode()
        and "<html" in full.content.decode()
    )
    resp = logged_client.post("/projects/new/", project_form(preset.target_demographics()))
    assert resp.status_code == 302
    assert Project.objects.get(owner=user).target_demographics == preset.target_demographics()


def test_new_project_form_has_no_hard_coded_distribution(logged_client):
    html = logged_client.get("/projects/new/").content.decode()
    assert not re.search(r'name="dist-\d+-\d+-weight" value="[^"]+"', html)


# --- CSRF ----------------------------------------------------------------------------------------------------------


def test_csrf_is_enforced_on_state_changing_posts(db):
    user = create_user()
    project = create_project(owner=user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    for url, data in (
        ("/projects/new/", project_form()),
        (f"/projects/{project.id}/delete/", {}),
        (f"/projects/{project.id}/llm-test/", {}),
        ("/tokens/new/", {"name": "x"}),
        ("/accounts/logout/", {}),
    ):
        assert client.post(url, data).status_code == 403, url
    page = client.get("/projects/new/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    assert client.post("/projects/new/", project_form() | {"csrfmiddlewaretoken": token}).status_code == 302
    header_token = re.search(r"""hx-headers='\{"X-CSRFToken": "([^"]+)"\}'""", page)[1]
    resp = client.post("/tokens/new/", {"name": "skrypt"}, HTTP_X_CSRFTOKEN=header_token, **HTMX)
    assert resp.status_code == 200 and ApiToken.objects.filter(user=user).count() == 1


# --- zadania -------------------------------------------------------------------------------------------------------


def test_smoke_job_starts_from_the_project_page_and_renders_live_progress(logged_client, user):
    project = create_project(owner=user)
    resp = logged_client.post(f"/projects/{project.id}/llm-test/", **HTMX)
    job = Job.objects.get(project=project)
    assert job.kind == "llm.smoke" and job.user == user and job.params == {"calls": 5} and job.progress_total == 5
    body = resp.content.decode()
    assert resp.status_code == 200 and body.strip().startswith('<div id="smoke-job">')
    assert f'ws-connect="/ws/jobs/{job.id}/"' in body and 'hx-ext="ws"' in body
    assert f'id="job-{job.id}"' in body and "<progress" in body and "hx-swap-oob" not in body
    again = logged_client.post(f"/projects/{project.id}/llm-test/", **HTMX)
    assert again.status_code == 200 and Job.objects.filter(project=project).count() == 1
    detail = logged_client.get(f"/projects/{project.id}/").content.decode()
    assert f'id="job-{job.id}"' in detail


def test_smoke_job_without_javascript_redirects_back_to_the_project(logged_client, user):
    project = create_project(owner=user)
    resp = logged_client.post(f"/projects/{project.id}/llm-test/")
    assert resp.status_code == 302 and resp["Location"] == f"/projects/{project.id}/"
    assert Job.objects.filter(project=project, kind="llm.smoke").exists()
    assert logged_client.get(f"/projects/{project.id}/llm-test/").status_code == 405


def test_job_progress_fragment_for_the_websocket_is_an_oob_swap(db):
    job = Job.objects.create(
        kind="llm.smoke",
        status=Job.Status.FAILED,
        progress_done=2,
        progress_total=4,
        message="krok 2",
        error="RuntimeError: boom",
    )
    html = render_to_string("sight/job_progress.html#job_progress", {"job": job.as_dict(), "oob": True})
    assert html.strip().startswith(f'<div id="job-{job.id}"') and 'hx-swap-oob="true"' in html
    assert 'value="50"' in html and "krok 2" in html and "RuntimeError: boom" in html
    assert "<html" not in html


def test_job_page_shows_progress_and_cancel_works(logged_client, user):
    job = Job.objects.create(kind="llm.smoke", user=user, progress_total=5)
    page = logged_client.get(f"/jobs/{job.id}/").content.decode()
    assert (
        f'ws-connect="/ws/jobs/{job.id}/"' in page
        and f'id="job-{job.id}"' in page
        and f'action="/jobs/{job.id}/cancel/"' in page
    )
    resp = logged_client.post(f"/jobs/{job.id}/cancel/", **HTMX)
    assert resp.status_code == 200 and resp.content.decode().strip().startswith(f'<div id="job-{job.id}"')
    job.refresh_from_db()
    assert job.status == Job.Status.CANCELLED
    assert logged_client.post(f"/jobs/{job.id}/cancel/").status_code == 302


def test_another_users_job_is_404(logged_client):
    job = Job.objects.create(kind="llm.smoke", user=create_user())
    assert logged_client.get(f"/jobs/{job.id}/").status_code == 404
    assert logged_client.post(f"/jobs/{job.id}/cancel/").status_code == 404
    job.refresh_from_db()
    assert not job.cancel_requested


# --- tokeny API ----------------------------------------------------------------------------------------------------


def test_api_token_is_shown_once_and_can_be_revoked(logged_client, user):
    assert logged_client.get("/tokens/").status_code == 200
    resp = logged_client.post("/tokens/new/", {"name": "skrypt raportów"})
    raw = re.search(r'<code id="new-token">(sight_[\w-]+)</code>', resp.content.decode())[1]
    assert "no-store" in resp["Cache-Control"]
    token = ApiToken.objects.get(user=user)
    assert ApiToken.authenticate(raw) == user and raw.startswith(token.prefix)
    listing = logged_client.get("/tokens/").content.decode()
    assert raw not in listing and token.prefix in listing and "skrypt raportów" in listing
    resp = logged_client.post(f"/tokens/{token.id}/revoke/")
    assert resp.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None and ApiToken.authenticate(raw) is None


def test_token_form_errors_and_other_users_tokens(logged_client, user):
    resp = logged_client.post("/tokens/new/", {"name": ""})
    assert resp.status_code == 422 and not ApiToken.objects.exists()
    assert logged_client.post("/tokens/new/", {"name": "a\x00"}).status_code == 422
    assert logged_client.post("/tokens/new/", {"name": "x" * 101}).status_code == 422
    foreign, _raw = ApiToken.issue(user=create_user(), name="cudzy")
    assert logged_client.post(f"/tokens/{foreign.id}/revoke/").status_code == 404
    assert "cudzy" not in logged_client.get("/tokens/").content.decode()
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_token_actions_over_htmx_return_the_tokens_fragment(logged_client, user):
    resp = logged_client.post("/tokens/new/", {"name": "ci"}, **HTMX)
    body = resp.content.decode()
    assert body.strip().startswith('<div id="tokens">') and 'id="new-token"' in body and "<html" not in body
    token = ApiToken.objects.get(user=user)
    body = logged_client.post(f"/tokens/{token.id}/revoke/", **HTMX).content.decode()
    assert body.strip().startswith('<div id="tokens">') and 'id="new-token"' not in body


def test_unknown_preset_keeps_the_editor_as_it_was(logged_client):
    resp = logged_client.post(
        "/projects/new/",
        project_form({"pets": {"cat": 0.5, "dog": 0.5}}) | {"load_preset": "1", "preset": "no-such-preset"},
        **HTMX,
    )
    body = resp.content.decode()
    assert resp.status_code == 200 and 'value="pets"' in body and 'value="dog"' in body


def test_favicon_redirects_to_the_static_icon():
    resp = Client().get("/favicon.ico")
    assert resp.status_code == 301 and resp["Location"].endswith("img/favicon.svg")
