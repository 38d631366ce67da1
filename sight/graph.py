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
    def search_concepts(self, project_id: str, terms: list[str], limit: int) -> list[dict[str, Any]]: ...
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
        """Indeksy zakresowe, indeks pełnotekstowy i ograniczenia unikalności (powtórka jest bezpieczna)."""
        statements = (
            "CREATE INDEX FOR (n:Project) ON (n.id)",
            "CREATE INDEX FOR (n:Persona) ON (n.id)",
            "CREATE INDEX FOR (n:Persona) ON (n.project_id)",
            "CREATE INDEX FOR (n:Concept) ON (n.id)",
            "CREATE INDEX FOR (n:Concept) ON (n.project_id)",
            "CREATE INDEX FOR ()-[r:MENTIONED]-() ON (r.focus_group_id)",
            "CREATE FULLTEXT INDEX FOR (n:Concept) ON (n.key)",
        )
        for statement in statements:
            self._ignore_existing(lambda s=statement: self.graph.query(s), "already indexed")
        for label in ("Project", "Persona", "Concept"):
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

    def search_concepts(self, project_id: str, terms: list[str], limit: int) -> list[dict[str, Any]]:
        """Pełnotekstowe (RediSearch) po kluczu pojęcia; prefiksy od 2 znaków; wszystkie słowa muszą pasować."""
        query = " ".join(f"{term}*" if len(term) > 1 else term for term in terms)
        rows = self.run(
            "CALL db.idx.fulltext.queryNodes('Concept', $query) YIELD node, score "
            "WHERE node.project_id = $project_id "
            "RETURN node.id AS id, node.name AS name, score ORDER BY score DESC, name ASC LIMIT $limit",
            {"query": query, "project_id": project_id, "limit": limit},
        )
        return relative_scores(rows)

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
        """Ograniczenia unikalności, indeksy i indeks pełnotekstowy z IF NOT EXISTS; czeka, aż będą gotowe."""
        statements = (
            "CREATE CONSTRAINT project_id IF NOT EXISTS FOR (n:Project) REQUIRE n.id IS UNIQUE",
            "CREATE CONSTRAINT persona_id IF NOT EXISTS FOR (n:Persona) REQUIRE n.id IS UNIQUE",
            "CREATE CONSTRAINT concept_id IF NOT EXISTS FOR (n:Concept) REQUIRE n.id IS UNIQUE",
            "CREATE INDEX persona_project_id IF NOT EXISTS FOR (n:Persona) ON (n.project_id)",
            "CREATE INDEX concept_project_id IF NOT EXISTS FOR (n:Concept) ON (n.project_id)",
            "CREATE INDEX mentioned_focus_group_id IF NOT EXISTS FOR ()-[r:MENTIONED]-() ON (r.focus_group_id)",
            "CREATE FULLTEXT INDEX concept_key IF NOT EXISTS FOR (n:Concept) ON EACH [n.key]",
            "CALL db.awaitIndexes(60)",
        )
        for statement in statements:
            self.run(statement, write=True)

    def search_concepts(self, project_id: str, terms: list[str], limit: int) -> list[dict[str, Any]]:
        """Pełnotekstowe (Lucene) po kluczu pojęcia; słowa jako prefiksy połączone AND."""
        query = " AND ".join(f"{term}*" for term in terms)
        rows = self.run(
            "CALL db.index.fulltext.queryNodes('concept_key', $query) YIELD node, score "
            "WHERE node.project_id = $project_id "
            "RETURN node.id AS id, node.name AS name, score ORDER BY score DESC, name ASC LIMIT $limit",
            {"query": query, "project_id": project_id, "limit": limit},
        )
        return relative_scores(rows)

    def ping(self) -> None:
        """RETURN 1 w sesji bez ponawiania: stan zdrowia ma odpowiadać szybko."""
        with self.errors(), self.driver.session(database=self.database) as session:
            session.run("RETURN 1").consume()

    def close(self) -> None:
        """Zamyka sterownik i jego pulę połączeń."""
        with contextlib.suppress(Exception):
            self.driver.close()


