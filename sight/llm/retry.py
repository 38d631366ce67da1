"""Ponowienia: które błędy są przejściowe, podpowiedzi 429 (Retry-After, retryDelay Gemini) i czas czekania."""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache

from langchain_core.exceptions import ModelError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from sight.llm.base import LLMError

MAX_RETRY_HINT_SECONDS = 60.0
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def retrying(max_attempts: int) -> AsyncRetrying:
    """Jedna polityka ponowień żądania: twardy stop, tylko błędy przejściowe, podpowiedź 429 albo backoff z jitterem."""
    return AsyncRetrying(
        stop=stop_after_attempt(max_attempts),
        wait=_wait,
        retry=retry_if_exception(is_transient),
        sleep=backoff_sleep,
        reraise=True,
    )


async def backoff_sleep(seconds: float) -> None:
    """Czekanie między próbami (w testach podmieniane, by nie spać naprawdę)."""
    await asyncio.sleep(seconds)


_exponential = wait_exponential_jitter(initial=1, max=30, jitter=1)


def _wait(state: RetryCallState) -> float:
    """Czas do następnej próby: podpowiedź 429 (z limitem i 10% jitterem) albo backoff wykładniczy."""
    exc = state.outcome.exception() if state.outcome else None
    hint = retry_hint(exc) if exc is not None else None
    if hint is not None:
        return min(hint, MAX_RETRY_HINT_SECONDS) * (1 + random.uniform(0, 0.1))
    return _exponential(state)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _status(exc: BaseException) -> int | None:
    for attr in ("status_code", "code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    return None


def is_transient(exc: BaseException) -> bool:
    """Czy błąd jest przejściowy (timeout, połączenie, 429, 5xx), więc warto ponowić."""
    for err in _chain(exc):
        if isinstance(err, LLMError):
            return False
        if isinstance(err, ModelError):
            return err.is_retryable
        if isinstance(err, (TimeoutError, ConnectionError, *_transport_errors())):
            return True
        status = _status(err)
        if status is not None:
            return status in TRANSIENT_STATUS
    return False


@cache
def _transport_errors() -> tuple[type[BaseException], ...]:
    """Błędy transportu klientów HTTP dostawców (httpx, httpx2, openai)."""
    found: list[type[BaseException]] = []
    for module, name in (("httpx", "TransportError"), ("httpx2", "TransportError"), ("openai", "APIConnectionError")):
        try:
            found.append(getattr(__import__(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(found)


_RETRY_DELAY = re.compile(r"""retryDelay['"]?\s*:\s*['"](\d+(?:\.\d+)?)s""")
_RETRY_IN = re.compile(r"[Rr]etry in (\d+(?:\.\d+)?)\s*s")


def retry_hint(exc: BaseException) -> float | None:
    """Sekundy z nagłówka Retry-After albo z RetryInfo.retryDelay Gemini w łańcuchu wyjątku."""
    for err in _chain(exc):
        headers = getattr(getattr(err, "response", None), "headers", None)
        if headers is not None and (value := headers.get("retry-after")):
            seconds = _parse_retry_after(str(value))
            if seconds is not None:
                return seconds
        for source in (getattr(err, "details", None), getattr(err, "body", None), str(err)):
            text = source if isinstance(source, str) else json.dumps(source, default=str) if source else ""
            if match := _RETRY_DELAY.search(text) or _RETRY_IN.search(text):
                return float(match.group(1))
    return None


def _parse_retry_after(value: str) -> float | None:
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (email.utils.parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
