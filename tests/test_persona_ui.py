"""Interfejs person: sekcja w projekcie (generowanie, postęp, karty, trafność), lista z filtrami, szczegóły, usuwanie z
cofnięciem, CSRF, izolacja, polecenie.
"""

import asyncio
import itertools
import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.template.loader import render_to_string
from django.test import Client
from django.utils.html import escape

import config
from personas.generation import persona_card
from personas.models import Persona, PersonaRun
from personas.validation import validate_personas
from sight import jobs, llm
from sight.models import Job
from tests.factories import create_panel_persona as create_persona
from tests.factories import create_project, create_segment, create_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_llm")]

HTMX = {"HTTP_HX_REQUEST": "true"}
TARGET = {"age_group": {"18-34": 0.5, "35+": 0.5}, "gender": {"female": 0.5, "male": 0.5}}
_names = itertools.count(1)


@pytest.fixture
def client(user):
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client


def profile(messages) -> dict:
    """Poprawny profil od modelu (każde wywołanie — inna osoba i historia)."""
    n = next(_names)
    words = " ".join(f"slowo{n}x{i}" for i in range(60))
    story = "\n\n".join(f"Akapit {p} o osobie {n}: {words}." for p in range(3))
    return {
        "full_name": f"Zofia Lis {n}",
        "title": "Projektantka",
        "headline": "Chce mieć pieniądze pod kontrolą.",
        "background_story": story,
        "values": ["rodzina", "niezależność", "spokój"],
        "interests": ["góry", "podcasty", "gotowanie"],
        "occupation": "projektantka",
        "communication_style": "Mówi wprost i krótko.",
        "decision_style": "Czyta opinie, zanim kupi.",
        "concerns": ["opłaty", "oszustwa"],
    }


def generate_inline(project, n: int, **options) -> PersonaRun:
    """Przebieg przez formularz nie jest potrzebny: plan + wykonanie zadania w tym procesie."""
    from personas.generation import start_generation

    llm.script("persona_generation", [profile] * n)
    run = start_generation(project, user=project.owner, num_personas=n, segments=False, **options)
    jobs.execute(str(run.job_id))
    run.refresh_from_db()
    return run


# --- sekcja person na stronie projektu ---------------------------------------------------------------------------


def test_project_page_offers_the_generate_form_and_an_honest_empty_validity_card(client, user):
    project = create_project(owner=user, target_sample_size=30)
    html = client.get(f"/projects/{project.id}/").content.decode()
    assert '<section id="personas"' in html and f'action="/projects/{project.id}/personas/generate/"' in html
    assert (
        'name="num_personas"' in html
        and 'value="30"' in html
        and f'max="{config.load_features().personas.max_per_run}"' in html
    )
    assert 'name="seed"' in html and 'name="segments"' in html and 'name="use_rag"' in html
    for preset in config.load_features().personas.trait_presets:
        assert f'<option value="{preset}"' in html
    assert "Can the panel be trusted?" in html and "No saved personas: nothing to check." in html
    assert "ws-connect" not in html.split('<section id="personas"')[1]


def test_the_generate_form_starts_a_job_and_the_section_listens_for_live_progress(client, user):
    project = create_project(owner=user, target_demographics=TARGET)
    resp = client.post(
        f"/projects/{project.id}/personas/generate/",
        {"num_personas": "6", "seed": "5", "use_rag": "on", "trait_preset": "cautious"},
        **HTMX,
    )
    run = PersonaRun.objects.get(project=project)
    assert (run.num_requested, run.seed, run.segments_enabled, run.use_rag, run.trait_preset) == (
        6,
        5,
        False,
        True,
        "cautious",
    )
    body = resp.content.decode()
    assert resp.status_code == 200 and body.strip().startswith('<section id="personas"') and "<html" not in body
    assert (
        f'ws-connect="/ws/jobs/{run.job_id}/"' in body
        and 'hx-ext="ws"' in body
        and f'data-refresh-url="/projects/{project.id}/personas/panel/"' in body
    )
    assert f'id="job-{run.job_id}"' in body and '<div id="persona-cards"' in body
    again = client.post(f"/projects/{project.id}/personas/generate/", {"num_personas": "3"}, **HTMX)
    assert again.status_code == 409 and "already in progress" in again.content.decode()
    assert PersonaRun.objects.filter(project=project).count() == 1


