"""Dostawca `offline`: deterministyczne, wiarygodne odpowiedzi bez sieci (ziarno ze skrótu wejścia, słowniki z
config).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import math
import random
import re
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

import config
from sight.llm.base import _messages_text, _ToolBindingMixin, _with_usage
from sight.llm.offline_roles import answer_in_role


@dataclass(frozen=True)
class PromptCall:
    """Prompt, na który odpowiada bieżące wywołanie: nazwa z `config/prompts`, język i zmienne (przed podstawieniem)."""

    name: str
    language: str
    variables: Mapping[str, Any]


_CURRENT_PROMPT: ContextVar[PromptCall | None] = ContextVar("sight_offline_prompt", default=None)


@contextlib.contextmanager
def answering_prompt(name: str | None, language: str, variables: Mapping[str, Any] | None) -> Iterator[None]:
    """Na czas wywołania zapamiętuje prompt (kontekst zadania asyncio), by dostawca offline odpowiadał w jego roli."""
    token = _CURRENT_PROMPT.set(PromptCall(name, language, dict(variables or {})) if name else None)
    try:
        yield
    finally:
        _CURRENT_PROMPT.reset(token)


class OfflineChatModel(_ToolBindingMixin, BaseChatModel):
    """Model `offline`: odpowiedź wyprowadzona ze skrótu wiadomości; schemat wypełniany słownikami z config."""

    role: str = "offline"

    @property
    def _llm_type(self) -> str:
        return "sight-offline"

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        if settings.SIGHT_OFFLINE_LATENCY_MS:
            time.sleep(settings.SIGHT_OFFLINE_LATENCY_MS / 1000)
        return self._answer(messages, kwargs)

    async def _agenerate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        # Opóźnienie jak u serwera modelu: odpowiedź gotowa po stałym czasie od żądania, jej ułożenie w nim się
        # mieści (inaczej fala równoległych odpowiedzi układałaby się po kolei już po upływie opóźnienia).
        started = time.monotonic()
        result = self._answer(messages, kwargs)
        if settings.SIGHT_OFFLINE_LATENCY_MS:
            await asyncio.sleep(max(0.0, settings.SIGHT_OFFLINE_LATENCY_MS / 1000 - (time.monotonic() - started)))
        return result

    def _answer(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> ChatResult:
        tools = kwargs.get("tools") or []
        seed_source = json.dumps([[m.type, m.text] for m in messages] + [tools], sort_keys=True, default=str)
        writer = OfflineWriter(seed_source, _messages_text(messages))
        if tools:
            function = tools[0]["function"]
            parameters = function.get("parameters") or {"type": "object"}
            call = _CURRENT_PROMPT.get()
            # Znany prompt: odpowiedź w roli (moderator, uczestnik, analityk…); pola, których rola nie wypełnia, i
            # nieznane prompty — słownikami jak dotąd.
            # Schemat z polem `sources` (ugruntowany) odpowiada w tej samej roli co bazowy.
            schema_name = function["name"].removeprefix("Grounded").removesuffix("WithSources")
            role_args = answer_in_role(call, schema_name, writer.seed) if call is not None else None
            args = fit_schema(role_args, parameters, writer) if role_args is not None else writer.value(parameters, "")
            if "sources" in (parameters.get("properties") or {}) and isinstance(args, dict):
                args["sources"] = cite_supplied(messages)
            message = AIMessage(
                "",
                tool_calls=[
                    {"name": function["name"], "args": args, "id": f"offline_{writer.seed:x}"[:24], "type": "tool_call"}
                ],
            )
        else:
            message = AIMessage(writer.text("answer", 0, None))
        return ChatResult(generations=[ChatGeneration(message=_with_usage(message, messages))])


_PASSAGE = re.compile(r"^\[(S\d+)\] \([^\n]*\)\n(.*)", re.DOTALL)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n")


def cite_supplied(messages: list[BaseMessage]) -> list[dict[str, str]]:
    """Cytat deterministyczny: pierwszy podany fragment bloku danych (S1) z jego pierwszym zdaniem jako cytatem."""
    block = next((m.text for m in messages if m.text.startswith("<<<DOCS-")), "")
    for part in block.split("\n\n"):
        match = _PASSAGE.match(part)
        if match:
            sentences = (q.strip() for q in _SENTENCE_BREAK.split(match.group(2)))
            quote = next((q for q in sentences if 20 <= len(q) <= 200 and not {"[", "‹", "›"} & set(q)), "")
            return [{"source": match.group(1), "quote": quote}]
    return []


_BUILTIN_VOCAB: dict[str, dict[str, list[str]]] = {
    "pl": {
        "first_names": ["Anna", "Katarzyna", "Magdalena", "Agnieszka", "Piotr", "Tomasz", "Marcin", "Krzysztof"],
        "surnames": ["Nowak", "Wójcik", "Kowalczyk", "Mazur", "Krawczyk", "Zając", "Król", "Wróbel"],
        "occupations": [
            "nauczycielka",
            "księgowy",
            "programistka",
            "kierowca",
            "pielęgniarka",
            "sprzedawca",
            "inżynier",
            "projektantka",
        ],
        "interests": [
            "gotowanie",
            "bieganie",
            "książki",
            "podróże",
            "ogrodnictwo",
            "gry planszowe",
            "fotografia",
            "muzyka",
        ],
        "values": [
            "rodzina",
            "bezpieczeństwo",
            "uczciwość",
            "niezależność",
            "rozwój",
            "wygoda",
            "tradycja",
            "oszczędność",
        ],
        "communication_styles": ["rzeczowy", "ciepły i rozmowny", "zdystansowany", "bezpośredni"],
        "decision_styles": ["ostrożny", "impulsywny", "analityczny", "polega na opiniach znajomych"],
        "concerns": ["rosnące ceny", "brak czasu", "jakość produktów", "prywatność danych", "zdrowie"],
        "cities": ["Warszawa", "Kraków", "Łódź", "Wrocław", "Poznań", "Gdańsk", "Lublin", "Rzeszów"],
    },
    "en": {
        "first_names": ["Emma", "Olivia", "Sophia", "Grace", "James", "Daniel", "Michael", "Ryan"],
        "surnames": ["Smith", "Johnson", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Moore"],
        "occupations": [
            "teacher",
            "accountant",
            "software developer",
            "truck driver",
            "nurse",
            "sales associate",
            "engineer",
            "designer",
        ],
        "interests": ["cooking", "running", "reading", "travel", "gardening", "board games", "photography", "music"],
        "values": ["family", "security", "honesty", "independence", "growth", "convenience", "tradition", "thrift"],
        "communication_styles": ["matter-of-fact", "warm and talkative", "reserved", "direct"],
        "decision_styles": ["cautious", "impulsive", "analytical", "relies on friends' opinions"],
        "concerns": ["rising prices", "lack of time", "product quality", "data privacy", "health"],
        "cities": ["Chicago", "Austin", "Denver", "Seattle", "Atlanta", "Phoenix", "Boston", "Columbus"],
    },
}
_SENTENCES = {
    "pl": [
        "Dla mnie liczy się przede wszystkim {value}.",
        "Moja pasja to {interest}, więc patrzę na to praktycznie.",
        "Temat „{word}” jest mi bliski i mam o nim wyrobione zdanie.",
        "Martwi mnie przede wszystkim jedno: {concern}, dlatego podchodzę do tego ostrożnie.",
        "Gdy chodzi o „{word}”, najpierw porównuję opcje i pytam znajomych.",
        "Z mojego doświadczenia „{word}” ma sens, jeśli jest prosto i uczciwie.",
        # Bez zawodu: zdanie z losowym zawodem przeczyłoby faktom persony, która je „mówi”.
        "Cenię rozwiązania, które oszczędzają mi czas.",
        "Nie przekonują mnie obietnice bez konkretów, szczególnie w sprawie „{word}”.",
    ],
    "en": [
        "What matters most to me is {value}.",
        "Day to day I'm into {interest}, so I look at this practically.",
        "The topic of “{word}” is close to me and I have a clear view on it.",
        "I worry about {concern}, so I approach this carefully.",
        "When it comes to “{word}”, I compare options first and ask friends.",
        "In my experience “{word}” makes sense if it is simple and honest.",
        "I value things that save me time.",
        "Promises without specifics don't convince me, especially about “{word}”.",
    ],
}
_STOPWORDS = frozenset(
    "about above after again against because before being below between could doing during "
    "every having other should their there these those through under until where which while "
    "would your yours "
    "answer return schema field value please jesteś jesteśmy który która które którzy oraz "
    "przez tylko bardzo jeżeli jeśli gdzie kiedy twoja twoje swoje odpowiedz odpowiedź "
    # nazwy cech osobowości z promptu to nie tematy rozmowy
    "openness conscientiousness extraversion agreeableness neuroticism power_distance "
    "individualism masculinity uncertainty_avoidance "
    "long_term_orientation indulgence distance uncertainty avoidance orientation".split()
)
_FIELD_KINDS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("first_name", "given_name"), "first_name"),
    (("last_name", "surname", "family_name"), "surname"),
    (("full_name", "persona_name", "display_name"), "person"),
    (("occupation", "profession", "job"), "occupations"),
    (("interest", "hobb", "passion"), "interests"),
    (("value",), "values"),
    (("communication",), "communication_styles"),
    (("decision",), "decision_styles"),
    (("concern", "pain", "worr", "fear", "frustration", "barrier", "challenge"), "concerns"),
    (("story", "biography", "background"), "story"),
    (("city", "location", "town", "place", "region"), "cities"),
    (("email",), "email"),
    (("quote", "excerpt"), "quote"),
    (("concept", "keyword", "topic", "theme", "label", "title", "tag"), "phrase"),
)


def _field_kind(name: str, parent: str) -> str:
    """Rodzaj wartości po nazwie pola (i pola nadrzędnego dla elementów list i obiektów)."""
    name = name.lower()
    if name == "name":
        if parent.lower().startswith("segment"):
            return "segment"
        return "phrase" if _field_kind(parent, "") == "phrase" else "person"
    if name == "title" and not parent:
        return "occupations"
    tokens = name.split("_")
    for keywords, kind in _FIELD_KINDS:
        if any(kw in name if "_" in kw else any(t.startswith(kw) for t in tokens) for kw in keywords):
            return kind
    return "text"


def _detect_language(text: str) -> str:
    lowered = f" {text.lower()} "
    return (
        "pl"
        if re.search(r"[ąćęłńóśźż]", lowered) or any(w in lowered for w in (" jest ", " się ", " nie ", " oraz "))
        else "en"
    )


@dataclass
class _Vocab:
    """Słowniki jednego języka: z presetów demograficznych w config albo wbudowane."""

    first_names: dict[str, list[str]]
    surnames: dict[str, list[str]]
    lists: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def for_language(cls, language: str) -> _Vocab:
        builtin = _BUILTIN_VOCAB[language]
        presets = sorted(config.load_demographics().values(), key=lambda p: (p.language != language, p.id))
        if not presets:
            return cls({"any": builtin["first_names"]}, {"any": builtin["surnames"]}, dict(builtin))
        voc = presets[0].vocabularies
        surnames = voc.surnames if isinstance(voc.surnames, dict) else {"any": list(voc.surnames)}
        lists = {
            **builtin,
            "occupations": [o.name for o in voc.occupations],
            "interests": list(voc.interests),
            "values": list(voc.values),
            "communication_styles": list(voc.communication_styles),
            "decision_styles": list(voc.decision_styles),
            "concerns": list(voc.concerns) or builtin["concerns"],
        }
        return cls(dict(voc.first_names), surnames, lists)


def _gender_in(prompt_text: str) -> str | None:
    """Płeć z faktów persony w prompcie („- Płeć: kobieta”, „- Gender: female”): etykieta koszyka dowolnego presetu
    w dowolnym języku albo sam klucz.
    """
    known: dict[str, str] = {}
    for preset in config.load_demographics().values():
        category = preset.categories.get("gender")
        for key, labels in (category.bucket_labels if category else {}).items():
            known.update({label.casefold(): key for label in (key, *labels.values())})
    for value in re.findall(r"^- [^:\n]+:\s*([^\n]+)$", prompt_text, re.MULTILINE):
        if value.strip().casefold() in known:
            return known[value.strip().casefold()]
    return None


class OfflineWriter:
    """Deterministyczny autor odpowiedzi offline: ziarno ze skrótu wejścia, słowa z promptu, słowniki z config."""

    def __init__(self, seed_source: str, prompt_text: str) -> None:
        self.seed = int.from_bytes(hashlib.sha256(seed_source.encode()).digest()[:8], "big")
        self.rng = random.Random(self.seed)
        self.language = _detect_language(prompt_text)
        self.vocab = _Vocab.for_language(self.language)
        words = [w for w in re.findall(r"[^\W\d_]{5,}", prompt_text.lower()) if w not in _STOPWORDS]
        self.words = list(dict.fromkeys(words))[-40:] or self.vocab.lists["interests"]
        # Numery w nawiasach kwadratowych to numery wypowiedzi w transkrypcji: cytowania offline wskazują istniejące.
        self.cited = [int(n) for n in dict.fromkeys(re.findall(r"\[(\d{1,6})\]", prompt_text))]
        # Tekst analizowany między <<<TEXT a TEXT>>>: cytaty offline są jego dosłownymi fragmentami.
        sources = re.findall(r"<<<TEXT\n(.*?)\nTEXT>>>", prompt_text, re.DOTALL)
        self.source = sources[-1].strip() if sources else ""
        self.gender = _gender_in(prompt_text)
        # Imię i nazwisko z planu panelu (unikalne w projekcie) ma pierwszeństwo przed losowanym ze słownika.
        planned = re.search(r"^- (?:full_name|full name|imię i nazwisko):\s*([^\n]+)", prompt_text, re.I | re.M)
        self.full_name = planned.group(1).strip() if planned else None
        occupation = re.search(r"^- (?:occupation|zawód):\s*([^\n]+)", prompt_text, re.IGNORECASE | re.MULTILINE)
        self.occupation = self._gendered(occupation.group(1).strip()) if occupation else None

    def value(self, schema: dict[str, Any], name: str, parent: str = "") -> Any:
        """Wartość zgodna z fragmentem schematu JSON (typy, enumy, granice długości i liczb)."""
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return self.rng.choice(schema["enum"])
        for combinator in ("anyOf", "oneOf"):
            if combinator in schema:
                options = [o for o in schema[combinator] if o.get("type") != "null"] or schema[combinator]
                return self.value(options[0], name, parent)
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(part)
            return self.value(merged, name, parent)
        kind = schema.get("type", "object" if "properties" in schema else "string")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object":
            return {key: self.value(sub, key, name) for key, sub in (schema.get("properties") or {}).items()}
        if kind == "array":
            return self._array(schema, name, parent)
        if kind in ("integer", "number"):
            return self._number(schema, name, integer=kind == "integer")
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self._string(schema, name, parent)

    def _array(self, schema: dict[str, Any], name: str, parent: str) -> list[Any]:
        low = schema.get("minItems", 0)
        count = max(low, min(schema.get("maxItems", max(low, 4)), self.rng.randint(2, 4)))
        items = schema.get("items") or {"type": "string"}
        result: list[Any] = []
        for _ in range(count * 4):  # najpierw próbujemy bez powtórzeń (zainteresowania, wartości…)
            item = self.value(items, name, parent)
            if item not in result:
                result.append(item)
            if len(result) == count:
                return result
        return result + [self.value(items, name, parent) for _ in range(count - len(result))]

    def _number(self, schema: dict[str, Any], name: str, *, integer: bool) -> float | int:
        lowered, step = name.lower(), 1 if integer else 1e-6
        if integer and self.cited and any(k in lowered for k in ("citation", "cite", "seq", "turn")):
            return self.rng.choice(self.cited)
        default = next(
            (
                r
                for keys, r in (
                    (("age",), (18, 80)),
                    (("sentiment", "polarity", "stance"), (-1, 1)),
                    (("score", "rating", "likert"), (1, 5)),
                    (("probab", "confidence", "share", "weight", "ratio", "intensity", "likelihood"), (0, 1)),
                    (("count", "number"), (1, 10)),
                )
                if any(k in lowered for k in keys)
            ),
            (0, 100),
        )
        floor = max(schema.get("minimum", -math.inf), schema.get("exclusiveMinimum", -math.inf) + step)
        ceiling = min(schema.get("maximum", math.inf), schema.get("exclusiveMaximum", math.inf) - step)
        low, high = max(default[0], floor), min(default[1], ceiling)
        if low > high:  # zakres typowy dla nazwy pola leży poza granicami schematu
            span = default[1] - default[0]
            low = floor if floor > -math.inf else ceiling - span
            high = ceiling if ceiling < math.inf else low + span
        if integer:
            return self.rng.randint(math.ceil(low), math.floor(high))
        return round(self.rng.uniform(low, high), 4)

    def _string(self, schema: dict[str, Any], name: str, parent: str) -> str:
        fmt = schema.get("format")
        if fmt in ("date", "date-time"):
            day = f"20{self.rng.randint(20, 25)}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"
            return day if fmt == "date" else f"{day}T12:00:00Z"
        if fmt == "uuid":
            return "-".join(f"{self.rng.getrandbits(b * 4):0{b}x}" for b in (8, 4, 4, 4, 12))
        return self.text(
            _field_kind(name, parent) if fmt != "email" else "email",
            schema.get("minLength", 0),
            schema.get("maxLength"),
        )

    def text(self, kind: str, min_length: int, max_length: int | None) -> str:
        """Tekst danego rodzaju przycięty/uzupełniony do granic długości."""
        if kind == "story":
            return self._story(min_length, max_length)
        text = self._short(kind) if kind != "text" else ""
        if not text:
            text = " ".join(self._sentence() for _ in range(self.rng.randint(2, 4)))
        while len(text) < min_length:
            text = f"{text} {self._sentence()}"
        if max_length is not None and len(text) > max_length:
            cut = text[:max_length].rsplit(" ", 1)[0].rstrip(",;:")
            text = cut if len(cut) >= max(min_length, 1) else text[:max_length]
        return text

    def _story(self, min_length: int, max_length: int | None) -> str:
        """Historia w 3–5 akapitach oddzielonych pustą linią, w granicach długości."""
        count = self.rng.randint(3, 5)
        per = max(min_length // count + 1, 120)
        paragraphs = [self.text("text", per, None) for _ in range(count)]
        if max_length is not None:
            limit = max(40, (max_length - 2 * (count - 1)) // count)
            paragraphs = [p[:limit].rsplit(" ", 1)[0] for p in paragraphs]
        return "\n\n".join(paragraphs)

    def _gendered(self, occupation: str) -> str:
        """Z pary „nauczyciel / nauczycielka” forma zgodna z płcią profilu."""
        forms = [f.strip() for f in occupation.split(" / ")]
        return forms[-1] if len(forms) == 2 and self.gender == "female" else forms[0]

    def _short(self, kind: str) -> str:
        pick, voc = self.rng.choice, self.vocab
        if kind == "occupations" and self.occupation:
            return self.occupation
        if kind == "occupations" and voc.lists.get("occupations"):
            return self._gendered(pick(voc.lists["occupations"]))
        if kind == "segment":
            value, interest = pick(voc.lists["values"]), pick(voc.lists["interests"])
            return (
                f"{value.capitalize()} i {interest}"
                if self.language == "pl"
                else f"{value.capitalize()} and {interest}"
            )
        if kind == "person" and self.full_name:
            return self.full_name
        if kind in ("person", "first_name", "surname", "email"):
            gender = self.gender if self.gender in voc.first_names else pick(sorted(voc.first_names))
            first = pick(voc.first_names[gender])
            last = pick(voc.surnames.get(gender) or list(itertools.chain.from_iterable(voc.surnames.values())))
            return {"person": f"{first} {last}", "first_name": first, "surname": last}.get(
                kind, f"{first}.{last}@example.com".lower()
            )
        if kind == "phrase":
            return pick(self.words)
        if kind == "quote" and self.source:
            sentences = [s.strip() for s in re.split(r"(?<=[.!?…])\s+", self.source) if s.strip()]
            return pick(sentences)
        return pick(voc.lists[kind]) if voc.lists.get(kind) else ""

    def _sentence(self) -> str:
        template = self.rng.choice(_SENTENCES[self.language])
        lists = self.vocab.lists
        return template.format(
            value=self.rng.choice(lists["values"]),
            interest=self.rng.choice(lists["interests"]),
            concern=self.rng.choice(lists["concerns"]),
            occupation=self.rng.choice(lists["occupations"]),
            word=self.rng.choice(self.words),
        )


def fit_schema(value: Any, schema: dict[str, Any], writer: OfflineWriter, name: str = "") -> Any:
    """Dopasowuje odpowiedź roli do schematu: brakujące pola ze słowników, teksty i listy przycięte do granic."""
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind == "object" and isinstance(value, dict):
        properties = schema.get("properties") or {}
        return {
            key: fit_schema(value[key], sub, writer, key) if key in value else writer.value(sub, key, name)
            for key, sub in properties.items()
            if key in value or key in schema.get("required", properties)
        }
    if kind == "array" and isinstance(value, list):
        items = schema.get("items") or {}
        fitted = [fit_schema(v, items, writer, name) for v in value[: schema.get("maxItems", len(value))]]
        while len(fitted) < schema.get("minItems", 0):
            fitted.append(writer.value(items, name))
        return fitted
    if kind == "string" and isinstance(value, str):
        limit = schema.get("maxLength")
        if limit is not None and len(value) > limit:
            value = value[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
        return value
    return value
