"""Warstwa LLM: schematy, ponowne pytania, ponowienia, timeout, cache, użycie, budżet, offline, współbieżność, zadanie
próbne.
"""

from __future__ import annotations

import asyncio
import math
import time
from decimal import Decimal
from typing import Any, Literal

import httpx
import openai
import pytest
from asgiref.sync import async_to_sync
from google.genai.errors import ClientError
from langchain_core.messages import AIMessage
from pydantic import BaseModel, Field

import config
from sight import jobs, llm, tasks
from sight.llm import retry
from sight.models import Job, LLMCall
from tests.factories import create_project
from tests.gemini_stub import StubServer, openai_tool_call

pytestmark = pytest.mark.django_db


class Echo(BaseModel):
    sentence: str = Field(min_length=3, max_length=80)


class Persona(BaseModel):
    full_name: str = Field(max_length=80)
    age: int = Field(ge=18, le=90)
    gender: Literal["female", "male"]
    occupation: str
    interests: list[str] = Field(min_length=2, max_length=3)
    values: list[str] = Field(min_length=1, max_length=2)
    story: str = Field(min_length=150, max_length=400)
    headline: str = Field(max_length=30)
    sentiment: float = Field(ge=-1, le=1)


@pytest.fixture(autouse=True)
def fake_provider(settings):
    settings.SIGHT_LLM_PROVIDER = "fake"
    settings.SIGHT_OFFLINE_LATENCY_MS = 0
    llm.reset_scripts()
    yield
    llm.reset_scripts()


@pytest.fixture(autouse=True)
def waits(monkeypatch) -> list[float]:
    """Czas czekania między próbami jest zapisywany, nie przesypiany."""
    recorded: list[float] = []

    async def no_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(retry, "backoff_sleep", no_sleep)
    return recorded


def tune(monkeypatch, role: str = "smoke", *, prices: dict[str, config.Price] | None = None, **changes: Any) -> None:
    """Zmienia ustawienia roli (i cennik) tylko na czas testu."""
    cfg = config.load_models()
    update: dict[str, Any] = {"roles": {**cfg.roles, role: cfg.roles[role].model_copy(update=changes)}}
    if prices:
        update["prices"] = {**cfg.prices, **prices}
    patched = cfg.model_copy(update=update)
    monkeypatch.setattr(config, "load_models", lambda: patched)


def rate_limited_by_gemini(delay: str) -> ClientError:
    return ClientError(
        429,
        {
            "error": {
                "code": 429,
                "message": "Quota exceeded",
                "status": "RESOURCE_EXHAUSTED",
                "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}],
            }
        },
    )


def rate_limited_with_header(seconds: str) -> openai.RateLimitError:
    response = httpx.Response(
        429, headers={"retry-after": seconds}, request=httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    )
    return openai.RateLimitError("rate limited", response=response, body=None)


def only_call() -> LLMCall:
    calls = list(LLMCall.objects.all())
    assert len(calls) == 1
    return calls[0]


# --- fake provider and structured output ----------------------------------------------------------------------------


def test_fake_provider_answer_becomes_a_validated_schema_instance_and_a_usage_row():
    project = create_project()
    llm.script("smoke", [{"sentence": "Hello from the fake"}])

    answer = llm.generate("smoke", ("You echo.", "Say hello."), schema=Echo, project=project)

    assert answer == Echo(sentence="Hello from the fake")
    sent = llm.scripted_calls("smoke")[0]
    assert [m.type for m in sent] == ["system", "human"] and sent[1].text == "Say hello."
    row = only_call()
    assert (row.project, row.role, row.provider, row.ok, row.cache_hit, row.attempts) == (
        project,
        "smoke",
        "fake",
        True,
        False,
        1,
    )
    assert row.input_tokens > 0 and row.output_tokens > 0


def test_plain_text_call_returns_the_answer_text():
    llm.script("*", ["Just text."])
    assert llm.generate("moderator", "Open the discussion.") == "Just text."


def test_invalid_answer_is_reasked_with_the_validation_problem_and_then_accepted():
    llm.script("smoke", [{"sentence": "x"}, {"sentence": "A proper sentence"}])

    answer = llm.generate("smoke", "Say something.", schema=Echo)

    assert answer.sentence == "A proper sentence"
    reask = llm.scripted_calls("smoke")[1]
    assert reask[-1].type == "human" and "sentence" in reask[-1].text and "at least 3 characters" in reask[-1].text
    assert reask[0].text == "Say something."
    row = only_call()
    assert row.ok and row.attempts == 2