def test_without_javascript_the_generate_form_redirects_back_to_the_section(client, user):
    project = create_project(owner=user)
    resp = client.post(f"/projects/{project.id}/personas/generate/", {"num_personas": "2", "segments": "on"})
    assert resp.status_code == 302 and resp["Location"] == f"/projects/{project.id}/#personas"
    assert PersonaRun.objects.get(project=project).segments_enabled
    page = client.get(resp["Location"]).content.decode()
    assert "Persona generation started." in page and 'ws-connect="/ws/jobs/' in page


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "greater than or equal to 1"),
        ("501", "less than or equal to 500"),
        ("abc", "Enter a whole number"),
        ("", "This field is required"),
        ("-3", "greater than"),
    ],
)
def test_a_bad_panel_size_re_renders_the_form_with_an_error_and_never_500(client, user, value, message):
    project = create_project(owner=user)
    fragment = client.post(f"/projects/{project.id}/personas/generate/", {"num_personas": value}, **HTMX)
    assert (
        fragment.status_code == 422
        and message in fragment.content.decode()
        and fragment.content.decode().strip().startswith('<section id="personas"')
    )
    page = client.post(f"/projects/{project.id}/personas/generate/", {"num_personas": value})
    assert page.status_code == 422 and message in page.content.decode() and "<html" in page.content.decode()
    assert "hx-post" not in page.content.decode().split("<main")[1]
    assert not PersonaRun.objects.exists() and not Job.objects.exists()


def test_an_unknown_trait_preset_or_a_huge_seed_is_a_form_error(client, user):
    project = create_project(owner=user)
    assert (
        client.post(
            f"/projects/{project.id}/personas/generate/", {"num_personas": "2", "trait_preset": "nope"}
        ).status_code
        == 422
    )
    assert (
        client.post(f"/projects/{project.id}/personas/generate/", {"num_personas": "2", "seed": str(2**63)}).status_code
        == 422
    )
    assert not PersonaRun.objects.exists()


def test_after_generation_the_section_shows_cards_validity_and_the_run(client, user):
    project = create_project(owner=user, target_demographics=TARGET)
    run = generate_inline(project, 4)
    assert Job.objects.get(pk=run.job_id).status == "succeeded"
    section = client.get(f"/projects/{project.id}/personas/panel/", **HTMX).content.decode()
    assert section.strip().startswith('<section id="personas"') and "ws-connect" not in section
    names = [escape(p.full_name) for p in run.personas.all()]
    assert section.count('class="persona-card"') == 4 and len(names) == 4 and all(n in section for n in names)
    assert "Computed on 4 saved personas (deleted ones excluded)." in section
    assert "matches the target" in section and "Chi-square" in section and "TVD" in section
    assert "All 4 requested personas were generated." in section
    assert (
        f'href="/projects/{project.id}/personas/export.csv"' in section
        and f'href="/projects/{project.id}/personas/"' in section
    )
    assert client.get(f"/projects/{project.id}/personas/panel/").status_code == 302


def test_the_validity_card_tells_about_failures_and_the_segment_fallback(client, user):
    project = create_project(owner=user, target_demographics=TARGET)
    create_persona(project=project, demographics={"age_group": "18-34", "gender": "female"}, full_name="Jan Kowal")
    create_persona(project=project, demographics={"age_group": "18-34", "gender": "female"}, full_name="jan  kowal")
    PersonaRun.objects.create(
        project=project,
        num_requested=5,
        seed=1,
        status="partial",
        failed=[{"index": 3, "reason": "LLMOutputError: za krótka historia"}],
        segment_fallback=True,
        segment_fallback_reason="LLMOutputError: brak segmentów",
    )
    html = client.get(f"/projects/{project.id}/").content.decode()
    assert "1 of 5 requested personas could not be generated" in html and "za krótka historia" in html
    assert "did not return usable market segments" in html and "brak segmentów" in html
    assert "Repeated full names: Jan Kowal ×2." in html
    assert "Fails: fix or replace the flagged personas" in html


