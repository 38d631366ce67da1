"""Graf pojęć: funkcje domenowe nad dwoma adapterami — Neo4j 5 (Bolt) i FalkorDB (protokół Redis, nigdy Bolt).

Graf jest indeksem pochodnym, odbudowywanym z PostgreSQL (`rebuild_from_database`). Wspólne zapytania trzymają się
przenośnego podzbioru openCypher (MERGE po stałych kluczach, UNWIND w paczkach, tylko parametry, znaczniki czasu
w milisekundach epoki); DDL, pełnotekstowe wyszukiwanie i normalizacja wyników żyją w adapterach.

Funkcje są synchroniczne. Kod asynchroniczny (konsumenci, asyncio w zadaniach) woła je przez
`asgiref.sync.sync_to_async(graph.project_concepts, thread_sensitive=False)(...)`: zapytania grafu nie dotykają ORM,
więc mogą iść w osobnym wątku (poza `rebuild_from_database`, które czyta PostgreSQL — to zostaje
`thread_sensitive=True`).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

import neo4j
import neo4j.exceptions
import redis.exceptions
from django.conf import settings
from falkordb import FalkorDB

if TYPE_CHECKING:
    from sight.models import Project

BATCH_SIZE = 500  # wierszy na jedno UNWIND: parametr nigdy nie rośnie bez końca
CONNECT_TIMEOUT = 3.0  # sekundy na nawiązanie połączenia
QUERY_TIMEOUT = 30.0  # sekundy na jedno zapytanie
RETRY_SECONDS = 5.0  # Neo4j: łączny czas ponawiania transakcji przy błędach przejściowych
CONCEPT_NAMESPACE = uuid.UUID("5b0f7a52-6a1e-4c0e-9d59-3f1d2a8c7e41")  # uuid5(projekt + klucz pojęcia)

log = logging.getLogger(__name__)


class GraphUnavailable(Exception):
    """Serwer grafu nie odpowiada; strony grafu mówią o tym, reszta aplikacji działa."""


# --- adaptery ---------------------------------------------------------------------------------------------------


class Adapter(Protocol):
    """Wspólny interfejs obu adapterów."""

    lock: threading.Lock
    bootstrapped: bool

    def run(
        self, query: str, params: Mapping[str, Any] | None = None, *, write: bool = False
    ) -> list[dict[str, Any]]: ...
    def bootstrap(self) -> None: ...
    def ping(self) -> None: ...
    def close(self) -> None: ...


class FalkorDBAdapter:
    """FalkorDB przez oficjalnego klienta `falkordb` (protokół Redis); parametry są poprawnie cytowane."""

    def __init__(self, url: str, graph_name: str) -> None:
        parts = urlsplit(url)
        self.where = f"FalkorDB {parts.hostname}:{parts.port} graph {graph_name!r}"  # bez hasła z URL
        self.lock, self.bootstrapped = threading.Lock(), False
        with self.errors():  # konstruktor klienta już rozmawia z serwerem (INFO)
            self.db = FalkorDB.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=QUERY_TIMEOUT + 5)
        self.graph = self.db.select_graph(graph_name)

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """Błędy połączenia, limitu czasu i brak modułu grafu → GraphUnavailable."""
        try:
            yield
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            raise GraphUnavailable(f"{self.where} is unreachable: {exc}") from exc
        except redis.exceptions.ResponseError as exc:
            message = str(exc)
            if "unknown command" in message.lower():
                raise GraphUnavailable(
                    f"{self.where}: the server has no FalkorDB module (is FALKORDB_URL a plain Redis?)"
                ) from exc
            if "timed out" in message.lower():
                raise GraphUnavailable(f"{self.where}: query timed out") from exc
            raise

    def run(self, query: str, params: Mapping[str, Any] | None = None, *, write: bool = False) -> list[dict[str, Any]]:
        """Wykonuje zapytanie i zwraca wiersze jako słowniki (tylko skalary, listy i mapy — nigdy węzły)."""
        execute = self.graph.query if write else self.graph.ro_query
        with self.errors():
            try:
                result = execute(query, dict(params or {}), timeout=int(QUERY_TIMEOUT * 1000))
            except redis.exceptions.ResponseError as exc:
                if "empty key" not in str(exc):
                    raise
                # Grafu nie ma (Redis bez zapisu na dysk po restarcie, FLUSHDB): odtwarzamy go z indeksami i ponawiamy.
                self.bootstrap()
                result = execute(query, dict(params or {}), timeout=int(QUERY_TIMEOUT * 1000))
        columns = [column[1] for column in result.header]
        return [dict(zip(columns, row, strict=True)) for row in result.result_set]

    def bootstrap(self) -> None:
        """Indeksy zakresowe i ograniczenia unikalności (powtórka jest bezpieczna)."""
        statements = (
            "CREATE INDEX FOR (n:Project) ON (n.id)",
            "CREATE INDEX FOR (n:Persona) ON (n.id)",
            "CREATE INDEX FOR (n:Persona) ON (n.project_id)",
            "CREATE INDEX FOR (n:Concept) ON (n.id)",
            "CREATE INDEX FOR (n:Concept) ON (n.project_id)",
            "CREATE INDEX FOR (n:FocusGroup) ON (n.id)",
            "CREATE INDEX FOR (n:Emotion) ON (n.id)",
            "CREATE INDEX FOR (n:Emotion) ON (n.project_id)",
            "CREATE INDEX FOR ()-[r:MENTIONED]-() ON (r.focus_group_id)",
            "CREATE INDEX FOR ()-[r:RESPONDED_TO]-() ON (r.focus_group_id)",
            "CREATE INDEX FOR ()-[r:FELT]-() ON (r.focus_group_id)",
            "CREATE INDEX FOR (n:DocEntity) ON (n.id)",
            "CREATE INDEX FOR (n:DocEntity) ON (n.project_id)",
            "CREATE INDEX FOR (n:DocChunk) ON (n.id)",
            "CREATE INDEX FOR (n:DocChunk) ON (n.project_id)",
        )
        for statement in statements:
            self._ignore_existing(lambda s=statement: self.graph.query(s), "already indexed")
        for label in ("Project", "Persona", "Concept", "FocusGroup", "Emotion"):
            # Ograniczenie wymaga indeksu zakresowego (jest wyżej); serwer buduje je asynchronicznie.
            command = ("GRAPH.CONSTRAINT", "CREATE", self.graph.name, "UNIQUE", "NODE", label, "PROPERTIES", 1, "id")
            self._ignore_existing(lambda c=command: self.db.execute_command(*c), "already exists")

    def _ignore_existing(self, call: Callable[[], object], marker: str) -> None:
        try:
            with self.errors():
                call()
        except redis.exceptions.ResponseError as exc:
            if marker not in str(exc):
                raise

    def ping(self) -> None:
        """GRAPH.LIST: serwer odpowiada i ma załadowany moduł grafu."""
        with self.errors():
            self.db.list_graphs()

    def close(self) -> None:
        """Zamyka połączenia puli Redis (klient dostał pulę z zewnątrz, więc sam jej nie zamknie)."""
        with contextlib.suppress(Exception):
            self.db.connection.connection_pool.disconnect()


class Neo4jAdapter:
    """Neo4j 5 przez oficjalny sterownik `neo4j` (Bolt), baza NEO4J_DATABASE."""

    def __init__(self, uri: str, user: str, password: str, database: str) -> None:
        self.where = f"Neo4j {uri} database {database!r}"
        self.database = database
        self.lock, self.bootstrapped = threading.Lock(), False
        auth = (user, password) if password else None
        self.driver = neo4j.GraphDatabase.driver(
            uri,
            auth=auth,
            connection_timeout=CONNECT_TIMEOUT,
            connection_acquisition_timeout=2 * CONNECT_TIMEOUT,
            max_transaction_retry_time=RETRY_SECONDS,
            user_agent="sight",
        )

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """Brak połączenia, odrzucone logowanie, niedostępna baza i przekroczony czas → GraphUnavailable."""
        try:
            yield
        except (
            neo4j.exceptions.ServiceUnavailable,
            neo4j.exceptions.SessionExpired,
            neo4j.exceptions.ConnectionPoolError,
        ) as exc:
            raise GraphUnavailable(f"{self.where} is unreachable: {exc}") from exc
        except neo4j.exceptions.AuthError as exc:
            raise GraphUnavailable(f"{self.where} rejected NEO4J_USER/NEO4J_PASSWORD") from exc
        except neo4j.exceptions.TransientError as exc:
            raise GraphUnavailable(f"{self.where} is temporarily unavailable: {exc.code}") from exc
        except neo4j.exceptions.ClientError as exc:
            if "TransactionTimedOut" in (exc.code or ""):
                raise GraphUnavailable(f"{self.where}: query timed out") from exc
            raise

    def run(self, query: str, params: Mapping[str, Any] | None = None, *, write: bool = False) -> list[dict[str, Any]]:
        """Wykonuje zapytanie w zarządzanej transakcji (ponawianej przy błędach przejściowych)."""
        routing = neo4j.RoutingControl.WRITE if write else neo4j.RoutingControl.READ
        with self.errors():
            records, _, _ = self.driver.execute_query(
                neo4j.Query(query, timeout=QUERY_TIMEOUT), dict(params or {}), routing_=routing, database_=self.database
            )
        return [record.data() for record in records]

    def bootstrap(self) -> None:
        """Ograniczenia unikalności i indeksy z IF NOT EXISTS; czeka, aż będą gotowe."""
        statements = (
            "CREATE CONSTRAINT project_id IF NOT EXISTS FOR (n:Project) REQUIRE n.id IS UNIQUE",
            "CREATE CONSTRAINT persona_id IF NOT EXISTS FOR (n:Persona) REQUIRE n.id IS UNIQUE",
            "CREATE CONSTRAINT concept_id IF NOT EXISTS FOR (n:Concept) REQUIRE n.id IS UNIQUE",
            "CREATE INDEX persona_project_id IF NOT EXISTS FOR (n:Persona) ON (n.project_id)",
            "CREATE INDEX concept_project_id IF NOT EXISTS FOR (n:Concept) ON (n.project_id)",
            "CREATE CONSTRAINT focus_group_id IF NOT EXISTS FOR (n:FocusGroup) REQUIRE n.id IS UNIQUE",
            "CREATE CONSTRAINT emotion_id IF NOT EXISTS FOR (n:Emotion) REQUIRE n.id IS UNIQUE",
            "CREATE INDEX emotion_project_id IF NOT EXISTS FOR (n:Emotion) ON (n.project_id)",
            "CREATE INDEX mentioned_focus_group_id IF NOT EXISTS FOR ()-[r:MENTIONED]-() ON (r.focus_group_id)",
            "CREATE INDEX responded_focus_group_id IF NOT EXISTS FOR ()-[r:RESPONDED_TO]-() ON (r.focus_group_id)",
            "CREATE INDEX felt_focus_group_id IF NOT EXISTS FOR ()-[r:FELT]-() ON (r.focus_group_id)",
            "CREATE INDEX doc_entity_id IF NOT EXISTS FOR (n:DocEntity) ON (n.id)",
            "CREATE INDEX doc_entity_project_id IF NOT EXISTS FOR (n:DocEntity) ON (n.project_id)",
            "CREATE INDEX doc_chunk_id IF NOT EXISTS FOR (n:DocChunk) ON (n.id)",
            "CREATE INDEX doc_chunk_project_id IF NOT EXISTS FOR (n:DocChunk) ON (n.project_id)",
            "CALL db.awaitIndexes(60)",
        )
        for statement in statements:
            self.run(statement, write=True)

    def ping(self) -> None:
        """RETURN 1 w sesji bez ponawiania: stan zdrowia ma odpowiadać szybko."""
        with self.errors(), self.driver.session(database=self.database) as session:
            session.run("RETURN 1").consume()

    def close(self) -> None:
        """Zamyka sterownik i jego pulę połączeń."""
        with contextlib.suppress(Exception):
            self.driver.close()


# --- leniwy klient (jeden na proces, bezpieczny wątkowo) --------------------------------------------------------

_lock = threading.Lock()
_client: dict[str, Any] = {"key": None, "adapter": None}


def _config_key() -> tuple[Any, ...]:
    # PID w kluczu: proces potomny (fork workera RQ) nigdy nie używa połączeń rodzica.
    if settings.GRAPH_BACKEND == "neo4j":
        return (
            os.getpid(),
            "neo4j",
            settings.NEO4J_URI,
            settings.NEO4J_USER,
            settings.NEO4J_PASSWORD,
            settings.NEO4J_DATABASE,
        )
    return (os.getpid(), "falkordb", settings.FALKORDB_URL, settings.GRAPH_NAME)


def _adapter() -> Adapter:
    """Klient grafu dla bieżących ustawień; budowany raz, przebudowany, gdy ustawienia się zmienią."""
    key = _config_key()
    with _lock:
        if _client["key"] != key:
            old, same_process = _client["adapter"], _client["key"] is not None and _client["key"][0] == key[0]
            _client.update(key=None, adapter=None)
            if old is not None and same_process:
                old.close()
            if key[1] == "neo4j":
                adapter: Adapter = Neo4jAdapter(
                    settings.NEO4J_URI, settings.NEO4J_USER, settings.NEO4J_PASSWORD, settings.NEO4J_DATABASE
                )
            else:
                adapter = FalkorDBAdapter(settings.FALKORDB_URL, settings.GRAPH_NAME)
            _client.update(key=key, adapter=adapter)
        return _client["adapter"]


def _ready() -> Adapter:
    """Klient z utworzonymi indeksami i ograniczeniami (bootstrap raz na klienta)."""
    adapter = _adapter()
    if not adapter.bootstrapped:
        with adapter.lock:
            if not adapter.bootstrapped:
                adapter.bootstrap()
                adapter.bootstrapped = True
    return adapter


def _run(query: str, params: Mapping[str, Any] | None = None, *, write: bool = False) -> list[dict[str, Any]]:
    return _ready().run(query, params, write=write)


def close() -> None:
    """Zamyka i zapomina klienta (testy, zmiana ustawień, koniec procesu)."""
    with _lock:
        adapter, key = _client["adapter"], _client["key"]
        _client.update(key=None, adapter=None)
    if adapter is not None and key[0] == os.getpid():  # połączeń rodzica po fork nie zamykamy
        adapter.close()


def bootstrap() -> None:
    """Tworzy indeksy i ograniczenia grafu (idempotentne; funkcje domenowe wołają to same przy pierwszym użyciu)."""
    adapter = _adapter()
    with adapter.lock:
        adapter.bootstrap()
        adapter.bootstrapped = True


def health() -> dict[str, Any]:
    """Stan połączenia z grafem: {"ok": True} albo {"ok": False, "error": ...}."""
    try:
        _adapter().ping()
    except GraphUnavailable as exc:
        return {"ok": False, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - stan usługi ma zostać zgłoszony, nie wywrócić stopkę
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"ok": True}


# --- pomocnicze -----------------------------------------------------------------------------------------------


def write_or_defer(write: Callable[[], None], what: str) -> str:
    """Zapis do grafu po zapisaniu wyników w PostgreSQL: "ok" albo "unavailable", gdy serwer grafu nie odpowiada
    (PostgreSQL ma wszystko; `manage.py rebuild_graph` dopisze to później). `what` nazywa obiekt w dzienniku.
    """
    try:
        write()
    except GraphUnavailable as exc:
        log.warning("graph unavailable after writing %s: %s", what, exc)
        return "unavailable"
    return "ok"


def now_ms() -> int:
    """Bieżący czas w milisekundach epoki (jedyny przenośny zapis czasu w grafie)."""
    return int(time.time() * 1000)


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for chunk in itertools.batched(rows, BATCH_SIZE):
        yield list(chunk)


def _property_name(key: Any) -> str:
    return re.sub(r"[^a-z0-9_]+", "_", str(key).casefold()).strip("_") or "value"


def _flatten(prefix: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Zagnieżdżony słownik → płaskie właściwości `prefix_klucz[_podklucz]` o wartościach skalarnych."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}_{_property_name(key)}"
        if isinstance(value, Mapping):
            flat.update(_flatten(name, value))
        elif isinstance(value, bool | int | str) or (isinstance(value, float) and math.isfinite(value)):
            flat[name] = value
        elif value is not None:
            flat[name] = str(value)
    return flat


def _delete_in_batches(query: str, params: dict[str, Any]) -> int:
    """Usuwa po BATCH_SIZE na raz (zapytanie kończy się `RETURN count(*) AS deleted`), aż nic nie zostanie."""
    total = 0
    while deleted := _run(query, {**params, "batch": BATCH_SIZE}, write=True)[0]["deleted"]:
        total += deleted
    return total


# --- funkcje domenowe -----------------------------------------------------------------------------------------


def upsert_project(project_id: uuid.UUID | str, name: str, language: str) -> None:
    """Tworzy albo aktualizuje węzeł projektu."""
    _run(
        "MERGE (p:Project {id: $id}) SET p.name = $name, p.language = $language, p.updated_at = $now",
        {"id": str(project_id), "name": name, "language": language, "now": now_ms()},
        write=True,
    )


def clear_project(project_id: uuid.UUID | str) -> None:
    """Usuwa persony, grupy, pojęcia, emocje, encje i fragmenty dokumentów z ich relacjami; węzeł projektu zostaje."""
    params = {"project_id": str(project_id)}
    for label in ("Persona", "FocusGroup", "Concept", "Emotion", "DocEntity", "DocChunk"):
        _delete_in_batches(
            f"MATCH (n:{label} {{project_id: $project_id}}) WITH n LIMIT $batch DETACH DELETE n "
            "RETURN count(*) AS deleted",
            params,
        )


def delete_project(project_id: uuid.UUID | str) -> None:
    """Usuwa projekt z grafu razem z całą jego zawartością."""
    clear_project(project_id)
    _run("MATCH (p:Project {id: $id}) DETACH DELETE p", {"id": str(project_id)}, write=True)


def upsert_personas(project_id: uuid.UUID | str, rows: Iterable[Mapping[str, Any]]) -> int:
    """Zapisuje persony (id, name, segment, demographics → właściwości `demo_*`); zastępuje poprzednie właściwości."""
    pid, now = str(project_id), now_ms()
    props = {}
    for row in rows:  # ostatni wiersz o danym id wygrywa, jak w Neo4j; FalkorDB nie łączy duplikatów w jednym UNWIND
        persona_id = str(row["id"])
        base = {
            "id": persona_id,
            "project_id": pid,
            "name": str(row.get("name") or ""),
            "segment": str(row.get("segment") or ""),
            "updated_at": now,
        }
        props[persona_id] = {**_flatten("demo", row.get("demographics") or {}), **base}
    for chunk in _chunks({"id": key, "props": value} for key, value in props.items()):
        _run("UNWIND $rows AS row MERGE (p:Persona {id: row.id}) SET p = row.props", {"rows": chunk}, write=True)
    return len(props)


def project_personas(project_id: uuid.UUID | str) -> list[dict[str, Any]]:
    """Właściwości person projektu (z płaskimi `demo_*`), posortowane po nazwie."""
    rows = _run(
        "MATCH (p:Persona {project_id: $project_id}) RETURN properties(p) AS persona ORDER BY p.name, p.id",
        {"project_id": str(project_id)},
    )
    return [dict(row["persona"]) for row in rows]


def _emotion_id(project_id: str, key: str) -> str:
    return str(uuid.uuid5(CONCEPT_NAMESPACE, f"{project_id}\x00emotion\x00{key}"))


def clear_focus_group(project_id: uuid.UUID | str, focus_group_id: uuid.UUID | str) -> None:
    """Usuwa grupę z grafu: jej relacje-dowody, węzeł grupy oraz pojęcia i emocje, do których nic już nie prowadzi."""
    params = {"project_id": str(project_id), "focus_group_id": str(focus_group_id)}
    for rel in ("MENTIONED", "RESPONDED_TO", "FELT", "TOOK_PART"):
        _delete_in_batches(
            f"MATCH (:Persona {{project_id: $project_id}})-[r:{rel} {{focus_group_id: $focus_group_id}}]->() "
            "WITH r LIMIT $batch DELETE r RETURN count(*) AS deleted",
            params,
        )
    _run("MATCH (f:FocusGroup {id: $focus_group_id}) DETACH DELETE f", params, write=True)
    for label in ("Concept", "Emotion"):
        _delete_in_batches(
            f"MATCH (n:{label} {{project_id: $project_id}}) WHERE NOT (n)<--() WITH n LIMIT $batch DETACH DELETE n "
            "RETURN count(*) AS deleted",
            params,
        )


def write_focus_group(project_id: uuid.UUID | str, focus_group: Mapping[str, Any], evidence: Mapping[str, Any]) -> None:
    """Zastępuje grupę w grafie: uczestnicy, pojęcia i po jednej relacji na dowód (wypowiedź, cytat).

    `focus_group`: id, name. `evidence`: participants (id, name, segment), concepts (id, key, name), mentions
    (persona_id, concept_id, turn_id, seq, question_index, stance, quote), relations (persona_id, target_persona_id,
    turn_id, target_turn_id, seq, question_index, relation), emotions (persona_id, emotion, turn_id, seq,
    question_index). Liczności są zawsze liczone z relacji, nigdy nie zwiększane, więc powtórka daje ten sam graf.
    """
    pid, fgid = str(project_id), str(focus_group["id"])
    params = {"project_id": pid, "focus_group_id": fgid}
    clear_focus_group(pid, fgid)
    _run(
        "MERGE (f:FocusGroup {id: $focus_group_id}) SET f.project_id = $project_id, f.name = $name",
        {**params, "name": str(focus_group.get("name") or "")},
        write=True,
    )
    people = {str(row["id"]): row for row in evidence.get("participants", ())}
    statements = (
        (
            "UNWIND $rows AS row MERGE (p:Persona {id: row.id}) "
            "ON CREATE SET p.project_id = $project_id, p.name = row.name, p.segment = row.segment "
            "WITH p, row MATCH (f:FocusGroup {id: $focus_group_id}) CREATE (p)-[:TOOK_PART {focus_group_id: "
            "$focus_group_id}]->(f)",
            [
                {"id": k, "name": str(v.get("name") or ""), "segment": str(v.get("segment") or "")}
                for k, v in people.items()
            ],
        ),
        (
            "UNWIND $rows AS row MERGE (c:Concept {id: row.id}) "
            "SET c.project_id = $project_id, c.key = row.key, c.name = row.name",
            list(
                {
                    str(c["id"]): {"id": str(c["id"]), "key": c["key"], "name": c["name"]}
                    for c in evidence.get("concepts", ())
                }.values()
            ),
        ),
        (
            "UNWIND $rows AS row MERGE (e:Emotion {id: row.id}) SET e.project_id = $project_id, e.key = row.key",
            list(
                {
                    e["emotion"]: {"id": _emotion_id(pid, e["emotion"]), "key": e["emotion"]}
                    for e in evidence.get("emotions", ())
                }.values()
            ),
        ),
        (
            "UNWIND $rows AS row MATCH (p:Persona {id: row.persona_id}) MATCH (c:Concept {id: row.concept_id}) "
            "CREATE (p)-[:MENTIONED {focus_group_id: $focus_group_id, turn_id: row.turn_id, seq: row.seq, "
            "question_index: row.question_index, stance: row.stance, quote: row.quote}]->(c)",
            [
                _evidence(row, "persona_id", "concept_id", "turn_id", "seq", "question_index", "stance", "quote")
                for row in evidence.get("mentions", ())
            ],
        ),
        (
            "UNWIND $rows AS row MATCH (a:Persona {id: row.persona_id}) MATCH (b:Persona {id: row.target_persona_id}) "
            "CREATE (a)-[:RESPONDED_TO {focus_group_id: $focus_group_id, turn_id: row.turn_id, target_turn_id: "
            "row.target_turn_id, seq: row.seq, question_index: row.question_index, relation: row.relation}]->(b)",
            [
                _evidence(
                    row,
                    "persona_id",
                    "target_persona_id",
                    "turn_id",
                    "target_turn_id",
                    "seq",
                    "question_index",
                    "relation",
                )
                for row in evidence.get("relations", ())
            ],
        ),
        (
            "UNWIND $rows AS row MATCH (p:Persona {id: row.persona_id}) MATCH (e:Emotion {id: row.emotion_id}) "
            "CREATE (p)-[:FELT {focus_group_id: $focus_group_id, turn_id: row.turn_id, seq: row.seq, "
            "question_index: row.question_index}]->(e)",
            [
                {
                    **_evidence(row, "persona_id", "turn_id", "seq", "question_index"),
                    "emotion_id": _emotion_id(pid, row["emotion"]),
                }
                for row in evidence.get("emotions", ())
            ],
        ),
    )
    for query, rows in statements:
        for chunk in _chunks(rows):
            _run(query, {**params, "rows": chunk}, write=True)


def _evidence(row: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """Właściwości relacji-dowodu: identyfikatory jako tekst, brak pytania to -1 (null w CREATE nie jest przenośny)."""
    out: dict[str, Any] = {}
    for name in names:
        value = row.get(name)
        if name == "question_index":
            out[name] = -1 if value is None else int(value)
        elif name in ("seq", "turn_id", "target_turn_id"):
            out[name] = int(value)
        elif name == "stance":
            out[name] = max(-1.0, min(1.0, float(value))) if value is not None and math.isfinite(float(value)) else 0.0
        else:
            out[name] = str(value)
    return out


def focus_group_concepts(project_id: uuid.UUID | str, focus_group_id: uuid.UUID | str) -> list[dict[str, Any]]:
    """Pojęcia grupy z grafu z licznościami policzonymi z relacji: id, name, mentions, personas, stance (średnia)."""
    rows = _run(
        "MATCH (p:Persona {project_id: $project_id})-[m:MENTIONED {focus_group_id: $focus_group_id}]->(c:Concept) "
        "RETURN c.id AS id, c.name AS name, count(m) AS mentions, count(DISTINCT p) AS personas, "
        "avg(m.stance) AS stance ORDER BY mentions DESC, name ASC",
        {"project_id": str(project_id), "focus_group_id": str(focus_group_id)},
    )
    return [{**row, "stance": round(row["stance"], 4)} for row in rows]


def focus_group_mentions(project_id: uuid.UUID | str, focus_group_id: uuid.UUID | str) -> list[dict[str, Any]]:
    """Dowody wzmianek grupy w kolejności wypowiedzi: persona, pojęcie, wypowiedź (turn_id, seq), nastawienie, cytat."""
    return _run(
        "MATCH (p:Persona {project_id: $project_id})-[m:MENTIONED {focus_group_id: $focus_group_id}]->(c:Concept) "
        "RETURN p.id AS persona_id, c.id AS concept_id, c.name AS concept, m.turn_id AS turn_id, m.seq AS seq, "
        "m.question_index AS question_index, m.stance AS stance, m.quote AS quote ORDER BY seq, concept",
        {"project_id": str(project_id), "focus_group_id": str(focus_group_id)},
    )


def project_concepts(project_id: uuid.UUID | str, limit: int = 20) -> list[dict[str, Any]]:
    """Pojęcia całego projektu: w ilu grupach padły, ile wzmianek i osób (wszystko liczone z relacji-dowodów)."""
    return _run(
        "MATCH (p:Persona)-[m:MENTIONED]->(c:Concept {project_id: $project_id}) "
        "RETURN c.id AS id, c.name AS name, count(DISTINCT m.focus_group_id) AS focus_groups, count(m) AS mentions, "
        "count(DISTINCT p) AS personas ORDER BY focus_groups DESC, mentions DESC, name ASC LIMIT $limit",
        {"project_id": str(project_id), "limit": int(limit)},
    )


COUNT_NAMES = ("projects", "focus_groups", "personas", "concepts", "emotions", "mentions", "responses", "feelings")


def counts(project_id: uuid.UUID | str) -> dict[str, int]:
    """Liczba węzłów i relacji projektu w grafie (projects 0/1, focus_groups, personas, concepts, emotions, mentions,
    responses, feelings).
    """
    params = {"project_id": str(project_id)}
    nodes = _run(
        "OPTIONAL MATCH (pr:Project {id: $project_id}) WITH count(pr) AS projects "
        "OPTIONAL MATCH (f:FocusGroup {project_id: $project_id}) WITH projects, count(f) AS focus_groups "
        "OPTIONAL MATCH (p:Persona {project_id: $project_id}) WITH projects, focus_groups, count(p) AS personas "
        "OPTIONAL MATCH (c:Concept {project_id: $project_id}) "
        "WITH projects, focus_groups, personas, count(c) AS concepts "
        "OPTIONAL MATCH (e:Emotion {project_id: $project_id}) "
        "RETURN projects, focus_groups, personas, concepts, count(e) AS emotions",
        params,
    )[0]
    edges = _run(
        "OPTIONAL MATCH (:Persona {project_id: $project_id})-[m:MENTIONED]->() WITH count(m) AS mentions "
        "OPTIONAL MATCH (:Persona {project_id: $project_id})-[r:RESPONDED_TO]->() "
        "WITH mentions, count(r) AS responses "
        "OPTIONAL MATCH (:Persona {project_id: $project_id})-[e:FELT]->() "
        "RETURN mentions, responses, count(e) AS feelings",
        params,
    )[0]
    return {name: {**nodes, **edges}[name] for name in COUNT_NAMES}


def totals(project_id: uuid.UUID | str) -> dict[str, int]:
    """Wszystkie węzły projektu i wszystkie relacje wychodzące z nich, bez względu na etykietę i typ (sprawdzian, że
    odbudowa daje ten sam graf).
    """
    params = {"project_id": str(project_id)}
    nodes = _run("MATCH (n {project_id: $project_id}) RETURN count(n) AS n", params)[0]["n"]
    edges = _run("MATCH ({project_id: $project_id})-[r]->() RETURN count(r) AS n", params)[0]["n"]
    project = _run("MATCH (n:Project {id: $project_id}) RETURN count(n) AS n", params)[0]["n"]
    return {"nodes": nodes + project, "edges": edges}


def _graph_project_ids() -> set[str]:
    rows = _run(
        "MATCH (n:Project) RETURN n.id AS id UNION MATCH (n:Persona) RETURN n.project_id AS id "
        "UNION MATCH (n:Concept) RETURN n.project_id AS id UNION MATCH (n:FocusGroup) RETURN n.project_id AS id "
        "UNION MATCH (n:DocEntity) RETURN n.project_id AS id"
    )
    return {row["id"] for row in rows if row["id"] is not None}


RebuildStep = Callable[["Project"], None]
REBUILD_STEPS: list[RebuildStep] = []


def rebuild_step(func: RebuildStep) -> RebuildStep:
    """Rejestruje krok odbudowy projektu: aplikacja zapisuje w grafie swoją część (np. persony) z PostgreSQL."""
    if func not in REBUILD_STEPS:
        REBUILD_STEPS.append(func)
    return func


def rebuild_project(project: Project) -> dict[str, int]:
    """Przepisuje jeden projekt z PostgreSQL do grafu (czyści jego zawartość i zapisuje od nowa)."""
    clear_project(project.id)
    upsert_project(project.id, project.name, project.language)
    # Kroki aplikacji z `<app>/graph.py`: persony, potem grupy fokusowe z pojęciami z PostgreSQL.
    for step in REBUILD_STEPS:
        step(project)
    return counts(project.id)


def rebuild_from_database(project_id: uuid.UUID | str | None = None) -> dict[str, int]:
    """Odbudowuje graf z PostgreSQL (jeden projekt albo wszystkie, usuwając projekty, których już nie ma); zwraca
    sumy.
    """
    from sight.models import Project

    bootstrap()
    projects = Project.objects.all() if project_id is None else Project.objects.filter(id=project_id)
    totals = dict.fromkeys(COUNT_NAMES, 0)
    seen: set[str] = set()
    for project in projects.iterator():
        seen.add(str(project.id))
        for name, value in rebuild_project(project).items():
            totals[name] += value
    stale = _graph_project_ids() - seen if project_id is None else {str(project_id)} - seen
    for pid in stale:
        delete_project(pid)
    totals["removed"] = len(stale)
    return totals
