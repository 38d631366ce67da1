"""Graf pojęć do oglądania: węzły, krawędzie z dowodami i filtry na rozmowie o znanym przebiegu, API, strona z
dołączoną biblioteką i bez skryptów w treści, tabela, eksporty CSV/JSON, dostęp tylko dla właściciela, stała liczba
zapytań.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from focus_groups import concept_map
from focus_groups.concept_map import GraphFilters
from focus_groups.models import Concept
from tests.factories import api_client, create_token, create_user
from tests.test_concepts import discussion, influence_story, mention, say

pytestmark = pytest.mark.django_db

VENDOR = Path(settings.BASE_DIR) / "static" / "vendor" / "cytoscape-3.35.0"


def story() -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Rozmowa z `influence_story` i wzmiankami: Bartek za aplikacją, Celina przeciw aplikacji i cenie, Anna pośrodku.

    Anna i Celina to segment „młodzi”, Bartek i Dawid „starsi”. Anna zgadza się z Bartkiem (a1), nie zgadza z Celiną
    (a2, które rozwija b1), Dawid zwraca się do Anny (d1); w pytaniu 2 Anna zwraca się do Dawida (a3).
    """
    fg, p, t = influence_story()
    mention(t["b1"], "aplikacja", 0.9, "Aplikacja oszczędza")
    mention(t["a1"], "aplikacja", 0.1, "Może masz rację")
    mention(t["c1"], "aplikacja", -0.7, "Aplikacja jest zbyt droga")
    mention(t["c1"], "cena", -0.5, "zbyt droga")
    return fg, p, t


def pid(persona: Any) -> str:
    return f"persona:{persona.id}"


def cid(fg: Any, name: str) -> str:
    return f"concept:{Concept.objects.get(project=fg.project, name=name).id}"


def edges_of(data: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(e["source"], e["type"], e["target"]) for e in data["edges"]}


def test_the_graph_has_personas_concepts_and_segments_with_edges_that_carry_their_evidence():
    fg, p, t = story()
    data = concept_map.concept_graph(fg)
    nodes = {n["id"]: n for n in data["nodes"]}
    assert [(n["kind"], n["label"]) for n in data["nodes"]] == [
        ("persona", "Anna"),
        ("persona", "Bartek"),
        ("persona", "Celina"),
        ("persona", "Dawid"),
        ("concept", "aplikacja"),
        ("concept", "cena"),
        ("segment", "młodzi"),
        ("segment", "starsi"),
    ]
    app, price = nodes[cid(fg, "aplikacja")], nodes[cid(fg, "cena")]
    assert (app["mentions"], app["participants"], app["of_participants"], app["stance"]) == (3, 3, 4, 0.1)
    assert app["stance_class"] == "mixed"  # zwolennik, krytyk i ktoś pośrodku
    assert (price["mentions"], price["stance"], price["stance_class"]) == (1, -0.5, "oppose")
    assert nodes["segment:młodzi"]["participants"] == nodes["segment:młodzi"]["of_participants"] == 2
    app_id, price_id = app["id"], price["id"]
    anna, bartek, celina, dawid = (pid(p[n]) for n in ("Anna", "Bartek", "Celina", "Dawid"))
    assert edges_of(data) == {
        (anna, "stance", app_id),
        (bartek, "stance", app_id),
        (celina, "stance", app_id),
        (celina, "stance", price_id),
        (anna, "agree", bartek),
        (anna, "disagree", celina),
        (anna, "builds_on", bartek),
        (dawid, "addressed", anna),
        (anna, "addressed", dawid),
        *{(pid(p[n]), "member", f"segment:{s}") for n, s in (("Anna", "młodzi"), ("Celina", "młodzi"))},
        *{(pid(p[n]), "member", f"segment:{s}") for n, s in (("Bartek", "starsi"), ("Dawid", "starsi"))},
    }
    by_key = {(e["source"], e["type"], e["target"]): e for e in data["edges"]}
    critic = by_key[(celina, "stance", app_id)]
    assert (critic["stance"], critic["stance_class"], critic["count"]) == (-0.7, "oppose", 1)
    assert critic["evidence"] == [
        {
            "turn_id": t["c1"].id,
            "seq": t["c1"].seq,
            "question_index": 0,
            "persona_id": str(p["Celina"].id),
            "name": "Celina",
            "quote": "Aplikacja jest zbyt droga",
            "stance": -0.7,
            "url": f"/focus-groups/{fg.id}/#event-{t['c1'].seq}",
        }
    ]
    assert by_key[(bartek, "stance", app_id)]["stance_class"] == "support"
    assert by_key[(anna, "stance", app_id)]["stance_class"] == "mixed"
    disagree = by_key[(anna, "disagree", celina)]
    assert [(q["seq"], q["quote"]) for q in disagree["evidence"]] == [(t["a2"].seq, "Celino, nie przesadzaj.")]
    assert by_key[(anna, "builds_on", bartek)]["evidence"][0]["turn_id"] == t["a2"].id
    assert by_key[(anna, "member", "segment:młodzi")]["evidence"] == []
    assert data["omitted_concepts"] == 0
    assert [o["label"] for o in data["options"]["questions"]] == ["Q1. Pytanie 1?", "Q2. Pytanie 2?"]
    assert data["options"]["segments"] == ["młodzi", "starsi"]
    assert [o["label"] for o in data["options"]["concepts"]] == ["aplikacja", "cena"]


