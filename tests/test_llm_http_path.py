"""Prawdziwi dostawcy przez HTTP: OpenAI-zgodny serwer i Gemini na pętli zwrotnej (`bench.llm_server`), zadania
przez prawdziwy worker, kilka po kolei w jednym procesie (klient HTTP nie może przeżyć pętli zdarzeń zadania).
"""

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from pydantic import BaseModel

import config
from bench.llm_server import LLMServer
from focus_groups import discussion
from focus_groups.models import FocusGroup
from sight import jobs, llm
from sight.llm import providers, retry
from sight.models import Job, LLMCall
from tests.factories import create_focus_group, create_persona, create_project, run_worker

pytestmark = pytest.mark.django_db
# Pierwsze pytanie z tezą, by rola `stance` też szła ścieżką HTTP.
THREE_QUESTIONS = (
    {"text": "Czy zmieniłbyś bank?", "proposition": "Warto zmienić bank dla niższych opłat."},
    "Co z opłatami?",
    "A aplikacja?",
)


@pytest.fixture(autouse=True)
def no_cache(monkeypatch):
    """Bez cache: każde wywołanie drugiego zadania też idzie przez HTTP."""
    monkeypatch.setattr(config, "load_features", lambda: config.FeaturesConfig(llm_cache=False))


@pytest.fixture
def openai_server(settings):
    with LLMServer() as server:
        settings.SIGHT_LLM_PROVIDER, settings.SIGHT_LLM_BASE_URL = "openai", f"{server.url}/v1"
        settings.SIGHT_LLM_MODEL, settings.SIGHT_LLM_API_KEY = "local-model", "local-key"
        yield server


@pytest.fixture
def gemini_server(settings, monkeypatch):
    with LLMServer() as server:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.url)
        settings.SIGHT_LLM_PROVIDER, settings.GOOGLE_API_KEY = "google", "test-key"
        yield server


@pytest.fixture(params=["openai_server", "gemini_server"])
def server(request) -> LLMServer:
    return request.getfixturevalue(request.param)


def http_group(project, people, mode, **extra):
    """Grupa z trzema pytaniami przewodnika na ścieżce HTTP."""
    return create_focus_group(
        project=project, personas=people, mode=mode, name="FG HTTP", questions=THREE_QUESTIONS, **extra
    )


def run_group(fg: FocusGroup, capture) -> FocusGroup:
    with capture(execute=True):
        discussion.start_run(fg, user=fg.project.owner)
    run_worker()
    fg.refresh_from_db()
    return fg