@pytest.mark.parametrize("language", ["pl", "en"])
def test_the_validity_card_and_the_api_say_the_same_sentences_from_one_translation(user, language):
    project = create_project(
        owner=user, target_demographics={"gender": {"female": 0.5, "male": 0.5}, "age_group": TARGET["age_group"]}
    )
    for i in range(12):
        create_persona(
            project=project,
            demographics={"gender": "female" if i < 9 else "male", "age_group": "18-34" if i % 2 else "35+"},
            full_name="Ewa Lis" if i < 2 else f"Osoba {i}",
            background_story="ta sama historia o opłatach" if i < 2 else f"historia {i} " * (i + 3),
            openness=0.5,
        )
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    sentences = client.get(f"/api/v1/projects/{project.id}/personas/validation").json()["statements"][language]
    card = re.search(
        r'<ul class="statements">(.*?)</ul>', client.get(f"/projects/{project.id}/").content.decode(), re.S
    )[1]
    assert re.findall(r"<li>(.*?)</li>", card) == [escape(s) for s in sentences] and len(sentences) == 9
    assert (
        not any("%(" in s for s in sentences) and {"pl": "≥ 0,90): 1.", "en": "≥ 0.90): 1."}[language] in sentences[5]
    )
    opening = {"pl": "Policzono na 12 zapisanych personach", "en": "Computed on 12 saved personas"}[language]
    assert sentences[0].startswith(opening) and "statements" not in validate_personas(project)


def test_the_live_card_fragment_is_appended_out_of_band(db):
    project = create_project()
    persona = create_persona(
        project=project,
        full_name="<b>Ola</b>",
        title="Lekarka",
        segment=create_segment(project=project, name="Zdrowie"),
        location="Łódź",
    )
    html = render_to_string("personas/_card.html#persona_card_live", {"p": persona_card(persona)})
    assert html.strip().startswith('<div id="persona-cards" hx-swap-oob="beforeend">')
    assert f'id="persona-card-{persona.id}"' in html and f'href="/personas/{persona.id}/"' in html
    assert "&lt;b&gt;Ola&lt;/b&gt;" in html and "Lekarka" in html and "Zdrowie" in html and "Łódź" in html
    assert "<html" not in html


# --- lista ------------------------------------------------------------------------------------------------------------


def test_the_list_filters_paginates_and_htmx_gets_only_the_list(client, user):
    project = create_project(owner=user)
    segment = create_segment(project=project, name="Oszczędni")
    page_size = config.load_features().page_size
    for i in range(page_size + 3):
        create_persona(
            project=project,
            full_name=f"Osoba {i:03d}",
            gender="female" if i % 2 else "male",
            age=20 + i,
            location="Poznań",
            interests=["kino"],
            values=["rodzina"],
        )
    create_persona(
        project=project,
        full_name="Wyjątkowa Wanda",
        gender="female",
        age=70,
        location="Gdynia",
        occupation="żeglarka",
        segment=segment,
    )
    create_persona(full_name="Obca Osoba")
    full = client.get(f"/projects/{project.id}/personas/").content.decode()
    assert "<html" in full and full.count('name="ids"') == page_size and "Obca Osoba" not in full
    assert f"1–{page_size} of {page_size + 4} personas" in full and "Page 1 of 2" in full
    assert "Top values" in full and "rodzina" in full and "Top interests" in full and "kino" in full
    second = client.get(f"/projects/{project.id}/personas/?page=2&gender=male", **HTMX)
    assert second.status_code == 200
    html = second.content.decode()
    # Fragment listy i — obok niego, out-of-band — zakładki z licznikami.
    assert html.split("</nav>", 1)[1].strip().startswith('<div id="persona-list">') and "<html" not in html
    filtered = client.get(
        f"/projects/{project.id}/personas/?gender=female&age_min=65&location=Gdynia&occupation=%C5%BCEGL&q=wanda&segment={segment.id}"
    ).content.decode()
    assert (
        "Wyjątkowa Wanda" in filtered
        and filtered.count('name="ids"') == 1
        and '<option value="Gdynia" selected>' in filtered
    )
    bad = client.get(f"/projects/{project.id}/personas/?age_min=abc&gender=female")
    assert bad.status_code == 200 and "Some filters were ignored" in bad.content.decode()
    assert bad.content.decode().count('name="ids"') == (page_size + 3) // 2 + 1
    nothing = client.get(f"/projects/{project.id}/personas/?q=nikt-taki").content.decode()
    assert "No persona matches these filters." in nothing