def test_filters_by_question_segment_stance_and_concept_and_the_concept_limit():
    fg, p, _t = story()
    anna, bartek, celina, dawid = (pid(p[n]) for n in ("Anna", "Bartek", "Celina", "Dawid"))
    app_id, price_id = cid(fg, "aplikacja"), cid(fg, "cena")

    second = concept_map.concept_graph(fg, GraphFilters(question=1))
    assert {e for e in edges_of(second) if e[1] != "member"} == {(anna, "addressed", dawid)}
    assert {n["kind"] for n in second["nodes"]} == {"persona", "segment"}

    young = concept_map.concept_graph(fg, GraphFilters(segment="młodzi"))
    assert [n["label"] for n in young["nodes"]] == ["Anna", "Celina", "aplikacja", "cena", "młodzi"]
    assert {e for e in edges_of(young) if e[1] != "member"} == {
        (anna, "stance", app_id),
        (celina, "stance", app_id),
        (celina, "stance", price_id),
        (anna, "disagree", celina),
    }

    against = concept_map.concept_graph(fg, GraphFilters(stance="oppose"))
    assert edges_of(against) == {
        (celina, "stance", app_id),
        (celina, "stance", price_id),
        (celina, "member", "segment:młodzi"),
    }
    app = next(n for n in against["nodes"] if n["id"] == app_id)
    assert (app["mentions"], app["stance"], app["stance_class"]) == (1, -0.7, "oppose")

    price = concept_map.concept_graph(fg, GraphFilters(concept=price_id.removeprefix("concept:")))
    assert [n["label"] for n in price["nodes"]] == ["Celina", "cena", "młodzi"]

    supported = concept_map.concept_graph(fg, GraphFilters(stance="support", question=0))
    assert {e for e in edges_of(supported) if e[1] != "member"} == {(bartek, "stance", app_id)}

    top = concept_map.concept_graph(fg, GraphFilters(limit=1))
    assert [n["label"] for n in top["nodes"] if n["kind"] == "concept"] == ["aplikacja"]
    assert top["omitted_concepts"] == 1 and price_id not in {e["target"] for e in top["edges"]}


def test_a_long_turn_is_quoted_by_its_beginning_on_an_edge_between_people():
    fg, p = discussion()
    say(fg, p["Anna"], "Bartku, " + "zgadzam się " * 40, agrees_with=[p["Bartek"]])
    [edge] = [e for e in concept_map.concept_graph(fg)["edges"] if e["type"] == "agree"]
    quote = edge["evidence"][0]["quote"]
    assert len(quote) == concept_map.QUOTE_CHARS and quote.startswith("Bartku, zgadzam się") and quote.endswith("…")


def test_page_filters_ignore_values_outside_the_discussion():
    assert GraphFilters.from_query(
        {"question": "7", "segment": " młodzi ", "stance": "angry", "concept": "x"}, questions=2
    ) == GraphFilters(segment="młodzi")
    assert GraphFilters.from_query({"question": "1", "stance": "mixed"}, questions=2).as_query() == {
        "question": "1",
        "stance": "mixed",
    }


def test_the_graph_takes_a_constant_number_of_queries():
    small, p = discussion()
    mention(say(small, p["Anna"], "Cena."), "cena", 0.5, "Cena")
    big, q = discussion()
    people = list(q.values())
    for i in range(40):
        event = say(big, people[i % 3], f"Cena {i} i jakość.", agrees_with=[people[(i + 1) % 3]])
        mention(event, "cena", 0.5, "Cena")
        mention(event, f"jakość {i % 7}", -0.5, "jakość")
    user, token = create_token()
    for fg in (small, big):
        fg.project.owner = user
        fg.project.save()
    counts = []
    for fg in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            concept_map.concept_graph(fg)
        counts.append(len(ctx.captured_queries))
    assert counts == [4, 4]
    client = api_client(token)
    client.get(f"/api/v1/focus-groups/{small.id}/concept-graph")  # pierwsze użycie tokenu zapisuje last_used_at
    requests = []
    for fg in (small, big):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/api/v1/focus-groups/{fg.id}/concept-graph").status_code == 200
        requests.append(len(ctx.captured_queries))
    assert requests[0] == requests[1]


