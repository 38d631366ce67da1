"""Strony ankiet: karta na stronie projektu, nowa z szablonu, edycja treści bez JavaScriptu, badanie z postępem,
wyniki ze słupkami i tabelą krzyżową, 404 dla cudzej ankiety, polskie etykiety.
"""

import re

import django_rq
import pytest
from rq import SimpleWorker

from surveys.models import Answer, Survey
from tests.factories import create_persona, create_project, create_user

pytestmark = pytest.mark.usefixtures("fake_llm")


@pytest.fixture
def client(logged_client):
    logged_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return logged_client


@pytest.fixture
def project(user):
    return create_project(owner=user, language="en")


def new_survey(client, project, template="brand_perception", name=""):
    resp = client.post(f"/projects/{project.id}/surveys/new/", {"template": template, "name": name})
    assert resp.status_code == 302, resp.content
    return Survey.objects.get(project=project, pk=resp["Location"].split("/")[2])


def test_the_project_page_has_a_survey_card_and_a_survey_is_created_from_a_template(client, project):
    html = client.get(f"/projects/{project.id}/").content.decode()
    assert 'id="surveys"' in html and "New survey" in html
    form = client.get(f"/projects/{project.id}/surveys/new/").content.decode()
    assert "Concept test" in form and "Price sensitivity (Van Westendorp)" in form
    survey = new_survey(client, project, "concept_test", "Nowy baton")
    assert survey.name == "Nowy baton" and survey.questions.count() == 4
    listing = client.get(f"/projects/{project.id}/surveys/").content.decode()
    assert "Nowy baton" in listing and "draft" in listing


def test_question_texts_and_options_are_edited_with_a_plain_form(client, project):
    survey = new_survey(client, project)
    page = client.get(f"/surveys/{survey.id}/edit/").content.decode()
    assert 'name="q0-options"' in page and "I don&#x27;t know it" in page
    post = {"name": "Marka X", "q0-text": "Do you know brand X?", "q0-options": "Yes\nNo"}
    for q in survey.questions.exclude(order=0):
        post[f"q{q.order}-text"] = q.text
    resp = client.post(f"/surveys/{survey.id}/edit/", post)
    assert resp.status_code == 302
    first = survey.questions.get(order=0)
    assert first.text == "Do you know brand X?" and [o["label"] for o in first.options] == ["Yes", "No"]
    assert [o["id"] for o in first.options] == ["yes_used", "yes_known"]
    bad = client.post(f"/surveys/{survey.id}/edit/", {**post, "q0-options": "Same\nsame"})
    assert bad.status_code == 422 and "duplicate option labels" in bad.content.decode()


def test_a_fielded_survey_cannot_be_edited_and_the_copy_can(client, project):
    survey = new_survey(client, project)
    Survey.objects.filter(pk=survey.pk).update(status=Survey.Status.COMPLETED)
    resp = client.post(f"/surveys/{survey.id}/edit/", {"name": "X", "q0-text": "Changed?"})
    assert resp.status_code == 422 and "read-only" in resp.content.decode()
    assert survey.questions.get(order=0).text == "Do you know this brand?"
    copy = client.post(f"/surveys/{survey.id}/copy/")
    assert copy.status_code == 302 and Survey.objects.filter(project=project).count() == 2