def test_detail_page_shows_the_story_traits_segment_and_why_it_is_in_the_panel(client, user):
    project = create_project(owner=user, target_demographics=TARGET)
    segment = create_segment(project=project, name="Cyfrowi")
    persona = create_persona(
        project=project,
        full_name="Marta Zając",
        demographics={"age_group": "18-34", "gender": "female"},
        segment=segment,
        openness=0.83,
        power_distance=0.27,
        background_story="Pierwszy akapit <script>.\n\nDrugi akapit.\n\nTrzeci akapit.",
        values=["wolność"],
        concerns=["opłaty"],
        decision_style="Szybko.",
    )
    create_persona(project=project, demographics={"age_group": "35+", "gender": "male"})
    html = client.get(f"/personas/{persona.id}/").content.decode()
    assert (
        "<p>Pierwszy akapit &lt;script&gt;.</p>" in html
        and "<p>Drugi akapit.</p>" in html
        and "<p>Trzeci akapit.</p>" in html
    )
    assert (
        "Openness" in html
        and "0.83" in html
        and "Power distance" in html
        and "0.27" in html
        and 'style="width: 83.0%"' in html
    )
    assert html.count('class="bar bar--trait"') == 11
    assert "Why this persona is in the panel" in html and "50.0% <span" in html and "(1/2)" in html
    assert (
        "Cyfrowi" in html and "Opis segmentu" in html and "wolność" in html and "opłaty" in html and "Szybko." in html
    )
    assert "Generate needs and pains" in html and f'action="/personas/{persona.id}/needs/"' in html


def test_needs_are_generated_with_live_progress_and_then_shown(client, user):
    persona = create_persona(project=create_project(owner=user))
    resp = client.post(f"/personas/{persona.id}/needs/", **HTMX)
    job = Job.objects.get(kind="personas.needs")
    body = resp.content.decode()
    assert (
        body.strip().startswith('<section class="card" id="needs"')
        and f'ws-connect="/ws/jobs/{job.id}/"' in body
        and f'id="job-{job.id}"' in body
    )
    client.post(f"/personas/{persona.id}/needs/", **HTMX)
    assert Job.objects.filter(kind="personas.needs").count() == 1
    llm.script(
        "persona_needs",
        [
            {
                "jobs_to_be_done": ["zapłacić rachunki", "oszczędzać"],
                "desired_outcomes": ["mniej stresu", "kontrola"],
                "pain_points": ["ukryte opłaty", "kolejki"],
            }
        ],
    )
    jobs.execute(str(job.id))
    done = client.get(f"/personas/{persona.id}/needs/", **HTMX).content.decode()
    assert "ukryte opłaty" in done and "zapłacić rachunki" in done and "ws-connect" not in done and "Regenerate" in done
    plain = client.post(f"/personas/{persona.id}/needs/", {"regenerate": "1"})
    assert plain.status_code == 302 and plain["Location"] == f"/personas/{persona.id}/#needs"
    assert Job.objects.filter(kind="personas.needs").first().params["regenerate"] is True


def test_delete_from_the_list_offers_undo(client, user):
    project = create_project(owner=user)
    persona = create_persona(project=project, full_name="Do Usunięcia")
    keep = create_persona(project=project, full_name="Zostaje")
    list_url = f"/projects/{project.id}/personas/?gender=female"
    resp = client.post(f"/personas/{persona.id}/delete/", {"next": list_url}, follow=True, **HTMX)
    html = resp.content.decode()
    assert resp.redirect_chain == [(list_url, 302)] and '<div id="persona-list">' in html and "<html" not in html
    assert (
        "Deleted “Do Usunięcia”." in html
        and f'<input type="hidden" name="ids" value="{persona.id}">' in html
        and ">Undo<" in html
    )
    persona.refresh_from_db()
    assert persona.is_deleted and "Do Usunięcia" not in html.split("</form>", 1)[1]
    assert "Deleted “Do Usunięcia”" not in client.get(list_url).content.decode()
    undo = client.post(
        f"/projects/{project.id}/personas/bulk-restore/",
        {"ids": [str(persona.id)], "next": list_url},
        follow=True,
        **HTMX,
    )
    assert "1 persona restored." in undo.content.decode()
    persona.refresh_from_db()
    assert not persona.is_deleted and not Persona.objects.get(pk=keep.pk).is_deleted
    assert (
        client.post(f"/personas/{persona.id}/delete/", {"next": "https://evil.example.com/"})["Location"]
        == f"/projects/{project.id}/personas/"
    )