# --- API --------------------------------------------------------------------------------------------------------------


def test_the_api_serves_the_graph_with_filters_only_to_the_owner():
    user, token = create_token()
    fg, p, t = story()
    fg.project.owner = user
    fg.project.save()
    client = api_client(token)
    body = client.get(f"/api/v1/focus-groups/{fg.id}/concept-graph").json()
    assert body == json.loads(json.dumps(concept_map.concept_graph(fg)))
    assert body["nodes"][4]["kind_label"] == "Concept"
    filtered = client.get(f"/api/v1/focus-groups/{fg.id}/concept-graph?stance=oppose&segment=młodzi&limit=1").json()
    assert [n["label"] for n in filtered["nodes"]] == ["Celina", "aplikacja", "młodzi"]
    assert filtered["filters"] == {"segment": "młodzi", "stance": "oppose", "limit": 1}
    assert filtered["omitted_concepts"] == 1
    assert client.get(f"/api/v1/focus-groups/{fg.id}/concept-graph?stance=angry").status_code == 422
    assert client.get(f"/api/v1/focus-groups/{fg.id}/concept-graph?limit=0").status_code == 422
    assert client.get(f"/api/v1/focus-groups/{fg.id}/concept-graph?segment=a%00b").status_code == 422
    stranger = api_client(create_token()[1])
    assert stranger.get(f"/api/v1/focus-groups/{fg.id}/concept-graph").status_code == 404
    assert Client().get(f"/api/v1/focus-groups/{fg.id}/concept-graph").status_code == 401
    schema = json.loads(client.get("/api/v1/openapi.json").content)
    assert "/api/v1/focus-groups/{focus_group_id}/concept-graph" in schema["paths"]


def test_edges_list_their_first_quotes_and_count_them_all():
    user, token = create_token()
    fg, p, t = story()
    fg.project.owner = user
    fg.project.save()
    again = say(fg, p["Celina"], "Aplikacja naprawdę jest za droga.")
    mention(again, "aplikacja", -0.9, "Aplikacja naprawdę")
    body = api_client(token).get(f"/api/v1/focus-groups/{fg.id}/concept-graph?quotes=1&stance=oppose").json()
    critic = next(e for e in body["edges"] if e["target"] == cid(fg, "aplikacja"))
    assert (critic["count"], critic["stance"], [q["seq"] for q in critic["evidence"]]) == (2, -0.8, [t["c1"].seq])
    node = next(n for n in body["nodes"] if n["id"] == cid(fg, "aplikacja"))
    assert (node["mentions"], node["stance"]) == (2, -0.8)  # liczone ze wszystkich dowodów, nie z pokazanych
    full = concept_map.concept_graph(fg, GraphFilters(stance="oppose"), quotes=None)
    assert [q["seq"] for e in full["edges"] if e["id"] == critic["id"] for q in e["evidence"]] == [
        t["c1"].seq,
        again.seq,
    ]


# --- strona, tabela, eksporty -----------------------------------------------------------------------------------------


