"""Lokalny serwer LLM na pętli zwrotnej: chat completions zgodne z OpenAI (wywołania funkcji) i generateContent Gemini.

Odpowiada po stałym opóźnieniu (żądania nakładają się: serwer wątkowy), treść wypełnia ze schematu narzędzia albo
odpowiedzi (`OfflineWriter`, więc przechodzi walidację schematów Sight), liczy żądania i największą liczbę żądań
naraz. Używają go testy ścieżki HTTP i benchmarki; osobno: `python -m bench.llm_server --latency-ms 200`.
"""

from __future__ import annotations

import argparse
import copy
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LLMServer:
    """Wątkowy serwer na 127.0.0.1 (wolny port albo podany) z liczeniem żądań i żądań naraz."""

    def __init__(self, *, latency: float = 0.0, port: int = 0) -> None:
        self.latency, self.port = latency, port
        self.requests: list[dict[str, Any]] = []
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.accepted: dict[int, float] = {}  # id gniazda → chwila przyjęcia połączenia

    @property
    def url(self) -> str:
        """Adres bazowy serwera (dla OpenAI dopisz `/v1`)."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def count(self) -> int:
        """Liczba żądań od startu albo od `reset()`."""
        return len(self.requests)

    def reset(self) -> None:
        """Zeruje liczniki (między pomiarami)."""
        with self._lock:
            self.requests, self.max_in_flight = [], self.in_flight

    def answer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """Odpowiedź na żądanie: wywołanie funkcji albo tekst (OpenAI), JSON albo tekst kandydata (Gemini)."""
        if path.endswith("/chat/completions"):
            return _openai_answer(body)
        if ":generateContent" in path:
            return _gemini_answer(body)
        raise LookupError(path)

    def _enter(self, path: str, body: Any) -> None:
        with self._lock:
            self.requests.append({"path": path, "body": body})
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def __enter__(self) -> LLMServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # połączenia keep-alive jak u prawdziwego serwera
            # Nagłówki i treść idą osobnymi zapisami: bez TCP_NODELAY treść czekałaby na opóźnione ACK klienta.
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                # Opóźnienie liczone od przyjęcia połączenia (pierwsze żądanie) albo od odczytu żądania (następne):
                # wątki serwera dzielą GIL, więc start wątku obsługi fali nowych połączeń sam byłby opóźnieniem.
                self.accepted = server.accepted.pop(id(self.request), None)

            def do_POST(self) -> None:
                started, self.accepted = self.accepted or time.monotonic(), None
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
                server._enter(self.path, body)
                try:
                    try:
                        status, payload = 200, server.answer(self.path, body)
                    except LookupError:
                        status, payload = 404, {"error": {"code": 404, "message": f"no route {self.path}"}}
                    except Exception as exc:  # noqa: BLE001 - błąd serwera testowego widać w odpowiedzi
                        status, payload = 500, {"error": {"code": 500, "message": f"{type(exc).__name__}: {exc}"}}
                    time.sleep(max(0.0, server.latency - (time.monotonic() - started)))
                finally:
                    server._leave()
                data = json.dumps(payload, ensure_ascii=False).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # klient zrezygnował (timeout)
                    pass

            def do_GET(self) -> None:
                """`/stats`: liczniki (dla benchmarku, gdy serwer działa w osobnym procesie); `/reset` je zeruje."""
                if self.path == "/reset":
                    server.reset()
                data = json.dumps({"requests": server.count, "max_in_flight": server.max_in_flight}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - sygnatura z biblioteki
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256  # domyślne 5 gubi połączenia przy fali równoległych żądań

            def process_request(self, request: Any, client_address: Any) -> None:
                server.accepted[id(request)] = time.monotonic()
                super().process_request(request, client_address)

        self._server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="llm-server"
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()


def fill(schema: dict[str, Any], prompt_text: str, seed_source: str) -> Any:
    """Wartość zgodna ze schematem JSON (odwołania `$ref` rozwinięte), pisana jak przez dostawcę offline."""
    from sight.llm import OfflineWriter

    return OfflineWriter(seed_source, prompt_text).value(_inline_refs(schema), "")


def _inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    defs = {**schema.get("$defs", {}), **schema.get("definitions", {})}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]]))
            return {k: walk(v) for k, v in node.items() if k not in ("$defs", "definitions")}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _usage_tokens(text: str, answer: str) -> tuple[int, int]:
    return max(1, len(text) // 4), max(1, len(answer) // 4)


def _openai_answer(body: dict[str, Any]) -> dict[str, Any]:
    prompt = "\n".join(_text_of(m.get("content")) for m in body.get("messages", []))
    seed = json.dumps(body.get("messages", []), sort_keys=True)
    tools = body.get("tools") or []
    message: dict[str, Any] = {"role": "assistant", "content": None}
    if tools:
        function = tools[0]["function"]
        args = json.dumps(fill(function.get("parameters") or {"type": "object"}, prompt, seed), ensure_ascii=False)
        call = {"name": function["name"], "arguments": args}
        message["tool_calls"] = [{"id": "call_0", "type": "function", "function": call}]
        finish, answer = "tool_calls", args
    else:
        message["content"] = answer = fill({"type": "string", "minLength": 40}, prompt, seed)
        finish = "stop"
    tokens_in, tokens_out = _usage_tokens(prompt, answer)
    return {
        "id": "chatcmpl-local",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "local"),
        "choices": [{"index": 0, "finish_reason": finish, "message": message}],
        "usage": {"prompt_tokens": tokens_in, "completion_tokens": tokens_out, "total_tokens": tokens_in + tokens_out},
    }


def _gemini_answer(body: dict[str, Any]) -> dict[str, Any]:
    parts = [p for c in body.get("contents", []) for p in c.get("parts", [])]
    system = (body.get("systemInstruction") or {}).get("parts", [])
    prompt = "\n".join(p.get("text", "") for p in [*system, *parts])
    seed = json.dumps(body.get("contents", []), sort_keys=True)
    generation = body.get("generationConfig") or {}
    schema = generation.get("responseJsonSchema") or generation.get("responseSchema")
    if schema:
        answer = json.dumps(fill(schema, prompt, seed), ensure_ascii=False)
    else:
        answer = fill({"type": "string", "minLength": 40}, prompt, seed)
    tokens_in, tokens_out = _usage_tokens(prompt, answer)
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"text": answer}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {
            "promptTokenCount": tokens_in,
            "candidatesTokenCount": tokens_out,
            "totalTokenCount": tokens_in + tokens_out,
        },
        "modelVersion": "local",
    }


def main() -> None:
    """Serwer do ręcznych prób: `SIGHT_LLM_PROVIDER=openai SIGHT_LLM_BASE_URL=http://127.0.0.1:PORT/v1`."""
    import os

    import django

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8011, help="0: a free port (printed)")
    parser.add_argument("--latency-ms", type=int, default=200)
    options = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sight.settings")
    django.setup()  # słowniki OfflineWriter pochodzą z config
    # Rozgrzewka przed pierwszym żądaniem: import warstwy LLM i wczytanie słowników to ponad sekunda, która inaczej
    # trafiłaby do czasu pierwszego mierzonego zadania.
    fill({"type": "object", "properties": {"text": {"type": "string"}}}, "Rozgrzewka serwera.", "warm-up")
    with LLMServer(latency=options.latency_ms / 1000, port=options.port) as server:
        print(f"listening on {server.url} (OpenAI: {server.url}/v1), {options.latency_ms} ms per request", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
