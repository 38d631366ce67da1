"""Kontrakt z Gemini: prawdziwy ChatGoogleGenerativeAI przez warstwę LLM, serwer-atrapa na pętli zwrotnej."""

from __future__ import annotations

import time
from typing import Any

import pytest
from pydantic import BaseModel, Field

import config
from sight import llm
from sight.llm import retry
from sight.models import LLMCall
from tests.gemini_stub import StubResponse, StubServer, gemini_error, gemini_json, gemini_text

pytestmark = pytest.mark.django_db


class Echo(BaseModel):
    sentence: str = Field(min_length=3, max_length=80)


@pytest.fixture
def gemini(settings, monkeypatch):
    """Dostawca google z kluczem testowym; google-genai kieruje żądania pod GOOGLE_GEMINI_BASE_URL (atrapę)."""
    with StubServer() as server:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.url)
        settings.SIGHT_LLM_PROVIDER, settings.GOOGLE_API_KEY = "google", "test-key"
        yield server


@pytest.fixture(autouse=True)
def waits(monkeypatch) -> list[float]:
    recorded: list[float] = []

    async def no_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(retry, "backoff_sleep", no_sleep)
    return recorded


def tune(monkeypatch, role: str = "smoke", **changes: Any) -> None:
    cfg = config.load_models()
    patched = cfg.model_copy(update={"roles": {**cfg.roles, role: cfg.roles[role].model_copy(update=changes)}})
    monkeypatch.setattr(config, "load_models", lambda: patched)


def test_structured_request_carries_model_path_contents_and_generation_config(gemini, monkeypatch):
    tune(monkeypatch, model="gemini-2.5-flash", temperature=0.0, max_tokens=256)
    gemini.respond(gemini_json({"sentence": "Echo from Gemini"}, prompt_tokens=12, output_tokens=5))

    answer = llm.generate("smoke", ("You echo sentences.", "Repeat: Echo from Gemini"), schema=Echo)

    assert answer == Echo(sentence="Echo from Gemini")
    request = gemini.requests[0]
    assert request.method == "POST" and request.path.endswith("/models/gemini-2.5-flash:generateContent")
    assert request.headers["x-goog-api-key"] == "test-key"
    assert request.body["contents"] == [{"role": "user", "parts": [{"text": "Repeat: Echo from Gemini"}]}]
    assert request.body["systemInstruction"]["parts"][0]["text"] == "You echo sentences."
    generation = request.body["generationConfig"]
    assert generation["temperature"] == 0.0 and generation["maxOutputTokens"] == 256
    assert generation["responseMimeType"] == "application/json"
    assert generation["responseJsonSchema"]["properties"]["sentence"]["maxLength"] == 80
    assert 0 in (
        generation["thinkingConfig"].get("thinkingBudget"),
        generation["thinkingConfig"].get("thinking_budget"),
    )
    row = LLMCall.objects.get()
    assert (row.provider, row.model, row.input_tokens, row.output_tokens, row.ok) == (
        "google",
        "gemini-2.5-flash",
        12,
        5,
        True,
    )
    assert row.cost_usd > 0


def test_plain_text_answer_comes_back_as_text(gemini):
    gemini.respond(gemini_text("Dzień dobry, zaczynamy."))
    assert llm.generate("moderator", "Open the session.") == "Dzień dobry, zaczynamy."
    assert "responseMimeType" not in gemini.requests[0].body.get("generationConfig", {})


def test_rate_limit_then_success_waits_for_the_servers_retry_delay(gemini, waits):
    gemini.respond(
        gemini_error(429, "Quota exceeded. Please retry in 2.4s.", retry_delay="2s"),
        gemini_json({"sentence": "After the quota"}),
    )

    assert llm.generate("smoke", "Hi.", schema=Echo).sentence == "After the quota"

    assert len(gemini.requests) == 2 and len(waits) == 1 and 2.0 <= waits[0] <= 2.2
    assert LLMCall.objects.get().attempts == 2


def test_server_error_is_retried_and_bad_request_is_not(gemini, waits):
    gemini.respond(gemini_error(503, "overloaded"), gemini_json({"sentence": "Recovered fine"}))
    assert llm.generate("smoke", "Hi.", schema=Echo).sentence == "Recovered fine"
    assert len(gemini.requests) == 2 and 1 <= waits[0] <= 2

    gemini.respond(gemini_error(400, "API key not valid"))
    with pytest.raises(llm.LLMCallError, match="after 1 attempt"):
        llm.generate("smoke", "Other question.", schema=Echo)
    assert len(gemini.requests) == 3


def test_slow_server_is_abandoned_at_the_role_timeout(gemini, monkeypatch):
    tune(monkeypatch, timeout=0.3, max_attempts=1)
    gemini.respond(gemini_json({"sentence": "Much too late"}, delay=3))
    started = time.monotonic()

    with pytest.raises(llm.LLMCallError, match="timed out|Timeout"):
        llm.generate("smoke", "Hi.", schema=Echo)

    assert time.monotonic() - started < 2
    assert not LLMCall.objects.get().ok


def test_malformed_json_is_reasked_with_the_problem_then_accepted(gemini, monkeypatch):
    tune(monkeypatch, reasks=1)
    gemini.respond(gemini_text('{"sentence": "unterminated'), gemini_json({"sentence": "Valid this time"}))

    assert llm.generate("smoke", "Hi.", schema=Echo).sentence == "Valid this time"

    reask = gemini.requests[1].body["contents"]
    assert [turn["role"] for turn in reask] == ["user", "model", "user"]
    assert reask[1]["parts"][0]["text"] == '{"sentence": "unterminated'
    assert "did not match the required schema" in reask[2]["parts"][0]["text"]


def test_json_that_breaks_the_schema_twice_fails_with_an_output_error(gemini, monkeypatch):
    tune(monkeypatch, reasks=1)
    gemini.respond(gemini_json({"sentence": "no"}), StubResponse(200, gemini_text("not json at all").body))

    with pytest.raises(llm.LLMOutputError) as failure:
        llm.generate("smoke", "Hi.", schema=Echo)

    assert "at least 3 characters" in failure.value.problems[0]
    row = LLMCall.objects.get()
    assert not row.ok and row.attempts == 2 and row.input_tokens == 24


def test_answer_cut_off_at_the_token_limit_is_never_taken_as_an_answer(gemini, monkeypatch):
    tune(monkeypatch, reasks=1)
    cut = gemini_json({"sentence": "A complete looking sentence"})
    cut.body["candidates"][0]["finishReason"] = "MAX_TOKENS"
    gemini.respond(cut, gemini_json({"sentence": "Short and whole"}))

    assert llm.generate("smoke", "Hi.", schema=Echo).sentence == "Short and whole"
    assert "cut off" in gemini.requests[1].body["contents"][-1]["parts"][0]["text"]
