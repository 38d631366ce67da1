"""Badanie ankiety z atrapą LLM: wybory ograniczone do opcji, nieudana odpowiedź zapisana z powodem (nie domyślna),
SSR dla skal, reguły pomijania, wznowienie bez duplikatów, wyniki i tabela krzyżowa w stałej liczbie zapytań.
"""

import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from langchain_core.messages import BaseMessage

from sight.models import Job
from surveys import fielding
from surveys.models import Answer, Question, Survey
from tests.factories import api_client, create_persona, create_project, create_token, run_worker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fake_llm")]

QUESTIONS = [
    {"type": "single_choice", "text": "Który bank?", "options": [{"id": "pko", "label": "PKO"}, {"label": "mBank"}]},
    {"type": "rating", "text": "Kupisz?", "points": 5, "construct": "purchase_intent"},
    {"type": "nps", "text": "Polecisz?"},
    {"type": "open_text", "text": "Dlaczego {Q1}?", "show_if": {"question": 1, "values": ["pko"]}},
]


def setup_survey(n=4, questions=QUESTIONS, **extra):
    user, token = create_token()
    project = create_project(owner=user)
    people = [create_persona(project=project) for _ in range(n)]
    client = api_client(token)
    resp = client.post(
        f"/api/v1/projects/{project.id}/surveys",
        data=json.dumps({"name": "Bank", "questions": questions, **extra}),
        content_type="application/json",
    )
    assert resp.status_code == 201, resp.content
    return client, people, Survey.objects.get(pk=resp.json()["id"])


def question_of(messages: list[BaseMessage]) -> str:
    text = messages[-1].content if isinstance(messages[-1].content, str) else str(messages[-1].content)
    return text.split("Pytanie: ", 1)[1].split("\n", 1)[0]


def by_question(answers):
    """Odpowiedź atrapy zależna od pytania w prompcie (persony odpowiadają równolegle, kolejność wywołań dowolna)."""

    def respond(messages):
        question = question_of(messages)
        return next(value for prefix, value in answers.items() if question.startswith(prefix))

    return respond


GOOD = {
    "Który bank?": {"choice": "pko"},
    "Kupisz?": {"reaction": "Brzmi dobrze, ale cena…", "intent": "Raczej to kupię."},
    "Polecisz?": {"score": 9},
    "Dlaczego": {"text": "Bo mam tam konto od lat."},
}


def field(client, survey, capture):
    with capture(execute=True):
        resp = client.post(f"/api/v1/surveys/{survey.id}/run")
    assert resp.status_code == 202, resp.content
    run_worker()
    return Job.objects.get(pk=resp.json()["job_id"])


def test_a_panel_answers_in_order_with_choices_constrained_ssr_ratings_and_piping(
    fake_llm, django_capture_on_commit_callbacks
):
    client, people, survey = setup_survey()
    fake_llm.script("survey_answer", [by_question(GOOD)] * 16)
    job = field(client, survey, django_capture_on_commit_callbacks)
    survey.refresh_from_db()
    assert job.status == "succeeded" and survey.status == Survey.Status.COMPLETED
    assert Answer.objects.filter(survey=survey).count() == 16 and not Answer.objects.filter(failed=True).exists()
    rating = Answer.objects.filter(question__type="rating").first()
    assert rating.method == "ssr" and len(rating.pmf) == 5 and abs(sum(rating.pmf) - 1) < 1e-6
    assert 1 <= rating.draw <= 5 and rating.value == rating.draw and rating.intent == "Raczej to kupię."
    assert rating.embedding_model.startswith("wordllama") and rating.anchors_version
    assert survey.validity["ladder"][0]["construct"] == "purchase_intent"
    calls = fake_llm.scripted_calls("survey_answer")
    schema_prompt = calls[0][-1].content
    assert "pko: PKO" in schema_prompt and "o2: mBank" in schema_prompt
    piped = [c[-1].content for c in calls if "Pytanie: Dlaczego" in c[-1].content]
    assert piped and all("Dlaczego PKO?" in p for p in piped)
    assert all("Q1: Który bank? → PKO" in p for p in piped)


def test_an_answer_outside_the_options_is_recorded_as_failed_never_defaulted(
    fake_llm, django_capture_on_commit_callbacks
):
    client, people, survey = setup_survey(n=1, questions=QUESTIONS[:1])
    fake_llm.script("survey_answer", [{"choice": "ing"}, {"choice": "Santander"}])
    field(client, survey, django_capture_on_commit_callbacks)
    answer = Answer.objects.get(survey=survey)
    assert answer.failed and answer.value is None and "choice" in answer.reason
    results = client.get(f"/api/v1/surveys/{survey.id}/results").json()
    assert results["questions"][0]["failed"] == 1 and results["questions"][0]["stats"]["base"] == 0


