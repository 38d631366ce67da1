"""Plik stanu `make run`: `python manage.py …` w drugim terminalu znajduje działające usługi, a nieaktualny plik
pomija.
"""

import json
import os
import subprocess
import sys

import pytest

from sight.devstack import SERVICE_VARS, Services, run_state, running_stack
from sight.settings import database_from_url

STACK = {
    "DATABASE_URL": "postgresql://postgres:@/postgres?host=/tmp/sight-pg-socket",
    "REDIS_URL": "redis://127.0.0.1:41234",
    "FALKORDB_URL": "redis://127.0.0.1:41234",
}


@pytest.fixture
def no_service_env(monkeypatch):
    """Terminal bez DATABASE_URL, REDIS_URL i FALKORDB_URL (make test ustawia je dla siebie)."""
    for name in SERVICE_VARS:
        monkeypatch.delenv(name, raising=False)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_running_stack_is_found_through_its_state_file_until_it_stops(tmp_path, no_service_env):
    path = tmp_path / "run" / "services.json"
    with run_state(Services(env=STACK, pids=[os.getpid()]), path):
        assert running_stack(path) == STACK
        assert json.loads(path.read_text())["pids"] == [os.getpid(), os.getpid()]
    assert not path.exists() and running_stack(path) == {}


def test_a_state_file_left_by_a_killed_run_is_ignored(tmp_path, no_service_env):
    path = tmp_path / "services.json"
    path.write_text(json.dumps({"env": STACK, "pids": [os.getpid(), dead_pid()]}))
    assert running_stack(path) == {}
    path.write_text(json.dumps({"env": STACK, "pids": [os.getpid()]}))
    assert running_stack(path) == STACK


@pytest.mark.parametrize("content", ["", "{not json", '{"env": {}}', '{"env": 1, "pids": ["x"]}'])
def test_a_damaged_state_file_is_ignored(tmp_path, no_service_env, content):
    path = tmp_path / "services.json"
    path.write_text(content)
    assert running_stack(path) == {}


def test_the_environment_wins_over_the_state_file(tmp_path, no_service_env, monkeypatch):
    path = tmp_path / "services.json"
    path.write_text(json.dumps({"env": STACK, "pids": [os.getpid()]}))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6390")
    assert running_stack(path) == {}


def test_the_state_file_records_urls_the_run_was_given_as_well_as_those_it_started(
    tmp_path, no_service_env, monkeypatch
):
    monkeypatch.setenv("DATABASE_URL", "postgresql://sight@db.example/sight")
    path = tmp_path / "services.json"
    with run_state(Services(env={"REDIS_URL": STACK["REDIS_URL"]}, pids=[]), path):
        env = json.loads(path.read_text())["env"]
    assert env == {"DATABASE_URL": "postgresql://sight@db.example/sight", "REDIS_URL": STACK["REDIS_URL"]}


def test_the_embedded_database_url_keeps_its_socket_directory_for_psql():
    db = database_from_url(STACK["DATABASE_URL"])
    assert (db["HOST"], db["NAME"], db["USER"], db["PORT"]) == ("/tmp/sight-pg-socket", "postgres", "postgres", "")