def test_answer_still_invalid_after_all_reasks_raises_output_error_and_records_a_failed_call(monkeypatch):
    tune(monkeypatch, reasks=1)
    llm.script("smoke", ["I refuse to use the tool", {"wrong_field": 1}])

    with pytest.raises(llm.LLMOutputError) as failure:
        llm.generate("smoke", "Say something.", schema=Echo)

    assert len(failure.value.problems) == 2 and "sentence" in failure.value.problems[-1]
    row = only_call()
    assert not row.ok and "LLMOutputError" in row.error and row.attempts == 2 and row.input_tokens > 0


def test_empty_text_answer_is_not_accepted_as_an_answer(monkeypatch):
    tune(monkeypatch, reasks=0)
    llm.script("smoke", ["   "])
    with pytest.raises(llm.LLMOutputError, match="empty"):
        llm.generate("smoke", "Say something.")


def test_exhausted_script_raises_a_clear_error():
    llm.script("smoke", [{"sentence": "only one"}])
    llm.generate("smoke", "First.", schema=Echo)
    with pytest.raises(llm.ScriptExhausted, match="'smoke' is exhausted after 1 response"):
        llm.generate("smoke", "Second.", schema=Echo)


def test_prompt_from_config_is_rendered_in_the_requested_language(monkeypatch):
    prompts = {
        lang: {"greet": config.Prompt(id="greet", version=1, variables=["name"], system=system, user=user)}
        for lang, system, user in (
            ("en", "You greet people.", "Greet $name."),
            ("pl", "Witasz ludzi.", "Przywitaj $name."),
        )
    }
    monkeypatch.setattr(config, "load_prompts", lambda: config.Prompts(prompts))
    llm.script("smoke", ["Cześć, Ala!"])

    llm.generate("smoke", prompt="greet", language="pl", variables={"name": "Ala"})

    assert [m.text for m in llm.scripted_calls("smoke")[0]] == ["Witasz ludzi.", "Przywitaj Ala."]


# --- retries and timeouts -------------------------------------------------------------------------------------------


def test_transient_errors_are_retried_with_growing_backoff_until_the_hard_stop(monkeypatch, waits):
    tune(monkeypatch, max_attempts=3)
    llm.script("smoke", [ConnectionError("reset by peer")] * 3 + [{"sentence": "never reached"}])

    with pytest.raises(llm.LLMCallError, match="after 3 attempt"):
        llm.generate("smoke", "Hi.", schema=Echo)

    assert len(llm.scripted_calls("smoke")) == 3
    assert len(waits) == 2 and 1 <= waits[0] <= 2 and 2 <= waits[1] <= 3
    row = only_call()
    assert not row.ok and row.attempts == 3 and "reset by peer" in row.error


def test_a_transient_error_followed_by_an_answer_succeeds():
    llm.script("smoke", [httpx.ConnectError("refused"), {"sentence": "Back again"}])
    assert llm.generate("smoke", "Hi.", schema=Echo).sentence == "Back again"
    assert only_call().attempts == 2


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (rate_limited_by_gemini("7s"), 7.0),
        (rate_limited_with_header("3"), 3.0),
        (rate_limited_by_gemini("3600s"), llm.MAX_RETRY_HINT_SECONDS),
    ],
    ids=["gemini-retry-info", "retry-after-header", "hint-capped"],
)
def test_rate_limit_retry_hint_decides_the_wait(error, expected, waits):
    llm.script("smoke", [error, {"sentence": "After the wait"}])

    assert llm.generate("smoke", "Hi.", schema=Echo).sentence == "After the wait"

    assert len(waits) == 1 and expected <= waits[0] <= expected * 1.1


def test_a_rejected_request_is_not_retried():
    llm.script(
        "smoke",
        [
            ClientError(400, {"error": {"code": 400, "message": "bad request", "status": "INVALID_ARGUMENT"}}),
            {"sentence": "never"},
        ],
    )
    with pytest.raises(llm.LLMCallError, match="after 1 attempt"):
        llm.generate("smoke", "Hi.", schema=Echo)
    assert len(llm.scripted_calls("smoke")) == 1


