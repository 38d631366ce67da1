"""Tematy odpowiedzi otwartych z atrapą LLM: cytaty sprawdzone w odpowiedziach (zmyślony odpada i jest liczony),
dodatkowe pola odrzucone (ponowne pytanie, potem porażka z powodem), odpowiedzi tylko w bloku danych wiadomości
użytkownika, partie ze stałymi identyfikatorami tematów, tematy po badaniu, w wynikach API i na stronie, dostawca
offline, 404 dla cudzej ankiety.
"""

import json
import re

import pytest
from django.test import Client

from sight.models import Job
from surveys import themes
from surveys.models import Answer, Question, Survey
from tests.factories import api_client, create_persona, create_project, create_token, run_worker, visible_text

pytestmark = pytest.mark.django_db

TEXTS = [
    "Cena jest za wysoka,   jak na taką kawę.",
    "Za drogo. Wolę tańszą kawę z automatu.",
    "Smak świetny, ale cena odstrasza.",
    "Smak mi nie odpowiada, za gorzka.",
]
QUESTIONS = [
    {"type": "single_choice", "text": "Kupisz?", "options": [{"label": "Tak"}, {"label": "Nie"}]},
    {"type": "open_text", "text": "Co sądzisz o kawie?"},
]


def answered_survey(texts=TEXTS, language="pl"):
    user, token = create_token()
    project = create_project(owner=user, language=language)
    client = api_client(token)
    resp = client.post(
        f"/api/v1/projects/{project.id}/surveys",
        data=json.dumps({"name": "Kawa", "questions": QUESTIONS}),
        content_type="application/json",
    )
    survey = Survey.objects.get(pk=resp.json()["id"])
    question = survey.questions.get(type="open_text")
    answers = [
        Answer.objects.create(
            survey=survey, question=question, persona=create_persona(project=project), text=t, method="direct"
        )
        for t in texts
    ]
    Survey.objects.filter(pk=survey.pk).update(status=Survey.Status.COMPLETED)
    return client, survey, question, answers


def batch_ids(messages) -> list[int]:
    return [int(i) for i in re.findall(r"^\[A(\d+)\]", messages[-1].content, flags=re.M)]


def code(client, survey, question, capture):
    with capture(execute=True):
        resp = client.post(f"/api/v1/surveys/{survey.id}/questions/{question.id}/themes")
    assert resp.status_code == 202, resp.content
    run_worker()
    question.refresh_from_db()
    return Job.objects.get(pk=resp.json()["job_id"])


def test_themes_keep_verified_quotes_drop_fabricated_ones_and_show_counts_in_results(
    fake_llm, django_capture_on_commit_callbacks
):
    client, survey, question, answers = answered_survey()
    a = [x.id for x in answers]
    fake_llm.script(
        "survey_themes",
        [
            {
                "themes": [
                    {
                        "label": "Za wysoka cena",
                        "description": "Kawa jest za droga.",
                        "answer_ids": [a[0], a[1]],
                        "quotes": [
                            # Białe znaki inne niż w odpowiedzi: po normalizacji to wciąż dosłowny fragment.
                            {"answer_id": a[0], "text": "Cena jest za wysoka, jak na taką kawę."},
                            {"answer_id": a[2], "text": "cena odstrasza"},
                            # Zmyślony: takiego fragmentu nie ma we wskazanej odpowiedzi.
                            {"answer_id": a[1], "text": "Za drogo, nigdy więcej nie kupię."},
                        ],
                    },
                    {"label": "Smak", "description": "", "answer_ids": [a[2], a[3]], "quotes": []},
                ]
            }
        ],
    )
    job = code(client, survey, question, django_capture_on_commit_callbacks)
    assert job.status == "succeeded" and question.themes["status"] == "coded"
    assert question.themes["dropped_quotes"] == 1
    price = question.themes["themes"][0]
    assert price["label"] == "Za wysoka cena" and price["count"] == 3 and price["percent"] == 75.0
    assert [q["text"] for q in price["quotes"]] == ["Cena jest za wysoka, jak na taką kawę.", "cena odstrasza"]
    assert price["id"] == themes.theme_id("za  wysoka CENA")
    # Odpowiedzi są danymi w bloku wiadomości użytkownika, nigdy w prompcie systemowym.
    system, user = fake_llm.scripted_calls("survey_themes")[0][:2]
    assert "Cena jest za wysoka" not in system.content
    assert f"[A{a[0]}] Cena jest za wysoka, jak na taką kawę." in user.content
    assert "untrusted DATA" in user.content and user.content.count("<<<ANSWERS-") == 1
    data = client.get(f"/api/v1/surveys/{survey.id}/results").json()
    coded = next(q for q in data["questions"] if q["type"] == "open_text")["themes"]
    assert coded["status"] == "coded" and coded["dropped_quotes"] == 1
    assert [(t["label"], t["count"]) for t in coded["themes"]] == [("Za wysoka cena", 3), ("Smak", 2)]
    assert next(q for q in data["questions"] if q["type"] == "single_choice")["themes"] is None


