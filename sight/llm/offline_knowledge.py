"""Dostawca `offline` w rolach bazy wiedzy: ekstrakcja grafu z fragmentu, wybór encji z pytania i odpowiedź z
cytowaniami — wszystko tylko z tekstu w bloku danych, deterministycznie.

Encje to frazy z wielkich liter (poza samym początkiem zdania) i słowa powtórzone we fragmencie; relacja to
współwystępowanie w jednym zdaniu (typ „related_to”). Odpowiedź składa się ze zdań fragmentów najbardziej podobnych
do pytania, każde z identyfikatorem swojego fragmentu — nic spoza dokumentów.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

_PASSAGE = re.compile(r"^\[C(\d+)\] \([^\n]*\)\n", re.MULTILINE)
_CLOSING = re.compile(r"\n+DOCS-[0-9a-f]+>>>\s*$")
_UPPER = "A-ZĄĆĘŁŃÓŚŹŻ"
_PHRASE = re.compile(rf"[{_UPPER}][\w&'’-]*(?:[ \t]+[{_UPPER}][\w&'’-]*)*")
_WORD = re.compile(r"[^\W\d_]{6,}")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_ORGANISATION = re.compile(
    r"\b(S\.?A|sp|spółka|bank|grupa|group|inc|ltd|fundacja|instytut|institute|uniwersytet|university|urząd|office)\b",
    re.IGNORECASE,
)
_PLACES = {
    "warszawa", "kraków", "łódź", "wrocław", "poznań", "gdańsk", "szczecin", "lublin", "katowice", "rzeszów",
    "polska", "europa", "niemcy", "london", "chicago", "boston", "seattle", "austin", "denver", "poland", "europe",
}  # fmt: skip
_STOP = {"których", "ponieważ", "również", "jednak", "bardzo", "because", "should", "which", "their", "there"}


def passages(block: str) -> list[tuple[int, str]]:
    """Fragmenty z bloku danych `[C<id>] (źródło)` w kolejności: (id, tekst)."""
    starts = list(_PASSAGE.finditer(block))
    found = []
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(block)
        found.append((int(match.group(1)), _CLOSING.sub("", block[match.end() : end]).strip()))
    return found


def _keys(listing: str) -> list[str]:
    """Klucze typów z „klucz: nazwa; klucz: nazwa”."""
    return [part.split(":", 1)[0].strip() for part in listing.split(";") if part.strip()]


def _type_of(phrase: str, types: list[str]) -> str:
    if "organisation" in types and (_ORGANISATION.search(phrase) or (phrase.isupper() and len(phrase) >= 2)):
        return "organisation"
    if "place" in types and phrase.casefold() in _PLACES:
        return "place"
    return "concept" if "concept" in types else types[-1]


def _phrases(text: str) -> list[str]:
    """Frazy z wielkich liter; pojedyncze słowo na początku zdania tylko, gdy to skrót (same wielkie litery)."""
    found = []
    for match in _PHRASE.finditer(text):
        phrase = match.group().strip(" -'’")
        before = text[: match.start()].rstrip()
        sentence_start = not before or before[-1] in '.!?:\n"„«'
        if sentence_start and " " in phrase:  # „Firma Allegro” na początku zdania: pierwsze słowo to zwykły wyraz
            phrase = phrase.split(None, 1)[1]
        elif sentence_start and not phrase.isupper():
            continue
        if len(phrase) >= 3:
            found.append(phrase[:120])
    return found


def _base_form(phrase: str, language: str) -> str:
    """Nazwa w formie podstawowej (simplemma), z wielką literą tam, gdzie była: „Warszawie” → „Warszawa”."""
    import simplemma

    lang = language if language in ("pl", "en") else "en"
    words = []
    for word in phrase.split():
        lemma = simplemma.lemmatize(word, lang=lang)
        words.append(lemma[:1].upper() + lemma[1:] if word[:1].isupper() else lemma)
    return " ".join(words)[:120]


def extraction(ctx: Any) -> dict[str, Any]:
    """Encje i relacje fragmentu z bloku danych (frazy z wielkich liter, powtórzone słowa, współwystępowanie)."""
    found = passages(ctx.v.get("passage", ""))
    text = found[0][1] if found else ""
    entity_types, relation_types = _keys(ctx.v.get("entity_types", "")), _keys(ctx.v.get("relation_types", ""))
    limit = int(ctx.v.get("max_entities") or 8)
    names: dict[str, str] = {}
    surface: dict[str, str] = {}  # nazwa → forma z tekstu (cytat musi być dosłowny)
    for phrase in _phrases(text):
        name = _base_form(phrase, ctx.language)
        names.setdefault(name.casefold(), name)
        surface.setdefault(name, phrase)
    counts = Counter(w for w in _WORD.findall(text) if w.islower() and w not in _STOP)
    for word, n in counts.most_common():
        if n < 2:
            break
        names.setdefault(word.casefold(), word)
    chosen = list(names.values())[:limit]
    entities = [
        {"name": name, "type": _type_of(name, entity_types), "quote": surface.get(name, name)} for name in chosen
    ]
    relation = "related_to" if "related_to" in relation_types else (relation_types or ["related_to"])[0]
    relations, seen = [], set()
    for sentence in (m.group().strip() for m in _SENTENCE.finditer(text)):
        inside = [name for name in chosen if surface.get(name, name) in sentence]
        for source, target in zip(inside, inside[1:], strict=False):
            if (source, target) not in seen and len(relations) < int(ctx.v.get("max_relations") or 5):
                seen.add((source, target))
                relations.append({"source": source, "target": target, "relation": relation, "quote": sentence[:300]})
    return {"entities": entities, "relations": relations}


def _stems(text: str) -> set[str]:
    """Początki słów (5 liter): „mieszkań” i „mieszkania” mają ten sam."""
    return {w.casefold()[:5] for w in re.findall(r"[^\W\d_]{3,}", text)}


def entity_choice(ctx: Any) -> dict[str, Any]:
    """Encje z listy kandydatów, których słowa padają w pytaniu (kolejność listy)."""
    question = _stems(ctx.v.get("question", ""))
    limit = int(ctx.v.get("max_entities") or 4)
    chosen = []
    for line in ctx.v.get("candidates", "").splitlines():
        name = line.removeprefix("- ").rsplit(" — ", 1)[0].strip()
        if name and _stems(name) & question and name not in chosen:
            chosen.append(name)
    return {"entities": chosen[:limit]}


def knowledge_answer(ctx: Any) -> dict[str, Any]:
    """Odpowiedź złożona ze zdań fragmentów najbardziej podobnych do pytania, każde z identyfikatorem fragmentu."""
    question = _stems(ctx.v.get("question", ""))
    scored = []
    for order, (chunk_id, text) in enumerate(passages(ctx.v.get("passages", ""))):
        sentences = [m.group().strip() for m in _SENTENCE.finditer(text) if len(m.group().strip()) > 20]
        if not sentences:
            continue
        best = max(sentences, key=lambda s: len(_stems(s) & question))
        scored.append((-len(_stems(best) & question), order, chunk_id, best[:300]))
    picked = sorted(scored)[:3]
    if not picked:
        return {
            "answer": ctx.say(
                "Dokumenty projektu nie odpowiadają na to pytanie.", "The project's documents do not answer this."
            ),
            "citations": [],
        }
    lead = ctx.say(
        "Demo offline (bez modelu językowego) — najlepiej pasujące fragmenty mówią: ",
        "Offline demo (no language model) — the best matching passages say: ",
    )
    body = " ".join(f"„{quote}” [C{chunk_id}]" for _score, _order, chunk_id, quote in picked)
    return {
        "answer": (lead + body)[:4000],
        "citations": [{"chunk_id": chunk_id, "quote": quote} for _score, _order, chunk_id, quote in picked],
    }


BUILDERS: dict[tuple[str, str], Callable[[Any], dict[str, Any]]] = {
    ("doc_extraction", "*"): extraction,
    ("knowledge_entities", "*"): entity_choice,
    ("knowledge_answer", "*"): knowledge_answer,
}