def test_a_call_slower_than_the_role_timeout_is_abandoned_and_retried(monkeypatch, waits):
    tune(monkeypatch, timeout=0.05, max_attempts=2)

    async def stuck(messages):
        await asyncio.sleep(5)
        return {"sentence": "too late"}

    llm.script("smoke", [stuck, stuck])
    started = time.monotonic()

    with pytest.raises(llm.LLMCallError, match="timed out"):
        llm.generate("smoke", "Hi.", schema=Echo)

    assert time.monotonic() - started < 1.5
    assert len(waits) == 1
    assert only_call().attempts == 2


# --- cache ----------------------------------------------------------------------------------------------------------


def test_identical_request_is_served_from_cache_without_a_provider_call():
    project = create_project()
    llm.script(
        "smoke",
        [
            AIMessage(
                "",
                tool_calls=[{"name": "Echo", "args": {"sentence": "Cached answer"}, "id": "c1", "type": "tool_call"}],
                usage_metadata={"input_tokens": 100, "output_tokens": 50, "total_tokens": 150},
            )
        ],
    )

    first = llm.generate("smoke", "Same question.", schema=Echo, project=project)
    second = llm.generate("smoke", "Same question.", schema=Echo, project=project)

    assert first == second == Echo(sentence="Cached answer")
    assert len(llm.scripted_calls()) == 1
    hit = LLMCall.objects.get(cache_hit=True)
    assert (hit.input_tokens, hit.output_tokens, hit.cost_usd, hit.attempts, hit.ok) == (0, 0, Decimal(0), 0, True)
    assert project.tokens_used() == 150


def test_cache_can_be_skipped_per_call_and_switched_off_in_features(monkeypatch):
    llm.script("smoke", [{"sentence": "First one"}, {"sentence": "Second one"}, {"sentence": "Third one"}])
    llm.generate("smoke", "Q.", schema=Echo)
    assert llm.generate("smoke", "Q.", schema=Echo, cache=False).sentence == "Second one"

    monkeypatch.setattr(config, "load_features", lambda: config.FeaturesConfig(llm_cache=False))
    assert llm.generate("smoke", "Q.", schema=Echo).sentence == "Third one"
    assert not LLMCall.objects.filter(cache_hit=True).exists()


def test_failed_call_is_not_cached(monkeypatch):
    tune(monkeypatch, reasks=0)
    llm.script("smoke", ["garbage", {"sentence": "Good answer"}])
    with pytest.raises(llm.LLMOutputError):
        llm.generate("smoke", "Q.", schema=Echo)
    assert llm.generate("smoke", "Q.", schema=Echo).sentence == "Good answer"


def test_different_schema_is_a_different_cache_entry():
    llm.script("smoke", ["Plain words", {"sentence": "Structured words"}])
    assert llm.generate("smoke", "Q.") == "Plain words"
    assert llm.generate("smoke", "Q.", schema=Echo).sentence == "Structured words"


# --- usage, cost and budget -----------------------------------------------------------------------------------------


def test_usage_row_takes_tokens_from_usage_metadata_and_prices_them(monkeypatch):
    tune(
        monkeypatch,
        model="priced-model",
        prices={"priced-model": config.Price(input_per_million=1, output_per_million=10)},
    )
    project = create_project()
    job = Job.objects.create(kind="llm.smoke", project=project)
    llm.script(
        "smoke",
        [
            AIMessage(
                "",
                tool_calls=[{"name": "Echo", "args": {"sentence": "Counted"}, "id": "c1", "type": "tool_call"}],
                usage_metadata={"input_tokens": 1000, "output_tokens": 2000, "total_tokens": 3000},
            )
        ],
    )

    llm.generate("smoke", "Q.", schema=Echo, job=job)

    row = only_call()
    assert (row.project, row.job, row.model, row.input_tokens, row.output_tokens) == (
        project,
        job,
        "priced-model",
        1000,
        2000,
    )
    assert row.cost_usd == Decimal("0.021000")


def test_project_without_budget_left_is_refused_before_any_provider_call():
    project = create_project(token_budget=100)
    llm.script("smoke", [{"sentence": "should not be asked"}])

    with pytest.raises(llm.BudgetExceeded):
        llm.generate("smoke", "Q.", schema=Echo, project=project)

    assert llm.scripted_calls() == [] and not LLMCall.objects.exists()


