"""Komunikaty zadań w języku widza (strona, API, websocket) i użycie modelu na stronie zadania."""

from datetime import timedelta
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext_noop

from sight import jobs, llm
from sight.asgi import application
from sight.models import Job, LLMCall
from tests.factories import create_token, create_user, visible_text

GENERATED = gettext_noop("%(done)d of %(total)d personas generated")
SHOWN = {"pl": "Wygenerowano 20 z 20 person", "en": "20 of 20 personas generated"}


def _generated_job(user) -> Job:
    job = Job.objects.create(kind="llm.smoke", user=user, progress_total=20)
    jobs.report_progress(job, done=20, total=20, message=GENERATED, params={"done": 20, "total": 20})
    return job


def _client(user, language: str) -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["pl", "en"])
def test_the_job_page_and_the_api_show_the_progress_message_in_the_viewers_language(user, language):
    job = _generated_job(user)
    page = visible_text(_client(user, language).get(f"/jobs/{job.id}/").content.decode())
    assert SHOWN[language] in page
    body = _client(user, language).get(f"/api/v1/jobs/{job.id}").json()
    assert body["message"] == SHOWN[language]
    assert (body["message_id"], body["message_params"]) == (GENERATED, {"done": 20, "total": 20})


@pytest.mark.django_db
def test_a_plain_text_message_such_as_a_persona_name_is_shown_as_it_is(user):
    job = Job.objects.create(kind="llm.smoke", user=user, progress_total=2)
    jobs.report_progress(job, done=1, message="Anna 100% Kowalska")
    assert Job.objects.get(pk=job.pk).as_dict()["message"] == "Anna 100% Kowalska"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["pl", "en"])
def test_live_progress_follows_the_language_of_each_viewer_not_of_the_worker(language):
    user = create_user()
    job = Job.objects.create(kind="llm.smoke", user=user, progress_total=20)
    browser = Client()
    browser.force_login(user)
    headers = [
        (b"cookie", f"sessionid={browser.cookies['sessionid'].value}".encode()),
        (b"origin", b"http://testserver"),
        (b"accept-language", language.encode()),
    ]
    _user, token = create_token(user=user)

    async def scenario():
        page = WebsocketCommunicator(application, f"/ws/jobs/{job.id}/", headers=headers)
        api = WebsocketCommunicator(
            application,
            f"/ws/jobs/{job.id}/",
            headers=[(b"authorization", f"Bearer {token}".encode()), (b"accept-language", language.encode())],
        )
        assert (await page.connect())[0] and (await api.connect())[0]
        await page.receive_from(), await api.receive_json_from()
        # Worker publikuje stan w swoim języku (tu: przeciwnym do języka widza).
        other = "en" if language == "pl" else "pl"

        def report() -> None:
            from django.utils import translation

            with translation.override(other):
                jobs.report_progress(job, done=20, total=20, message=GENERATED, params={"done": 20, "total": 20})

        await database_sync_to_async(report)()
        assert SHOWN[language] in await page.receive_from()
        assert (await api.receive_json_from())["job"]["message"] == SHOWN[language]
        await page.disconnect(), await api.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("pl", ["Wywołania 3", "Tokeny 1550", "Koszt (USD) 0,0125", "Czas trwania 75,0 s (4,5 s"]),
        ("en", ["Calls 3", "Tokens 1550", "Cost (USD) 0.0125", "Duration 75.0 s (4.5 s"]),
    ],
)
def test_the_job_page_shows_calls_tokens_cost_and_duration(user, language, texts):
    start = timezone.now() - timedelta(minutes=5)
    job = Job.objects.create(
        kind="llm.smoke", user=user, status="succeeded", started_at=start, finished_at=start + timedelta(seconds=75)
    )
    for tokens_in, cost in ((1000, "0.01"), (400, "0.002"), (0, "0.0005")):
        LLMCall.objects.create(
            job=job,
            role="smoke",
            provider="fake",
            model="m",
            input_tokens=tokens_in,
            output_tokens=50,
            cost_usd=cost,
            latency_ms=1500,
        )
    LLMCall.objects.create(role="smoke", provider="fake", model="m", input_tokens=999, cost_usd=Decimal(1))
    page = visible_text(_client(user, language).get(f"/jobs/{job.id}/").content.decode())
    for text in texts:
        assert text in page


@pytest.mark.django_db
def test_job_usage_is_one_query(user):
    job = Job.objects.create(kind="llm.smoke", user=user)
    for _ in range(5):
        LLMCall.objects.create(job=job, role="smoke", provider="fake", model="m", input_tokens=10, output_tokens=1)
    with CaptureQueriesContext(connection) as queries:
        usage = llm.job_usage(job)
    assert len(queries) == 1
    assert (usage["calls"], usage["tokens"]) == (5, 55)