def test_the_offline_provider_answers_every_question_type_validly(settings, django_capture_on_commit_callbacks):
    settings.SIGHT_LLM_PROVIDER = "offline"
    questions = [
        *QUESTIONS[:3],
        {"type": "multiple_choice", "text": "Co?", "options": [{"label": "A"}, {"label": "B"}, {"label": "C"}]},
        {"type": "ranking", "text": "Ranking?", "options": [{"label": "A"}, {"label": "B"}, {"label": "C"}]},
        {"type": "numeric", "text": "Cena?", "min": 1, "max": 50, "unit": "zł"},
        {"type": "rating", "text": "Zgoda?", "points": 7, "method": "direct"},
    ]
    client, people, survey = setup_survey(n=2, questions=questions)
    field(client, survey, django_capture_on_commit_callbacks)
    answers = list(Answer.objects.filter(survey=survey).select_related("question"))
    assert answers and not [a.reason for a in answers if a.failed]
    for a in answers:
        q = a.question
        if q.type == Question.Type.RANKING:
            assert sorted(a.value) == sorted(o["id"] for o in q.options)
        if q.type == Question.Type.NUMERIC:
            assert 1 <= a.value <= 50


def test_a_resumed_run_answers_only_what_is_missing(fake_llm, django_capture_on_commit_callbacks):
    client, people, survey = setup_survey(n=3, questions=QUESTIONS[:3])
    fake_llm.script("survey_answer", [by_question(GOOD)] * 4 + [RuntimeError("provider down")] * 20)
    job = field(client, survey, django_capture_on_commit_callbacks)
    survey.refresh_from_db()
    assert job.status == "failed" and survey.status == Survey.Status.FAILED
    before = set(Answer.objects.filter(survey=survey).values_list("pk", "persona_id", "question_id"))
    assert 0 < len(before) < 9
    fake_llm.reset_scripts()
    fake_llm.script("survey_answer", [by_question(GOOD)] * 20)
    job = field(client, survey, django_capture_on_commit_callbacks)
    assert job.status == "succeeded"
    after = set(Answer.objects.filter(survey=survey).values_list("pk", "persona_id", "question_id"))
    assert len(after) == 9 and before <= after
    # Odpowiedź wygenerowana, ale niezapisana przed przerwaniem, wraca z cache LLM — stąd „najwyżej”.
    assert len(fake_llm.scripted_calls("survey_answer")) <= 9 - len(before)
    assert Survey.objects.get(pk=survey.pk).status == Survey.Status.COMPLETED
    assert client.post(f"/api/v1/surveys/{survey.id}/run").status_code == 409


def test_respondents_can_be_n_personas_matching_filters(fake_llm, django_capture_on_commit_callbacks):
    spec = {"respondents": {"count": 2, "filters": {"gender": "female"}}}
    client, people, survey = setup_survey(n=6, questions=QUESTIONS[:1], **spec)
    fake_llm.script("survey_answer", [{"choice": "pko"}] * 2)
    field(client, survey, django_capture_on_commit_callbacks)
    genders = set(Answer.objects.filter(survey=survey).values_list("persona__gender", flat=True))
    assert Answer.objects.filter(survey=survey).count() == 2 and genders == {"female"}
    too_many = setup_survey(n=2, questions=QUESTIONS[:1], respondents={"count": 5})
    resp = too_many[0].post(f"/api/v1/surveys/{too_many[2].id}/run")
    assert resp.status_code == 422 and resp.json()["detail"][0]["loc"] == ["body", "respondents"]


