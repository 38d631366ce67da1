"""Serwer HTTP na pętli zwrotnej udający Gemini API (i serwer zgodny z OpenAI) — prawdziwy klient, skryptowane
odpowiedzi.
"""

from __future__ import annotations

import collections
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class StubResponse:
    """Odpowiedź serwera: status, treść (dict → JSON, str → dosłownie), nagłówki i opóźnienie."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class RecordedRequest:
    """Żądanie, które dotarło do serwera."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


class StubServer:
    """Wątkowy serwer na 127.0.0.1 i wolnym porcie; odpowiada z kolejki, zapisuje żądania."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._queue: collections.deque[StubResponse] = collections.deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """Bazowy adres serwera."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def respond(self, *responses: StubResponse) -> None:
        """Dokłada odpowiedzi do kolejki."""
        with self._lock:
            self._queue.extend(responses)

    def _next(self, request: RecordedRequest) -> StubResponse:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.popleft()
        return StubResponse(
            500, {"error": {"code": 500, "message": "stub has no scripted response left", "status": "INTERNAL"}}
        )

    def __enter__(self) -> StubServer:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                answer = stub._next(
                    RecordedRequest(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                time.sleep(answer.delay)
                payload = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
                try:
                    self.send_response(answer.status)
                    self.send_header("content-type", "application/json")
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(payload.encode())))
                    self.end_headers()
                    self.wfile.write(payload.encode())
                except OSError:  # klient już zrezygnował (timeout)
                    pass

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - sygnatura z biblioteki
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="gemini-stub"
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


def gemini_text(text: str, *, prompt_tokens: int = 12, output_tokens: int = 5, delay: float = 0.0) -> StubResponse:
    """Odpowiedź generateContent z jednym kandydatem tekstowym i zużyciem tokenów."""
    body = {
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens,
        },
        "modelVersion": "gemini-2.5-flash",
    }
    return StubResponse(200, body, delay=delay)


def gemini_json(value: Any, **kwargs: Any) -> StubResponse:
    """Odpowiedź w trybie JSON (structured output): tekst kandydata to zserializowany obiekt."""
    return gemini_text(json.dumps(value), **kwargs)


def gemini_error(status: int, message: str, *, retry_delay: str | None = None) -> StubResponse:
    """Błąd w formacie Google RPC; 429 może nieść RetryInfo.retryDelay (np. "2s")."""
    names = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
    details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}] if retry_delay else []
    return StubResponse(
        status,
        {"error": {"code": status, "message": message, "status": names.get(status, "UNKNOWN"), "details": details}},
    )


def openai_tool_call(
    name: str, args: dict[str, Any], *, prompt_tokens: int = 20, output_tokens: int = 7
) -> StubResponse:
    """Odpowiedź /chat/completions serwera zgodnego z OpenAI z jednym wywołaniem funkcji."""
    body = {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": "stub",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
                    ],
                },
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": output_tokens,
            "total_tokens": prompt_tokens + output_tokens,
        },
    }
    return StubResponse(200, body)