def test_fielding_from_the_page_shows_progress_and_results_with_bars_and_a_crosstab(
    fake_llm, client, project, django_capture_on_commit_callbacks
):
    for i in range(4):
        create_persona(project=project, gender="female" if i % 2 else "male")
    survey = new_survey(client, project)
    picks = iter(["yes_used", "yes_known", "yes_used", "not_known"])

    def respond(messages):
        text = messages[-1].content
        if "Do you know this brand?" in text.split("Question:", 1)[1]:
            return {"choice": next(picks)}
        return {"reaction": "Fine brand, I think.", "intent": "I strongly agree."}

    fake_llm.script("survey_answer", [respond] * 20)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"/surveys/{survey.id}/run/")
    assert resp.status_code == 302
    page = client.get(f"/surveys/{survey.id}/").content.decode()
    assert "ws-connect" in page and 'class="job job--queued"' in page
    SimpleWorker([django_rq.get_queue("llm")], connection=django_rq.get_connection("llm")).work(burst=True)
    assert Answer.objects.filter(survey=survey, failed=False).count() == 20
    page = client.get(f"/surveys/{survey.id}/").content.decode()
    assert "completed" in page and "Rating method validity" in page and "ws-connect" not in page
    results = client.get(f"/surveys/{survey.id}/results/").content.decode()
    assert '<th scope="row">Yes, I use or have used it</th><td class="num">2</td><td class="num">50%</td>' in results
    assert 'class="chart__svg"' in results and "Yes, I use or have used it: 50%" in results
    assert "Cramér's V" in results and "female (A)" in results and "male (B)" in results
    fragment = client.get(f"/surveys/{survey.id}/results/?by=age_group", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.startswith('\n<div id="crosstab">') or fragment.lstrip().startswith('<div id="crosstab">')


def test_another_users_survey_pages_are_404(client, project):
    survey = new_survey(client, project)
    stranger = client.__class__()
    stranger.force_login(create_user())
    for url in ["", "edit/", "results/"]:
        assert stranger.get(f"/surveys/{survey.id}/{url}").status_code == 404
    for url in ["copy/", "run/"]:
        assert stranger.post(f"/surveys/{survey.id}/{url}").status_code == 404
    assert stranger.get(f"/projects/{project.id}/surveys/").status_code == 404
    assert stranger.get(f"/projects/{project.id}/surveys/new/").status_code == 404


def test_survey_pages_are_translated_to_polish(logged_client, user):
    project = create_project(owner=user, language="pl")
    logged_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "pl"
    html = logged_client.get(f"/projects/{project.id}/").content.decode()
    assert "Ankiety" in html and "Nowa ankieta" in html
    form = logged_client.get(f"/projects/{project.id}/surveys/new/").content.decode()
    assert "Test koncepcji" in form and "Utwórz ankietę" in form
    survey = new_survey(logged_client, project, "nps")
    page = logged_client.get(f"/surveys/{survey.id}/").content.decode()
    assert "Przeprowadź badanie" in page and "szkic" in page


def test_fielding_a_survey_without_a_panel_says_why_on_the_page(client, project):
    survey = new_survey(client, project)
    page = client.post(f"/surveys/{survey.id}/run/", follow=True).content.decode()
    assert "no personas in the panel match" in page and Survey.objects.get(pk=survey.pk).status == "draft"


def builder_survey(project):
    from surveys.builder import SurveyIn, create_survey

    options = [{"id": "pko", "label": "PKO"}, {"label": "Other"}]
    choice = {"type": "single_choice", "text": "Which bank?", "options": options}
    return create_survey(
        project,
        SurveyIn(
            name="Builder",
            questions=[
                choice,
                {"type": "rating", "text": "Would you switch?", "help_text": "Think of the next year."},
                {"type": "open_text", "text": "Why {Q1}?", "show_if": {"question": 1, "values": ["pko"]}},
            ],
        ),
    )


def edit_post(survey, **changes):
    post = {"name": survey.name}
    for q in survey.questions.order_by("order"):
        post[f"q{q.order}-text"] = q.text
        post[f"q{q.order}-help_text"] = q.help_text
        post[f"q{q.order}-required-shown"] = "1"
        if q.required:
            post[f"q{q.order}-required"] = "1"
        if q.options:
            post[f"q{q.order}-options"] = "\n".join(o["label"] for o in q.options)
    return {**post, **changes}


def test_help_text_and_the_required_flag_are_edited_in_the_html_builder(client, project):
    survey = builder_survey(project)
    page = client.get(f"/surveys/{survey.id}/edit/").content.decode()
    assert "Think of the next year." in page and 'name="q1-required" value="1" checked' in page
    post = edit_post(survey, **{"q0-help_text": "Your main bank."})
    del post["q2-required"]
    assert client.post(f"/surveys/{survey.id}/edit/", post).status_code == 302
    first, _, last = survey.questions.order_by("order")
    assert first.help_text == "Your main bank." and first.required and not last.required
    # Formularz bez pól pomocy i obowiązkowości (stary klient) niczego w nich nie zmienia.
    old_form = {"name": "X", "q0-text": "Which bank?", "q0-options": "PKO\nOther"}
    assert client.post(f"/surveys/{survey.id}/edit/", old_form).status_code == 302
    assert survey.questions.get(order=0).help_text == "Your main bank." and not survey.questions.get(order=2).required


def test_questions_are_reordered_without_javascript_and_references_follow(client, project):
    survey = builder_survey(project)
    page = client.get(f"/surveys/{survey.id}/edit/").content.decode()
    form = page[page.index('<form method="post"') :]
    # Enter w polu tekstowym zapisuje (pierwszy przycisk formularza), nie przesuwa pytania.
    assert re.search(r"<button[^>]*>", form).group(0).find('name="move"') == -1
    assert 'value="0:up"' in page and 'value="0:up" hx-post' in page
    resp = client.post(f"/surveys/{survey.id}/edit/", edit_post(survey, move="1:up", **{"q2-text": "Why {Q1} then?"}))
    assert resp.status_code == 302 and resp["Location"].endswith(f"/surveys/{survey.id}/edit/#q0")
    rating, choice, why = survey.questions.order_by("order")
    assert (rating.type, choice.type, why.type) == ("rating", "single_choice", "open_text")
    assert rating.help_text == "Think of the next year."
    assert why.text == "Why {Q2} then?" and why.show_if == {"question": 2, "values": ["pko"]}


def test_a_move_over_htmx_redraws_the_editor_and_a_move_that_breaks_logic_is_refused(client, project):
    survey = builder_survey(project)
    resp = client.post(f"/surveys/{survey.id}/edit/", edit_post(survey, move="0:down"), HTTP_HX_REQUEST="true")
    html = resp.content.decode()
    assert resp.status_code == 200 and html.lstrip().startswith('<div id="survey-editor">')
    assert html.index("Would you switch?") < html.index("Which bank?")
    survey.refresh_from_db()
    # Teraz pytanie 3 zależy od pytania 2; przesunięte nad nie wskazywałoby późniejsze pytanie.
    bad = client.post(f"/surveys/{survey.id}/edit/", edit_post(survey, move="2:up"), HTTP_HX_REQUEST="true")
    assert bad.status_code == 422 and "must refer to an earlier question" in bad.content.decode()
    assert [q.type for q in survey.questions.order_by("order")] == ["rating", "single_choice", "open_text"]


def test_a_fielded_survey_cannot_be_reordered(client, project):
    survey = builder_survey(project)
    Survey.objects.filter(pk=survey.pk).update(status=Survey.Status.COMPLETED)
    resp = client.post(f"/surveys/{survey.id}/edit/", edit_post(survey, move="1:up"))
    assert resp.status_code == 422 and "read-only" in resp.content.decode()
    assert survey.questions.get(order=0).type == "single_choice"


def test_the_validity_card_names_the_ladders_construct_in_the_viewers_language(client, project):
    survey = new_survey(client, project, template="concept_test")
    check = {"code": "ok", "passed": True, "threshold": 0.6, "spearman": 0.83, "construct": "purchase_intent"}
    check["points"] = 5
    survey.validity = {"embedding_model": "wordllama", "ladder": [check], "validated": True}
    survey.save()

    english = client.get(f"/surveys/{survey.id}/").content.decode()
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "pl"
    polish = client.get(f"/surveys/{survey.id}/").content.decode()

    assert "purchase intent (5)" in english and "zamiar zakupu (5)" in polish
    assert "purchase_intent" not in english and "purchase_intent" not in polish