def relative_scores(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Wyniki pełnotekstowe obu silników (większy = lepszy, skala dowolna) → (0, 1] względem najlepszego."""
    best = max((row["score"] for row in rows), default=0.0) or 1.0
    return [{**row, "score": round(row["score"] / best, 4)} for row in rows]


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


def now_ms() -> int:
    """Bieżący czas w milisekundach epoki (jedyny przenośny zapis czasu w grafie)."""
    return int(time.time() * 1000)


def _chunks(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for chunk in itertools.batched(rows, BATCH_SIZE):
        yield list(chunk)


def concept_key(name: str) -> str:
    """Klucz pojęcia: małe litery, pojedyncze spacje, bez interpunkcji na brzegach („Cena.” i „ cena” to jedno)."""
    return " ".join(str(name).split()).casefold().strip(" .,;:!?\"'()[]{}«»„”-–—")[:200]


def _concept_id(project_id: str, key: str) -> str:
    return str(uuid.uuid5(CONCEPT_NAMESPACE, f"{project_id}\x00{key}"))


def _sentiment(value: Any) -> float | None:
    """Sentyment w [-1, 1]; brak albo wartość nieskończona → None (średnie go pomijają)."""
    if value is None:
        return None
    number = float(value)
    return None if not math.isfinite(number) else max(-1.0, min(1.0, number))


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
    """Usuwa persony, pojęcia i wzmianki projektu; węzeł projektu zostaje."""
    params = {"project_id": str(project_id)}
    _delete_in_batches(
        "MATCH (n:Persona {project_id: $project_id}) WITH n LIMIT $batch DETACH DELETE n RETURN count(*) AS deleted",
        params,
    )
    _delete_in_batches(
        "MATCH (n:Concept {project_id: $project_id}) WITH n LIMIT $batch DETACH DELETE n RETURN count(*) AS deleted",
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


def upsert_concepts(
    project_id: uuid.UUID | str, focus_group_id: uuid.UUID | str, mentions: Iterable[Mapping[str, Any]]
) -> int:
    """Zapisuje wzmianki (persona_id, concept, sentiment, seq[, at]): Persona-[:MENTIONED]->Concept, jedna na turę i
    pojęcie.
    """
    pid, fgid, now = str(project_id), str(focus_group_id), now_ms()
    rows: dict[tuple[str, str, int], dict[str, Any]] = {}
    names: dict[str, str] = {}  # pierwsza pisownia pojęcia w partii staje się jego nazwą
    for mention in mentions:
        key = concept_key(mention["concept"])
        if not key:
            continue
        row = {
            "concept_id": _concept_id(pid, key),
            "key": key,
            "name": names.setdefault(key, " ".join(str(mention["concept"]).split())[:200]),
            "persona_id": str(mention["persona_id"]),
            "seq": int(mention["seq"]),
            "sentiment": _sentiment(mention.get("sentiment")),
            "at": int(mention.get("at") or now),
        }
        rows.setdefault((row["persona_id"], row["concept_id"], row["seq"]), row).update(
            sentiment=row["sentiment"], at=row["at"]
        )
    query = (
        "UNWIND $rows AS row "
        "MERGE (c:Concept {id: row.concept_id}) "
        "ON CREATE SET c.project_id = $project_id, c.key = row.key, c.name = row.name, c.created_at = $now "
        "MERGE (p:Persona {id: row.persona_id}) "
        "ON CREATE SET p.project_id = $project_id "
        "MERGE (p)-[m:MENTIONED {focus_group_id: $focus_group_id, seq: row.seq}]->(c) "
        "SET m.sentiment = row.sentiment, m.at = row.at"
    )
    # FalkorDB stosuje SET/ON CREATE dla powtórzeń klucza MERGE w jednym UNWIND inaczej niż Neo4j, więc relacje
    # są już bez duplikatów, a każdy wiersz danego pojęcia niesie te same wartości — wynik nie zależy od silnika.
    for chunk in _chunks(rows.values()):
        _run(query, {"rows": chunk, "project_id": pid, "focus_group_id": fgid, "now": now}, write=True)
    return len(rows)


def clear_focus_group(project_id: uuid.UUID | str, focus_group_id: uuid.UUID | str) -> None:
    """Usuwa wzmianki z grupy fokusowej i pojęcia, o których nikt już nie wspomina (przed ponowną ekstrakcją)."""
    params = {"project_id": str(project_id), "focus_group_id": str(focus_group_id)}
    _delete_in_batches(
        "MATCH (:Concept {project_id: $project_id})<-[m:MENTIONED "
        "{focus_group_id: $focus_group_id}]-() WITH m LIMIT $batch DELETE m RETURN count(*) AS "
        "deleted",
        params,
    )
    _delete_in_batches(
        "MATCH (c:Concept {project_id: $project_id}) WHERE NOT (c)<-[:MENTIONED]-() WITH c LIMIT "
        "$batch DETACH DELETE c RETURN count(*) AS deleted",
        params,
    )


def project_concepts(project_id: uuid.UUID | str, limit: int = 20) -> list[dict[str, Any]]:
    """Najczęściej wspominane pojęcia: id, name, mentions, personas, sentiment (średni, None gdy nieznany)."""
    rows = _run(
        "MATCH (p:Persona)-[m:MENTIONED]->(c:Concept {project_id: $project_id}) "
        "RETURN c.id AS id, c.name AS name, count(m) AS mentions, count(DISTINCT p) AS personas, "
        "avg(m.sentiment) AS sentiment "
        "ORDER BY mentions DESC, name ASC LIMIT $limit",
        {"project_id": str(project_id), "limit": int(limit)},
    )
    return [{**row, "sentiment": None if row["sentiment"] is None else round(row["sentiment"], 4)} for row in rows]


def persona_agreements(project_id: uuid.UUID | str, limit: int = 20) -> list[dict[str, Any]]:
    """Pary person o wspólnych pojęciach: shared, agree (ten sam znak sentymentu), disagree (przeciwny)."""
    return _run(
        "MATCH (a:Persona {project_id: $project_id})-[ma:MENTIONED]->(c:Concept)<-[mb:MENTIONED]-(b:Persona) "
        "WHERE a.id < b.id "
        "WITH a, b, c, avg(ma.sentiment) AS sa, avg(mb.sentiment) AS sb "
        "WITH a, b, count(c) AS shared, "
        "sum(CASE WHEN sa * sb > 0 THEN 1 ELSE 0 END) AS agree, sum(CASE WHEN sa * sb < 0 THEN 1 "
        "ELSE 0 END) AS disagree "
        "RETURN a.id AS persona_a, b.id AS persona_b, shared, agree, disagree "
        "ORDER BY shared DESC, agree DESC, persona_a, persona_b LIMIT $limit",
        {"project_id": str(project_id), "limit": int(limit)},
    )


def search_concepts(project_id: uuid.UUID | str, text: str, limit: int = 10) -> list[dict[str, Any]]:
    """Pojęcia projektu pasujące do tekstu (pełnotekstowo, prefiksy słów): id, name, score w (0, 1]."""
    terms = re.findall(r"\w+", text.casefold())[:10]  # tylko słowa: składnia Lucene/RediSearch nie przecieka z danych
    return _ready().search_concepts(str(project_id), terms, int(limit)) if terms else []


def counts(project_id: uuid.UUID | str) -> dict[str, int]:
    """Liczba węzłów i relacji projektu w grafie: projects (0/1), personas, concepts, mentions."""
    return _run(
        "OPTIONAL MATCH (pr:Project {id: $project_id}) WITH count(pr) AS projects "
        "OPTIONAL MATCH (p:Persona {project_id: $project_id}) WITH projects, count(p) AS personas "
        "OPTIONAL MATCH (c:Concept {project_id: $project_id}) WITH projects, personas, count(c) AS concepts "
        "OPTIONAL MATCH (:Concept {project_id: $project_id})<-[m:MENTIONED]-() "
        "RETURN projects, personas, concepts, count(m) AS mentions",
        {"project_id": str(project_id)},
    )[0]


def _graph_project_ids() -> set[str]:
    rows = _run(
        "MATCH (n:Project) RETURN n.id AS id UNION MATCH (n:Persona) RETURN n.project_id AS id "
        "UNION MATCH (n:Concept) RETURN n.project_id AS id"
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
    # Kroki aplikacji z `<app>/graph.py`; wzmianki o pojęciach dojdą tak samo, gdy ekstrakcja zapisze je w PostgreSQL.
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
    totals = {"projects": 0, "personas": 0, "concepts": 0, "mentions": 0}
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