def test_budget_is_checked_again_after_each_call():
    project = create_project(token_budget=2000)
    spend = AIMessage(
        "",
        tool_calls=[{"name": "Echo", "args": {"sentence": "Expensive"}, "id": "c1", "type": "tool_call"}],
        usage_metadata={"input_tokens": 700, "output_tokens": 1100, "total_tokens": 1800},
    )
    llm.script("smoke", [spend, {"sentence": "never asked"}])

    llm.generate("smoke", "First.", schema=Echo, project=project)
    with pytest.raises(llm.BudgetExceeded, match="200 token"):
        llm.generate("smoke", "Second.", schema=Echo, project=project)

    assert len(llm.scripted_calls()) == 1


def test_concurrent_calls_cannot_jointly_overspend_the_budget(monkeypatch):
    tune(monkeypatch, concurrency=8, max_tokens=300)
    project = create_project(token_budget=1000)

    async def slow(messages):
        await asyncio.sleep(0.3)
        return {"sentence": "Spent some"}

    llm.script("smoke", [slow] * 8)

    async def fan_out() -> list[Any]:
        return await asyncio.gather(
            *(llm.agenerate("smoke", f"Q{i}.", schema=Echo, project=project) for i in range(8)), return_exceptions=True
        )

    results = async_to_sync(fan_out)()

    admitted = [r for r in results if isinstance(r, Echo)]
    assert len(admitted) == 3 and all(isinstance(r, llm.BudgetExceeded) for r in results if not isinstance(r, Echo))


# --- concurrency ----------------------------------------------------------------------------------------------------


def test_never_more_than_the_role_concurrency_calls_are_in_flight(monkeypatch):
    tune(monkeypatch, concurrency=3)
    in_flight = peak = 0

    async def tracked(messages):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.02)
        in_flight -= 1
        return {"sentence": "Done here"}

    llm.script("smoke", [tracked] * 12)

    async def fan_out() -> list[Echo]:
        return await asyncio.gather(*(llm.agenerate("smoke", f"Question {i}.", schema=Echo) for i in range(12)))

    assert len(async_to_sync(fan_out)()) == 12
    assert peak == 3
    assert LLMCall.objects.count() == 12


# --- offline provider -----------------------------------------------------------------------------------------------


def test_offline_provider_is_deterministic_and_fills_a_valid_persona(settings):
    settings.SIGHT_LLM_PROVIDER = "offline"
    ask = ("You write personas.", "Create a persona: a nurse from Ohio who loves hiking.")

    first = llm.generate("persona_generation", ask, schema=Persona, cache=False)
    again = llm.generate("persona_generation", ask, schema=Persona, cache=False)
    other = llm.generate(
        "persona_generation", (ask[0], "Create a persona: a retired farmer."), schema=Persona, cache=False
    )

    assert first == again and first != other
    assert (
        len(first.full_name.split()) == 2
        and 150 <= len(first.story) <= 400
        and len(set(first.interests)) == len(first.interests)
    )
    row = LLMCall.objects.filter(provider="offline").first()
    assert row.model == "offline" and row.cost_usd == 0 and row.output_tokens > 0


def test_offline_persona_is_written_from_the_configured_vocabularies(settings, monkeypatch):
    settings.SIGHT_LLM_PROVIDER = "offline"
    preset = config.DemographicPreset.model_validate(
        {
            "id": "tiny",
            "label": {"pl": "Mały", "en": "Tiny"},
            "country": "PL",
            "language": "pl",
            "categories": {
                "gender": {"label": {"pl": "Płeć", "en": "Gender"}, "buckets": {"female": 0.5, "male": 0.5}}
            },
            "vocabularies": {
                "first_names": {"female": ["Zofia"], "male": ["Jan"]},
                "surnames": {"female": ["Nowakowska"], "male": ["Nowakowski"]},
                "occupations": [{"name": "pszczelarz"}, {"name": "lutniczka"}],
                "interests": ["szachy", "kajaki", "origami"],
                "values": ["spokój", "humor"],
                "communication_styles": ["zwięzły"],
                "decision_styles": ["rozważny"],
                "concerns": ["hałas"],
            },
        }
    )
    monkeypatch.setattr(config, "load_demographics", lambda: {"tiny": preset})

    persona = llm.generate(
        "persona_generation",
        ("Tworzysz persony.", "Opisz osobę, która mieszka w Gdańsku i jest ciekawa świata."),
        schema=Persona,
    )

    assert persona.full_name in {"Zofia Nowakowska", "Jan Nowakowski"}
    assert persona.occupation in {"pszczelarz", "lutniczka"}
    assert set(persona.interests) <= {"szachy", "kajaki", "origami"} and set(persona.values) <= {"spokój", "humor"}