def test_delete_and_restore_from_the_detail_page(client, user):
    persona = create_persona(project=create_project(owner=user), full_name="Kasia")
    resp = client.post(f"/personas/{persona.id}/delete/", {"next": f"/personas/{persona.id}/"})
    assert resp.status_code == 302
    page = client.get(f"/personas/{persona.id}/").content.decode()
    assert (
        "This persona was deleted" in page
        and f'action="/personas/{persona.id}/restore/"' in page
        and "Generate needs and pains" not in page
    )
    assert client.post(f"/personas/{persona.id}/needs/").status_code == 404
    resp = client.post(f"/personas/{persona.id}/restore/")
    assert resp["Location"] == f"/personas/{persona.id}/"
    assert "“Kasia” restored." in client.get(resp["Location"]).content.decode()
    assert client.get(f"/personas/{persona.id}/delete/").status_code == 405


def test_bulk_delete_removes_the_selected_personas_of_this_project_only(client, user):
    project = create_project(owner=user)
    a, b, c = (create_persona(project=project) for _ in range(3))
    foreign = create_persona()
    resp = client.post(
        f"/projects/{project.id}/personas/bulk-delete/",
        {"ids": [str(a.id), str(b.id), str(foreign.id), "not-a-uuid"]},
        follow=True,
    )
    html = resp.content.decode()
    assert set(Persona.objects.deleted().values_list("id", flat=True)) == {a.id, b.id}
    assert "Deleted 2 personas." in html and html.count('name="ids"') == 1 + 2
    deleted_view = client.get(f"/projects/{project.id}/personas/?deleted=1").content.decode()
    assert "Restore selected" in deleted_view and deleted_view.count('name="ids"') == 2
    assert (
        client.post(f"/projects/{project.id}/personas/bulk-delete/", {}, follow=True)
        .content.decode()
        .count("Select at least one persona.")
        == 1
    )
    assert not Persona.objects.get(pk=c.pk).is_deleted and not Persona.objects.get(pk=foreign.pk).is_deleted


def test_exports_download_the_panel(client, user):
    project = create_project(owner=user)
    create_persona(project=project, full_name="=SUM(A1)")
    csv_resp = client.get(f"/projects/{project.id}/personas/export.csv")
    assert csv_resp.status_code == 200 and "'=SUM(A1)" in csv_resp.content.decode()
    assert client.get(f"/projects/{project.id}/personas/export.json").json()["personas"][0]["full_name"] == "=SUM(A1)"
    assert client.get(f"/projects/{project.id}/personas/export.xml").status_code == 404


# --- bezpieczeństwo -------------------------------------------------------------------------------------------------