def test_results_and_crosstab_numbers_with_a_constant_query_count(fake_llm, django_capture_on_commit_callbacks):
    client, people, survey = setup_survey(n=6, questions=QUESTIONS[:3])
    choices = iter(["pko", "pko", "o2", "pko", "o2", "o2"] * 3)
    answers = {**GOOD, "Który bank?": None}

    def respond(messages):
        question = question_of(messages)
        return {"choice": next(choices)} if question.startswith("Który") else by_question(answers)(messages)

    fake_llm.script("survey_answer", [respond] * 18)
    field(client, survey, django_capture_on_commit_callbacks)
    results = client.get(f"/api/v1/surveys/{survey.id}/results").json()
    bank, rating, nps = results["questions"]
    assert bank["stats"]["base"] == 6 and [o["count"] for o in bank["stats"]["options"]] == [3, 3]
    assert [o["label"] for o in bank["stats"]["options"]] == ["PKO", "mBank"]
    assert rating["stats"]["base"] == 6 and rating["stats"]["method"] == "ssr"
    assert abs(sum(c["percent"] for c in rating["stats"]["counts"]) - 100) < 1e-6
    assert nps["stats"]["nps"] == 100
    qid = bank["id"]
    table = client.get(f"/api/v1/surveys/{survey.id}/crosstab?question={qid}&by=gender").json()
    assert [c["key"] for c in table["columns"]] == ["female", "male"] and sum(c["base"] for c in table["columns"]) == 6
    assert "synthetic_n_chosen_by_researcher" in table["warnings"]
    assert client.get(f"/api/v1/surveys/{survey.id}/crosstab?question={qid}&by=shoe").status_code == 422
    from surveys import results as survey_results

    with CaptureQueriesContext(connection) as small:
        survey_results.survey_results(survey)
        survey_results.survey_crosstab(survey, Question.objects.get(pk=rating["id"]), "age_group")
    more = [create_persona(project=survey.project) for _ in range(5)]
    for persona in more:
        for q in survey.questions.all():
            value = {"single_choice": "pko", "rating": 3, "nps": 5}[q.type]
            pmf = [0, 0, 1, 0, 0] if q.type == "rating" else None
            Answer.objects.create(survey=survey, question=q, persona=persona, value=value, pmf=pmf, method=q.method)
    with CaptureQueriesContext(connection) as large:
        survey_results.survey_results(survey)
        survey_results.survey_crosstab(survey, Question.objects.get(pk=rating["id"]), "age_group")
    assert len(large) == len(small) <= 4
    assert fielding.estimate_cost(survey)["respondents"] == 6


def test_the_csv_export_has_a_labelled_row_per_respondent_and_is_formula_safe(
    fake_llm, django_capture_on_commit_callbacks
):
    client, people, survey = setup_survey(n=2, questions=QUESTIONS)
    answers = {**GOOD, "Dlaczego": {"text": "=HYPERLINK(evil) bo tak"}}
    fake_llm.script("survey_answer", [by_question(answers)] * 8)
    field(client, survey, django_capture_on_commit_callbacks)
    resp = client.get(f"/api/v1/surveys/{survey.id}/export?format=csv")
    rows = list(csv.reader(io.StringIO(resp.content.decode())))
    assert rows[0][8:] == ["Q1 Który bank?", "Q2 Kupisz?", "Q2 expected value", "Q3 Polecisz?", "Q4 Dlaczego {Q1}?"]
    assert len(rows) == 3 and rows[1][8] == "PKO" and rows[1][11] == "9" and rows[1][12].startswith("'=HYPERLINK")
    assert 1 <= float(rows[1][10]) <= 5
    data = client.get(f"/api/v1/surveys/{survey.id}/export?format=json").json()
    assert len(data["respondents"]) == 2 and data["respondents"][0]["Q1 Który bank?"] == "PKO"


def test_a_skip_rule_hides_a_question_from_respondents_whose_answer_does_not_match(
    fake_llm, django_capture_on_commit_callbacks
):
    client, people, survey = setup_survey(n=4, questions=[QUESTIONS[0], QUESTIONS[3]])
    picks = iter(["pko", "o2", "pko", "o2"])

    def respond(messages):
        return {"choice": next(picks)} if question_of(messages).startswith("Który") else GOOD["Dlaczego"]

    fake_llm.script("survey_answer", [respond] * 8)
    job = field(client, survey, django_capture_on_commit_callbacks)
    why = Answer.objects.filter(survey=survey, question__order=1)
    pko = set(Answer.objects.filter(survey=survey, question__order=0, value="pko").values_list("persona_id", flat=True))
    assert job.status == "succeeded" and job.progress_done == job.progress_total == 8
    assert set(why.values_list("persona_id", flat=True)) == pko and len(pko) == 2


def test_a_copy_fielded_with_the_same_seed_is_served_from_the_cache(fake_llm, django_capture_on_commit_callbacks):
    client, people, survey = setup_survey(n=2, questions=QUESTIONS[:3])
    fake_llm.script("survey_answer", [by_question(GOOD)] * 6)
    field(client, survey, django_capture_on_commit_callbacks)
    copy = Survey.objects.get(pk=client.post(f"/api/v1/surveys/{survey.id}/copy").json()["id"])
    fake_llm.reset_scripts()
    job = field(client, copy, django_capture_on_commit_callbacks)
    assert job.status == "succeeded" and fake_llm.scripted_calls("survey_answer") == []
    assert Answer.objects.filter(survey=copy).count() == 6
    assert sorted(Answer.objects.filter(survey=copy).values_list("value", flat=True), key=str) == sorted(
        Answer.objects.filter(survey=survey).values_list("value", flat=True), key=str
    )