def test_offline_plain_text_is_deterministic_and_in_the_prompt_language(settings):
    settings.SIGHT_LLM_PROVIDER = "offline"
    polish = llm.generate("focus_group_turn", "Co sądzisz o rowerach elektrycznych w mieście?", cache=False)
    assert polish == llm.generate("focus_group_turn", "Co sądzisz o rowerach elektrycznych w mieście?", cache=False)
    assert len(polish) > 40 and any(ch in polish for ch in "ąćęłńóśźż")


def test_offline_latency_is_awaited_so_concurrent_calls_overlap(settings, monkeypatch):
    settings.SIGHT_LLM_PROVIDER = "offline"
    settings.SIGHT_OFFLINE_LATENCY_MS = 200
    tune(monkeypatch, concurrency=8)

    async def five() -> list[str]:
        return await asyncio.gather(*(llm.agenerate("smoke", f"Question {i}", cache=False) for i in range(5)))

    started = time.monotonic()
    async_to_sync(five)()
    elapsed = time.monotonic() - started

    assert 0.2 <= elapsed < 0.9  # po kolei trwałoby ≥ 1 s

    started = time.monotonic()
    llm.build_chat_model("smoke").invoke("sync call")
    assert time.monotonic() - started >= 0.2


# --- embeddings, other providers ------------------------------------------------------------------------------------


def test_offline_embeddings_are_unit_vectors_where_related_texts_are_closer(settings):
    settings.SIGHT_LLM_PROVIDER = "offline"
    embeddings = llm.build_embeddings()
    dog, puppy, taxes = embeddings.embed_documents(
        [
            "My dog loves long walks in the park",
            "Our puppy enjoys walking outside",
            "Quarterly corporate tax filing deadline",
        ]
    )

    assert len(dog) == llm.embedding_dimension() == 256
    assert math.isclose(sum(x * x for x in dog), 1.0, rel_tol=1e-3)
    cosine = lambda a, b: sum(x * y for x, y in zip(a, b, strict=True))  # noqa: E731
    assert cosine(dog, puppy) > cosine(dog, taxes) + 0.2


def test_openai_compatible_server_gets_a_function_calling_request(settings):
    with StubServer() as server:
        settings.SIGHT_LLM_PROVIDER, settings.SIGHT_LLM_BASE_URL, settings.SIGHT_LLM_MODEL = (
            "openai",
            f"{server.url}/v1",
            "local-model",
        )
        server.respond(openai_tool_call("Echo", {"sentence": "From a local server"}))

        answer = llm.generate("smoke", ("You echo.", "Say it."), schema=Echo)

    assert answer.sentence == "From a local server"
    request = server.requests[0]
    assert request.path == "/v1/chat/completions" and request.body["model"] == "local-model"
    assert request.body["tools"][0]["function"]["name"] == "Echo" and "response_format" not in request.body
    row = only_call()
    assert (row.provider, row.model, row.input_tokens, row.output_tokens) == ("openai", "local-model", 20, 7)


# --- smoke job ------------------------------------------------------------------------------------------------------


def test_smoke_job_reports_progress_and_resumes_without_repeating_done_steps():
    job = Job.objects.create(kind="llm.smoke", project=create_project(), params={"calls": 3}, status=Job.Status.RUNNING)
    llm.script("smoke", [{"sentence": "First answer"}, ValueError("provider misconfigured")])

    with pytest.raises(llm.LLMCallError):
        tasks.llm_smoke(job)
    job.refresh_from_db()
    assert (job.progress_done, job.progress_total, job.result["smoke_done"]) == (1, 3, [0])

    llm.script("smoke", [{"sentence": "Second answer"}, {"sentence": "Third answer"}])
    result = tasks.llm_smoke(job)

    assert result["answers"] == ["First answer", "Second answer", "Third answer"]
    assert len(llm.scripted_calls()) == 4
    job.refresh_from_db()
    assert job.progress_done == 3 and LLMCall.objects.filter(job=job, ok=True).count() == 3


def test_smoke_job_runs_end_to_end_on_the_offline_provider(settings):
    settings.SIGHT_LLM_PROVIDER = "offline"
    job = Job.objects.create(kind="llm.smoke", project=create_project(), params={"calls": 2})

    jobs.execute(str(job.id))

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["provider"] == "offline" and len(job.result["answers"]) == 2
    assert LLMCall.objects.filter(job=job, provider="offline").count() == 2