def test_csrf_is_enforced_on_persona_posts(db):
    user = create_user()
    project = create_project(owner=user)
    persona = create_persona(project=project)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    posts = [
        (f"/projects/{project.id}/personas/generate/", {"num_personas": "2"}),
        (f"/projects/{project.id}/personas/bulk-delete/", {"ids": [str(persona.id)]}),
        (f"/projects/{project.id}/personas/bulk-restore/", {"ids": [str(persona.id)]}),
        (f"/personas/{persona.id}/delete/", {}),
        (f"/personas/{persona.id}/restore/", {}),
        (f"/personas/{persona.id}/needs/", {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert (
        not PersonaRun.objects.exists()
        and not Job.objects.exists()
        and not Persona.objects.get(pk=persona.pk).is_deleted
    )
    page = client.get(f"/personas/{persona.id}/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
    assert client.post(f"/personas/{persona.id}/delete/", {"csrfmiddlewaretoken": token}).status_code == 302


def test_another_users_personas_and_panel_pages_are_404(client):
    other = create_project(name="Cudzy")
    persona = create_persona(project=other)
    gets = [
        f"/personas/{persona.id}/",
        f"/personas/{persona.id}/needs/",
        f"/projects/{other.id}/personas/",
        f"/projects/{other.id}/personas/panel/",
        f"/projects/{other.id}/personas/generate/",
        f"/projects/{other.id}/personas/export.csv",
        f"/projects/{other.id}/personas/export.json",
    ]
    for url in gets:
        assert client.get(url).status_code == 404, url
        assert client.get(url, **HTMX).status_code == 404, url
    posts = [
        f"/personas/{persona.id}/delete/",
        f"/personas/{persona.id}/restore/",
        f"/personas/{persona.id}/needs/",
        f"/projects/{other.id}/personas/generate/",
        f"/projects/{other.id}/personas/bulk-delete/",
        f"/projects/{other.id}/personas/bulk-restore/",
    ]
    for url in posts:
        assert client.post(url, {"ids": [str(persona.id)], "num_personas": "2"}).status_code == 404, url
    assert not Persona.objects.get(pk=persona.pk).is_deleted and not Job.objects.exists()
    assert Client().get(f"/personas/{persona.id}/").status_code == 302


def test_the_persona_pages_are_in_polish_by_default(user):
    client = Client()
    client.force_login(user)
    project = create_project(owner=user)
    persona = create_persona(project=project)
    assert ">Persony<" in client.get(f"/projects/{project.id}/").content.decode()
    assert "Dlaczego ta persona jest w panelu" in client.get(f"/personas/{persona.id}/").content.decode()


# --- polecenie -------------------------------------------------------------------------------------------------------


def test_the_command_generates_n_personas_inline_and_prints_the_result(user):
    project = create_project(owner=user, target_demographics=TARGET)
    llm.script("persona_generation", [profile] * 5)
    out = StringIO()
    call_command("generate_personas", str(project.id), "5", "--no-segments", "--no-rag", "--seed", "3", stdout=out)
    run = PersonaRun.objects.get(project=project)
    assert (
        Persona.objects.filter(run=run).count() == 5 and run.seed == 3 and not run.use_rag and not run.segments_enabled
    )
    assert Job.objects.get(pk=run.job_id).status == "succeeded"
    text = out.getvalue()
    assert "created 5 of 5, failed 0; validation:" in text and str(run.job_id) in text
    assert "[5/5] succeeded" in text, text
    assert all(f"  + {name}\n" in text for name in Persona.objects.filter(run=run).values_list("full_name", flat=True))


@pytest.mark.django_db(transaction=True)
def test_the_command_prints_each_new_persona_once_while_following_the_job_row(user):
    project = create_project(owner=user, target_demographics=TARGET)

    async def slow_profile(messages) -> dict:
        await asyncio.sleep(0.4)
        return profile(messages)

    llm.script("persona_generation", [slow_profile] * 4)
    out = StringIO()
    call_command("generate_personas", str(project.id), "4", "--no-segments", "--no-rag", stdout=out)
    lines = out.getvalue().splitlines()
    names = list(Persona.objects.filter(project=project).values_list("full_name", flat=True))
    assert len(names) == 4 and sorted(line[4:] for line in lines if line.startswith("  + ")) == sorted(names)
    assert sum(line.startswith("[4/4] succeeded") for line in lines) == 1, lines


def test_the_command_can_only_enqueue(user):
    project = create_project(owner=user)
    out = StringIO()
    call_command("generate_personas", str(project.id), "3", "--enqueue", "--trait-preset", "innovators", stdout=out)
    job = Job.objects.get(kind="personas.generate")
    assert f"enqueued job {job.id}" in out.getvalue() and job.status == "queued" and not Persona.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nie-uuid", "3"], "must be a project UUID"),
        (["00000000-0000-0000-0000-000000000000", "3"], "no project"),
        (["{project}", "0"], "between 1 and"),
        (["{project}", "501"], "between 1 and"),
        (["{project}", "trzy"], "invalid int"),
        (["{project}", "2", "--trait-preset", "nope"], "Unknown trait preset"),
    ],
)
def test_the_command_rejects_bad_input(user, args, message):
    project = create_project(owner=user)
    with pytest.raises(CommandError, match=message):
        call_command("generate_personas", *[a.format(project=project.id) for a in args], stdout=StringIO())
    assert not PersonaRun.objects.exists()