def test_extra_fields_are_rejected_and_re_asked_then_recorded_as_failed_with_a_reason(
    fake_llm, django_capture_on_commit_callbacks
):
    client, survey, question, answers = answered_survey()
    a = answers[0].id
    good = {"themes": [{"label": "Cena", "description": "", "answer_ids": [a], "quotes": [], "sentiment": "neg"}]}
    fake_llm.script("survey_themes", [{**good, "confidence": 0.9}, good, good])
    code(client, survey, question, django_capture_on_commit_callbacks)
    assert question.themes["status"] == "failed"
    assert "themes.0.sentiment: Extra inputs are not permitted" in question.themes["reason"]
    calls = fake_llm.scripted_calls("survey_themes")
    assert len(calls) == 3 and "confidence: Extra inputs are not permitted" in calls[1][-1].content
    # Identyfikator odpowiedzi spoza danych też jest powodem ponownego pytania; poprawna odpowiedź kończy kodowanie.
    fake_llm.reset_scripts()
    fixed = {"themes": [{"label": "Cena", "description": "", "answer_ids": [a], "quotes": []}]}
    wrong_id = {"themes": [{"label": "Cena", "description": "", "answer_ids": [a, 999999], "quotes": []}]}
    fake_llm.script("survey_themes", [wrong_id, fixed])
    code(client, survey, question, django_capture_on_commit_callbacks)
    assert question.themes["status"] == "coded" and question.themes["themes"][0]["count"] == 1
    assert "999999" in fake_llm.scripted_calls("survey_themes")[1][-1].content