def test_three_question_discussion_and_interviews_complete_one_after_another_in_one_worker(
    server, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    project = create_project()
    people = [create_persona(project=project, full_name=f"Osoba {i} Nowak", extraversion=0.3 * i) for i in range(3)]

    talk = run_group(
        http_group(project, people, "discussion"),
        capture,
    )
    interviews = run_group(
        http_group(project, people, "interviews"),
        capture,
    )
    again = run_group(
        http_group(project, people, "discussion"),
        capture,
    )

    for fg in (talk, interviews, again):
        assert fg.status == "completed", (fg.error, Job.objects.get(pk=fg.job_id).error)
        assert not fg.events.filter(kind="error").exists()
        assert fg.events.filter(kind="question_closed").count() == 3
    assert talk.events.filter(kind="turn").count() == again.events.filter(kind="turn").count() == 12
    assert interviews.events.filter(kind="answer").count() == 9
    calls = LLMCall.objects.filter(project=project)
    assert calls.count() == server.count and calls.filter(ok=True).count() == server.count
    assert not calls.filter(cache_hit=True).exists()


def test_smoke_jobs_run_twice_in_one_process_over_http(server, django_capture_on_commit_callbacks):
    project = create_project()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            job = jobs.start_job(kind="llm.smoke", project=project, params={"calls": 3}, queue="llm")
        run_worker()
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED, job.error
        assert len(job.result["answers"]) == 3
    assert server.count == 6


def test_clients_built_in_a_job_loop_are_closed_when_the_loop_ends(openai_server):
    seen = []

    async def one_call() -> None:
        await llm.agenerate("smoke", "Say something.", cache=False)
        seen.extend(providers._loop_models.get(asyncio.get_running_loop(), {}).values())

    llm.run_in_loop(one_call)
    llm.run_in_loop(one_call)

    assert len(seen) == 2 and seen[0] is not seen[1]
    assert all(model.root_async_client.is_closed() for model in seen)


def test_independent_interview_answers_are_all_in_flight_at_once(openai_server, django_capture_on_commit_callbacks):
    openai_server.latency = 0.2
    project = create_project()
    people = [create_persona(project=project) for _ in range(3)]

    fg = run_group(
        http_group(project, people, "interviews"),
        django_capture_on_commit_callbacks,
    )

    assert fg.status == "completed" and fg.events.filter(kind="answer").count() == 9
    assert openai_server.max_in_flight == 9  # 3 osoby × 3 pytania naraz, nie pytanie po pytaniu
    assert Job.objects.get(pk=fg.job_id).progress_done == 9


def test_answers_that_see_earlier_ones_come_in_order_per_persona(openai_server, django_capture_on_commit_callbacks):
    openai_server.latency = 0.1
    project = create_project()
    people = [create_persona(project=project) for _ in range(3)]
    group = http_group(project, people, "interviews", interview_context="earlier_answers")

    fg = run_group(group, django_capture_on_commit_callbacks)

    assert fg.status == "completed" and fg.events.filter(kind="answer").count() == 9
    assert openai_server.max_in_flight == 3  # persony równolegle, pytania każdej po kolei
    prompts = [r["body"]["messages"][-1]["content"] for r in openai_server.requests]
    for persona in people:
        answers = dict(fg.events.filter(persona=persona, kind="answer").values_list("question_index", "payload"))
        later = [p for p in prompts if persona.full_name in p and "A aplikacja?" in p]
        assert len(later) == 1
        assert answers[0]["text"] in later[0] and answers[1]["text"] in later[0]


class AnswerSchema(BaseModel):
    text: str


class ScriptedOpenAI(ThreadingHTTPServer):
    """Serwer zgodny z OpenAI odpowiadający po kolei z listy (status, nagłówki, treść); zapisuje treści żądań."""

    def __init__(self, script: list[tuple[int, dict[str, str], dict]]) -> None:
        self.script, self.bodies = list(script), []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                owner.bodies.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
                status, headers, payload = owner.script.pop(0)
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in {"content-type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def completion(arguments: str, finish_reason: str = "tool_calls") -> tuple[int, dict[str, str], dict]:
    call = {"id": "call_1", "type": "function", "function": {"name": "AnswerSchema", "arguments": arguments}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    usage = {"prompt_tokens": 40, "completion_tokens": 7, "total_tokens": 47}
    choice = {"index": 0, "message": message, "finish_reason": finish_reason}
    return 200, {}, {"id": "c", "object": "chat.completion", "model": "m", "choices": [choice], "usage": usage}


def test_the_openai_path_waits_out_a_429_and_reasks_a_cut_off_or_invalid_answer(settings, monkeypatch):
    waits = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(retry, "backoff_sleep", no_sleep)
    limited = (429, {"retry-after": "2"}, {"error": {"message": "slow down", "type": "rate_limit"}})
    server = ScriptedOpenAI([limited, completion('{"text": "ucię', "length"), completion('{"text": "Tak, zmienię."}')])
    settings.SIGHT_LLM_PROVIDER, settings.SIGHT_LLM_BASE_URL = "openai", f"http://127.0.0.1:{server.server_port}/v1"
    settings.SIGHT_LLM_MODEL, settings.SIGHT_LLM_API_KEY = "local-model", "local-key"
    try:
        answer = llm.generate("smoke", "Czy zmienisz bank?", schema=AnswerSchema, cache=False)
    finally:
        server.shutdown()
        server.server_close()

    assert answer == AnswerSchema(text="Tak, zmienię.")
    assert len(waits) == 1 and 2 <= waits[0] <= 2.2  # nagłówek Retry-After, nie backoff
    first, reask = server.bodies[1], server.bodies[2]
    assert first["tool_choice"] == {"type": "function", "function": {"name": "AnswerSchema"}}
    assert first["model"] == "local-model"
    assert first["messages"][-1] == {"role": "user", "content": "Czy zmienisz bank?"}
    assert "cut off" in reask["messages"][-1]["content"]  # ucięta odpowiedź to problem do ponownego pytania
    call = LLMCall.objects.get()
    assert (call.attempts, call.input_tokens, call.output_tokens) == (3, 80, 14)