def owner_client(fg: Any, language: str = "en") -> Client:
    user = create_user()
    fg.project.owner = user
    fg.project.save()
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def test_the_page_loads_the_vendored_library_passes_data_as_json_and_has_no_inline_script():
    fg, p, t = story()
    client = owner_client(fg)
    response = client.get(f"/focus-groups/{fg.id}/insights/graph/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<script src="/static/vendor/cytoscape-3.35.0/cytoscape.min.js" defer></script>' in html
    assert '<script src="/static/js/concept_graph.js" defer></script>' in html
    for tag in re.findall(r"<script\b[^>]*>", html):  # każdy skrypt z pliku albo dane JSON, nigdy kod w treści
        assert "src=" in tag or 'type="application/json"' in tag, tag
    data = re.search(r'<script id="graph-data" type="application/json">(.*?)</script>', html, re.S)[1]
    assert json.loads(data) == json.loads(json.dumps(concept_map.concept_graph(fg)))
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    # tabela z tą samą treścią: podpis, nagłówki, cytaty z linkami do kotwic transkrypcji
    assert "<caption>Connections of the concept graph with their quotes</caption>" in html
    assert '<th scope="col">Connection</th>' in html
    assert f'<a href="/focus-groups/{fg.id}/#event-{t["c1"].seq}">Celina #{t["c1"].seq}</a>' in html
    assert "disagrees with" in html and "oppose" in html
    assert f'href="/focus-groups/{fg.id}/insights/graph/export/csv/"' in html
    # filtr strony: tylko segment „starsi”, linki eksportu niosą ten filtr
    starsi = client.get(f"/focus-groups/{fg.id}/insights/graph/?segment=starsi").content.decode()
    assert "Celina" not in starsi.split('id="graph-view"')[1] and "Bartek" in starsi
    assert "export/json/?segment=starsi" in starsi
    fragment = client.get(f"/focus-groups/{fg.id}/insights/graph/?stance=oppose", headers={"hx-request": "true"})
    assert fragment.content.decode().lstrip().startswith('<div id="graph-view">')
    insights_page = client.get(f"/focus-groups/{fg.id}/insights/").content.decode()
    assert f'href="/focus-groups/{fg.id}/insights/graph/"' in insights_page


def test_the_page_is_in_polish_and_says_when_nothing_matches_the_filters():
    fg, p = discussion()  # bez analizy: są osoby i segmenty, nie ma pojęć
    client = owner_client(fg, "pl")
    whole = client.get(f"/focus-groups/{fg.id}/insights/graph/").content.decode()
    assert "<h1>Graf pojęć: Grupa</h1>" in whole and "należy do" in whole and "Wszystkie segmenty" in whole
    against = client.get(f"/focus-groups/{fg.id}/insights/graph/?stance=oppose").content.decode()
    assert "Nic nie pasuje do tych filtrów." in against and "data-concept-graph" not in against


def test_the_csv_export_has_a_bom_localised_headers_and_one_row_per_quote():
    fg, p, t = story()
    mention(say(fg, p["Dawid"], "=HYPERLINK(zly)"), "formuła", 0.0, "=HYPERLINK(zly)")
    client = owner_client(fg, "pl")
    response = client.get(f"/focus-groups/{fg.id}/insights/graph/export/csv/?segment=młodzi")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0] == [
        "Od",
        "Od (rodzaj)",
        "Połączenie",
        "Do",
        "Do (rodzaj)",
        "Średnie nastawienie",
        "Nastawienie",
        "Pytanie",
        "Wypowiedź",
        "Mówca",
        "Cytat",
        "Link do transkrypcji",
    ]
    critic = next(r for r in rows if r[3] == "aplikacja" and r[0] == "Celina")
    assert critic == [
        "Celina",
        "Uczestnik",
        "mówi o",
        "aplikacja",
        "Pojęcie",
        "-0.7",
        "przeciw",
        "Q1",
        str(t["c1"].seq),
        "Celina",
        "Aplikacja jest zbyt droga",
        f"http://testserver/focus-groups/{fg.id}/#event-{t['c1'].seq}",
    ]
    assert ["Anna", "Uczestnik", "należy do", "młodzi", "Segment", "", "", "", "", "", "", ""] in rows
    assert not any(r[0] in ("Bartek", "Dawid") for r in rows[1:])  # filtr segmentu
    everyone = client.get(f"/focus-groups/{fg.id}/insights/graph/export/csv/").content.decode("utf-8")
    assert ",'=HYPERLINK(zly)," in everyone  # formuła jako tekst


def test_the_json_export_has_the_same_graph_as_the_api():
    fg, p, t = story()
    client = owner_client(fg)
    response = client.get(f"/focus-groups/{fg.id}/insights/graph/export/json/?question=0")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    body = json.loads(response.content)
    assert body["focus_group"] == {"id": str(fg.id), "name": fg.name}
    expected = json.loads(json.dumps(concept_map.concept_graph(fg, GraphFilters(question=0))))
    assert {k: body[k] for k in expected} == expected
    assert client.get(f"/focus-groups/{fg.id}/insights/graph/export/xml/").status_code == 404


def test_the_page_and_exports_are_only_for_the_owner():
    fg, p, t = story()
    mine = owner_client(discussion()[0])
    for path in ("", "export/csv/", "export/json/"):
        assert mine.get(f"/focus-groups/{fg.id}/insights/graph/{path}").status_code == 404
        assert Client().get(f"/focus-groups/{fg.id}/insights/graph/{path}").status_code == 302


def test_the_vendored_library_is_the_published_file():
    checksums = (VENDOR / "CHECKSUMS").read_text()
    for name in ("cytoscape.min.js", "LICENSE"):
        digest = hashlib.sha256((VENDOR / name).read_bytes()).hexdigest()
        assert f"{digest}  {name}" in checksums
    assert "MIT" in checksums and "Permission is hereby granted" in (VENDOR / "LICENSE").read_text()