def test_large_answer_sets_are_coded_in_bounded_batches_merged_by_stable_theme_ids(
    fake_llm, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(themes, "BATCH_SIZE", 2)
    monkeypatch.setattr(themes, "MAX_ANSWERS", 5)
    client, survey, question, answers = answered_survey(TEXTS + ["Cena w porządku.", "Nie koduję się."])

    def respond(messages):
        ids = batch_ids(messages)
        return {"themes": [{"label": "Cena" if len(ids) > 1 else "CENA ", "description": "", "answer_ids": ids}]}

    fake_llm.script("survey_themes", [respond] * 3)
    code(client, survey, question, django_capture_on_commit_callbacks)
    calls = fake_llm.scripted_calls("survey_themes")
    assert [len(batch_ids(c)) for c in calls] == [2, 2, 1]
    assert "- Cena" in calls[1][-1].content
    (theme,) = question.themes["themes"]
    assert theme["count"] == 5 and theme["percent"] == 100.0 and theme["id"] == themes.theme_id("cena")
    # Ograniczenie liczby kodowanych odpowiedzi jest jawne: 5 z 6.
    assert question.themes["coded_answers"] == 5 and question.themes["answers_total"] == 6
    page = Client()
    page.force_login(survey.project.owner)
    html = visible_text(page.get(f"/surveys/{survey.id}/results/").content.decode())
    assert "Zakodowano tylko pierwsze odpowiedzi spośród 6." in html
    # Ponowne kodowanie na żądanie pyta model od nowa (z pominięciem cache).
    fake_llm.script("survey_themes", [lambda m: {"themes": [{"label": "Koszt", "answer_ids": batch_ids(m)}]}] * 3)
    code(client, survey, question, django_capture_on_commit_callbacks)
    assert [t["label"] for t in question.themes["themes"]] == ["Koszt"]


def test_themes_are_coded_after_fielding_and_shown_on_the_results_page(fake_llm, django_capture_on_commit_callbacks):
    user, token = create_token()
    project = create_project(owner=user)
    for _ in range(2):
        create_persona(project=project)
    client = api_client(token)
    resp = client.post(
        f"/api/v1/projects/{project.id}/surveys",
        data=json.dumps({"name": "Kawa", "questions": QUESTIONS}),
        content_type="application/json",
    )
    survey = Survey.objects.get(pk=resp.json()["id"])

    def answer(messages):
        return (
            {"choice": "o1"}
            if "Pytanie: Kupisz?" in messages[-1].content
            else {"text": "Za droga <b>kawa</b> dla mnie."}
        )

    def theme(messages):
        ids = batch_ids(messages)
        quote = {"answer_id": ids[0], "text": "Za droga <b>kawa</b>"}
        return {"themes": [{"label": "Cena <i>", "description": "Drogo.", "answer_ids": ids, "quotes": [quote]}]}

    fake_llm.script("survey_answer", [answer] * 4)
    fake_llm.script("survey_themes", [theme])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/api/v1/surveys/{survey.id}/run")
    # Zadanie tematów startuje worker po badaniu (kolejka po zatwierdzeniu transakcji, w teście — przy wyjściu).
    with django_capture_on_commit_callbacks(execute=True):
        run_worker()
    run_worker()
    question = survey.questions.get(type="open_text")
    assert question.themes["status"] == "coded" and question.themes["themes"][0]["count"] == 2
    page = Client()
    page.force_login(user)
    html = page.get(f"/surveys/{survey.id}/results/").content.decode()
    assert "Cena &lt;i&gt;" in html and "<b>kawa" not in html and "Za droga &lt;b&gt;kawa&lt;/b&gt;" in html
    text = visible_text(html)
    assert "Tematy" in text and "100,0%" in text and "Zakoduj tematy ponownie" in text


def test_the_offline_provider_codes_honest_themes_with_real_quotes(settings, django_capture_on_commit_callbacks):
    settings.SIGHT_LLM_PROVIDER = "offline"
    client, survey, question, answers = answered_survey()
    code(client, survey, question, django_capture_on_commit_callbacks)
    coded = question.themes
    assert coded["status"] == "coded" and coded["dropped_quotes"] == 0
    labels = {t["label"]: t for t in coded["themes"]}
    assert labels["Cena"]["count"] == 2 and labels["Smak"]["count"] == 2 and labels["Kawa"]["count"] == 2
    texts = {a.id: " ".join(a.text.split()) for a in answers}
    assert all(q["text"] in texts[q["answer_id"]] for t in coded["themes"] for q in t["quotes"])
    first = coded["themes"]
    code(client, survey, question, django_capture_on_commit_callbacks)
    assert question.themes["themes"] == first


def test_themes_are_only_for_answered_open_text_questions_and_another_users_survey_is_a_404(
    fake_llm, django_capture_on_commit_callbacks
):
    client, survey, question, answers = answered_survey()
    choice = survey.questions.get(type="single_choice")
    resp = client.post(f"/api/v1/surveys/{survey.id}/questions/{choice.id}/themes")
    assert resp.status_code == 409
    _user, token = create_token()
    stranger = api_client(token)
    assert stranger.post(f"/api/v1/surveys/{survey.id}/questions/{question.id}/themes").status_code == 404
    other = Client()
    other.force_login(_user)
    assert other.post(f"/surveys/{survey.id}/questions/{question.id}/themes/").status_code == 404
    assert not Job.objects.filter(kind="surveys.themes").exists()
    assert Question.objects.get(pk=question.pk).themes == {}
