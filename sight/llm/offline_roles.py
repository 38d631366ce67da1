"""Dostawca `offline` w roli: deterministyczne odpowiedzi dla znanych promptów, zbudowane tylko z danych w zmiennych.

Moderator moderuje (otwiera pytanie, zadaje sondy i wtrącenia badacza, zaprasza cichych, zamyka pytanie), uczestnik
mówi o sobie tylko to, co wynika z jego profilu (wiek, płeć, zawód, miejsce, wartości, obawy), trzyma się zapisanego
stanowiska i odpowiada poprzednikowi po imieniu, a analityk streszcza ekstrakcyjnie — cytuje prawdziwe wypowiedzi z
ich numerami. Koszyki danych (`village`, `female`) trafiają do tekstu tylko jako etykiety w języku badania.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import config
from sight.demographics import bucket_label, category_label, plan_fact_keys
from sight.llm.offline_themes import code_themes

if TYPE_CHECKING:
    from sight.llm.offline import PromptCall

STANCES = ("support", "neutral", "oppose")
LOCATION_CATEGORIES = ("location", "region", "city")
GENDERS = {"female": "female", "male": "male", "kobieta": "female", "mężczyzna": "male"}


def answer_in_role(call: PromptCall, schema_name: str, seed: int) -> dict[str, Any] | None:
    """Odpowiedź dla promptu `call` (słownik pól schematu) albo None, gdy rola nie ma własnego generatora."""
    builder = _BUILDERS.get((call.name, schema_name)) or _BUILDERS.get((call.name, "*"))
    if builder is None:
        return None
    language = call.language if call.language in ("pl", "en") else "en"
    return builder(_Ctx(language, {k: str(v) for k, v in call.variables.items()}, random.Random(seed)))


@dataclass
class _Ctx:
    """Wejście generatora: język, zmienne promptu jako tekst i generator losowy z ziarna wejścia."""

    language: str
    v: dict[str, str]
    rng: random.Random

    @property
    def pl(self) -> bool:
        return self.language == "pl"

    def say(self, pl: str, en: str) -> str:
        return pl if self.pl else en


def _hash_unit(*parts: str) -> float:
    """Liczba z [0, 1) wyprowadzona ze skrótu (to samo wejście — ta sama liczba w każdym procesie)."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def stance_of(full_name: str, topic: str) -> str:
    """Stanowisko persony wobec tematu: zależy tylko od osoby i tematu, więc tura i notatka stanowiska są zgodne."""
    u = _hash_unit(full_name.strip().casefold(), " ".join(topic.split()).casefold())
    return "support" if u < 0.4 else "neutral" if u < 0.65 else "oppose"


# --- profil persony z promptu ------------------------------------------------------------------------------------


@dataclass
class _Person:
    """Fakty persony odczytane z `Persona.prompt_profile()` (bez niczego spoza profilu)."""

    name: str
    age: int | None = None
    gender: str = ""
    occupation: str = ""
    location: str = ""
    values: list[str] = field(default_factory=list)
    concerns: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)

    @property
    def first(self) -> str:
        return self.name.split()[0] if self.name.split() else self.name

    def g(self, female: str, male: str) -> str:
        """Forma zgodna z płcią (mężczyzna albo nieznana płeć — forma męska; to forma słownikowa)."""
        return female if self.gender == "female" else male


def _known_buckets(categories: tuple[str, ...]) -> set[str]:
    return {
        bucket
        for preset in config.load_demographics().values()
        for name, category in preset.categories.items()
        if name in categories
        for bucket in category.buckets
    }


def _gendered(occupation: str, gender: str) -> str:
    """Z pary „rolnik / rolniczka” forma zgodna z płcią."""
    forms = [f.strip() for f in occupation.split(" / ")]
    return forms[-1] if len(forms) == 2 and gender == "female" else forms[0]


def _person(profile: str) -> _Person:
    """Profil z pierwszego wiersza „Imię Nazwisko (wiek, płeć, zawód, miejsce)” i wierszy „Values:”, „Concerns:”."""
    lines = [line.strip() for line in profile.splitlines() if line.strip()]
    head = lines[0] if lines else ""
    match = re.match(r"^(.*?)\s*\((.*)\)\s*$", head)
    person = _Person(name=(match.group(1) if match else head).strip())
    tokens = [t.strip() for t in match.group(2).split(", ")] if match else []
    if tokens and tokens[0].isdigit():
        person.age = int(tokens.pop(0))
    _categories, buckets = _label_keys()
    if tokens and tokens[0].casefold() in GENDERS:
        person.gender = GENDERS[tokens.pop(0).casefold()]
    elif tokens and ("gender", tokens[0].casefold()) in buckets:
        person.gender = buckets[("gender", tokens.pop(0).casefold())]
    # Miejsce: klucz koszyka albo jego etykieta (profil w promptach ma etykiety w języku badania).
    places = [buckets.get((c, tokens[-1].casefold())) for c in LOCATION_CATEGORIES] if tokens else []
    if tokens and (tokens[-1] in _known_buckets(LOCATION_CATEGORIES) or any(places)):
        person.location = next((b for b in places if b), tokens[-1])
        tokens.pop()
    person.occupation = _gendered(", ".join(tokens), person.gender)
    for line in lines[1:]:
        label, _, rest = line.partition(":")
        items = [x.strip() for x in rest.split(",") if x.strip()]
        key = label.strip().casefold()
        # Pierwszy wiersz wygrywa: dalej jest historia persony, która może mieć własne wiersze „Concerns: …”.
        if key in ("values", "wartości") and not person.values:
            person.values = items
        elif key in ("concerns", "obawy") and not person.concerns:
            person.concerns = items
        elif key in ("interests", "zainteresowania") and not person.interests:
            person.interests = items
    return person


def _upper_first(text: str) -> str:
    """Wielka pierwsza litera bez zmiany reszty (`str.capitalize` zmieniłby „I” na „i”)."""
    return text[:1].upper() + text[1:]


def _years(age: int, pl: bool) -> str:
    """„54 lata”, „25 lat”, „1 rok” albo „54 years old”."""
    if not pl:
        return f"{age} years old"
    if age == 1:
        return "1 rok"
    if age % 10 in (2, 3, 4) and age % 100 not in (12, 13, 14):
        return f"{age} lata"
    return f"{age} lat"


def _article(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def _place(person: _Person, ctx: _Ctx) -> str:
    return bucket_label("location", person.location, language=ctx.language) if person.location else ""


# --- transkrypcja ------------------------------------------------------------------------------------------------

# „Mówca: tekst” (transkrypcja dyskusji) albo „[seq] Mówca: tekst”.
_LINE = re.compile(r"^(?:\[(\d+)\] )?([^:\n\[]{1,120}): (.*)$")


def _transcript(text: str) -> list[tuple[int, str, str]]:
    """Wiersze „[seq] Mówca: tekst” albo „Mówca: tekst” jako (seq albo 0, mówca, tekst)."""
    return [(int(m[1] or 0), m[2].strip(), m[3]) for m in map(_LINE.match, text.splitlines()) if m]


def _is_moderator(speaker: str) -> bool:
    return speaker.casefold() in ("moderator", "moderatorka")


def _sentence(text: str, limit: int = 180) -> str:
    first = re.split(r"(?<=[.!?…])\s", text.strip(), maxsplit=1)[0]
    return first if len(first) <= limit else first[:limit].rsplit(" ", 1)[0] + "…"


def _as_question(text: str, ctx: _Ctx) -> str:
    """Tekst jako pytanie: kończy się znakiem zapytania (dopisane zaproszenie, gdy był twierdzeniem)."""
    text = " ".join(text.split()).rstrip()
    if text.endswith("?"):
        return text
    return f"{text.rstrip('.!')}. " + ctx.say("Co o tym myślicie?", "What do you think?")


# --- moderator ---------------------------------------------------------------------------------------------------


def _instruction_kind(ctx: _Ctx) -> tuple[str, dict[str, str]]:
    """Rodzaj polecenia moderatora (open, probe, invite, interjection, close) i jego wartości, z szablonów promptu."""
    instruction = ctx.v.get("instruction", "").strip()
    templates = config.load_prompts().get("moderator", ctx.language).instructions
    for name, template in templates.items():
        parts = re.split(r"\$(\w+)", template.strip())
        pattern = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+)" for i, p in enumerate(parts))
        match = re.fullmatch(pattern, instruction, re.DOTALL)
        if match:
            return name, match.groupdict()
    return "open", {}


def _moderator(ctx: _Ctx) -> dict[str, Any]:
    kind, values = _instruction_kind(ctx)
    question = ctx.v.get("question", "")
    spoken = [(seq, who) for seq, who, _text in _transcript(ctx.v.get("transcript", "")) if not _is_moderator(who)]
    last = spoken[-1][1].split()[0] if spoken else ""
    pick = ctx.rng.choice
    if kind == "probe":
        thanks = ctx.say(f"Dziękuję, {last}. ", f"Thank you, {last}. ") if last else ""
        lead = pick(
            ctx.say(
                "Chcę jeszcze dopytać:|Dopytam o jedną rzecz:", "I'd like to dig a little deeper:|One follow-up:"
            ).split("|")
        )
        text = f"{thanks}{lead} {_as_question(values.get('probe', question), ctx)}"
    elif kind == "invite":
        name = values.get("name", "").split()[0] if values.get("name") else ""
        text = ctx.say(
            f"{name}, jeszcze nie słyszeliśmy Twojego zdania. Jak Ty to widzisz?",
            f"{name}, we haven't heard from you yet. How do you see it?",
        )
        if last:
            text += ctx.say(f" Czy masz podobne doświadczenia jak {last}?", f" Is your experience similar to {last}'s?")
    elif kind == "interjection":
        lead = ctx.say(
            "Zespół badawczy ma do Was jeszcze jedno pytanie:", "The research team has one more question for you:"
        )
        text = f"{lead} {_as_question(values.get('text', ''), ctx)}"
    elif kind == "close":
        text = ctx.say(
            f"Zanim przejdziemy dalej: czy ktoś chce jeszcze coś dodać w sprawie „{question.rstrip('?')}”?",
            f"Before we move on: does anyone want to add anything on “{question.rstrip('?')}”?",
        )
    else:
        lead = pick(
            ctx.say(
                "Przejdźmy do kolejnego tematu.|Porozmawiajmy teraz o tym.",
                "Let's move on to the next topic.|Let's talk about this now.",
            ).split("|")
        )
        if ctx.v.get("summary_so_far", "-").strip() in ("", "-"):
            lead = ctx.say("Dziękuję, że jesteście. Zaczynamy.", "Thank you for coming. Let's begin.")
        invite = pick(
            ctx.say(
                "Kto chciałby zacząć?|Jak to wygląda u Was?", "Who would like to start?|How does it look for you?"
            ).split("|")
        )
        text = f"{lead} {_as_question(question, ctx)} {invite}"
    return {"text": text}


# --- uczestnik ---------------------------------------------------------------------------------------------------

_STANCE_PHRASES = {
    "support": (
        "Jeśli chodzi o „{topic}”, patrzę na to przychylnie.",
        "When it comes to “{topic}”, I'm in favour.",
    ),
    "neutral": (
        "Jeśli chodzi o „{topic}”, mam mieszane uczucia.",
        "When it comes to “{topic}”, I have mixed feelings.",
    ),
    "oppose": (
        "Jeśli chodzi o „{topic}”, podchodzę do tego sceptycznie.",
        "When it comes to “{topic}”, I'm sceptical.",
    ),
}


def _topic(ctx: _Ctx) -> str:
    """Temat stanowiska: teza pytania, gdy jest, inaczej samo pytanie."""
    return (ctx.v.get("proposition") or "").strip() or ctx.v.get("question", "").strip()


def _short_topic(topic: str) -> str:
    topic = " ".join(topic.split()).rstrip("?.!")
    return topic if len(topic) <= 90 else topic[:90].rsplit(" ", 1)[0] + "…"


def _reason(person: _Person, stance: str, ctx: _Ctx) -> str:
    """Powód stanowiska z wartości albo obaw z profilu persony."""
    value = ctx.rng.choice(person.values) if person.values else ""
    concern = ctx.rng.choice(person.concerns) if person.concerns else ""
    if stance == "oppose" and concern:
        return ctx.say(
            f"Moja główna obawa to {concern}, a tu nie widzę na nią odpowiedzi.",
            f"My main worry is {concern}, and I don't see this addressing it.",
        )
    if stance == "support" and value:
        return ctx.say(
            f"Dla mnie liczy się przede wszystkim {value}, a to dobrze do tego pasuje.",
            f"What matters most to me is {value}, and this fits it well.",
        )
    if value:
        return ctx.say(
            f"Liczy się dla mnie {value}, ale potrzebuję więcej konkretów.",
            f"{_upper_first(value)} matters to me, but I need more specifics.",
        )
    return ctx.say("Potrzebuję więcej konkretów, żeby się określić.", "I need more specifics before I decide.")


def _self_facts(person: _Person, ctx: _Ctx) -> str:
    """Jedno zdanie o sobie z faktów profilu: wiek, zajęcie, miejsce (co jest w profilu)."""
    place = _place(person, ctx)
    age = ctx.say(f"Mam {_years(person.age, True)}", f"I'm {_years(person.age, False)}") if person.age else ""
    job = ""
    if person.occupation:
        job = ctx.rng.choice(
            [
                ctx.say(
                    f"jako {person.occupation} patrzę na to praktycznie",
                    f"as {_article(person.occupation)} I look at it practically",
                ),
                ctx.say(
                    f"jako {person.occupation} mam na to mało czasu",
                    f"as {_article(person.occupation)} I have little time for it",
                ),
            ]
        )
    home = ctx.rng.choice(
        [
            ctx.say(
                f"a tam, gdzie mieszkam ({place}), liczy się każdy szczegół",
                f"and where I live ({place}) details matter",
            ),
            ctx.say(
                f"a u mnie ({place}) wygląda to trochę inaczej", f"and where I live ({place}) it looks a bit different"
            ),
        ]
    )
    parts = [p for p in (age, job, home if place else "") if p]
    return _upper_first(", ".join(parts) + ".") if parts else ""


def _previous_speaker(ctx: _Ctx, me: str) -> str | None:
    """Ostatni uczestnik (nie moderator i nie ja), który mówił w tym pytaniu."""
    for _seq, who, _text in reversed(_transcript(ctx.v.get("transcript", ""))):
        if not _is_moderator(who) and who.casefold() != me.casefold():
            return who
    return None


def _participant(ctx: _Ctx) -> dict[str, Any]:
    person = _person(ctx.v.get("persona_profile", ""))
    topic = _topic(ctx)
    mine = stance_of(person.name, topic)
    result: dict[str, Any] = {"agrees_with": [], "disagrees_with": [], "addressed_to": None}
    opening = ""
    previous = _previous_speaker(ctx, person.name)
    if previous:
        theirs, first = stance_of(previous, topic), previous.split()[0]
        if mine == theirs and mine != "neutral":
            opening = ctx.say(f"{first}, zgadzam się z Tobą.", f"{first}, I agree with you.")
            result.update(agrees_with=[previous], addressed_to=previous)
        elif "neutral" not in (mine, theirs):
            opening = ctx.say(f"{first}, tu się z Tobą nie zgodzę.", f"{first}, I don't agree with you there.")
            result.update(disagrees_with=[previous], addressed_to=previous)
        else:
            opening = ctx.say(f"Nawiązując do tego, co mówi {first}:", f"Picking up on what {first} says:")
    stance_line = _STANCE_PHRASES[mine][0 if ctx.pl else 1].format(topic=_short_topic(topic))
    follow_up = _moderator_follow_up(ctx, person.name)
    if follow_up:
        # Kolejna tura tej osoby w pytaniu: odpowiada na sondę albo pytanie badacza, nie powtarza przedstawienia się.
        lead = ctx.say(f"Co do pytania „{follow_up}”:", f"As for “{follow_up}”:")
        stance_line = f"{lead} {_STANCE_CLAUSE[mine][0 if ctx.pl else 1]}"
    lines = _transcript(ctx.v.get("transcript", ""))
    spoke_before = any(who.casefold() == person.name.casefold() for _s, who, _t in lines)
    parts = [opening, stance_line, "" if spoke_before else _self_facts(person, ctx), _reason(person, mine, ctx)]
    result["text"] = " ".join(p for p in parts if p)
    return result


_STANCE_CLAUSE = {
    "support": ("zdania nie zmieniam, jestem na tak.", "I haven't changed my mind, I'm for it."),
    "neutral": ("wciąż nie mam wyrobionego zdania.", "I still haven't made up my mind."),
    "oppose": ("zdania nie zmieniam, nadal mam wątpliwości.", "I haven't changed my mind, I still have doubts."),
}


def _moderator_follow_up(ctx: _Ctx, me: str) -> str:
    """Pytanie z ostatniej kwestii moderatora (sonda, wtrącenie), jeśli ta osoba już mówiła w tym pytaniu."""
    lines = _transcript(ctx.v.get("transcript", ""))
    if not any(who.casefold() == me.casefold() for _s, who, _t in lines):
        return ""
    last = next((text for _s, who, text in reversed(lines) if _is_moderator(who)), "")
    questions = [q.strip() for q in re.findall(r"[^.!?:]*\?", last)]
    return questions[0].rstrip("?") if questions else ""


def _answer(ctx: _Ctx) -> dict[str, Any]:
    """Odpowiedź w niezależnym wywiadzie: jak tura, bez odnoszenia się do innych."""
    person = _person(ctx.v.get("persona_profile", ""))
    topic = _topic(ctx).splitlines()[0] if _topic(ctx) else ""
    mine = stance_of(person.name, topic)
    stance_line = _STANCE_PHRASES[mine][0 if ctx.pl else 1].format(topic=_short_topic(topic))
    # Dalsze wiersze pytania wywiadu to sondy przewodnika: krótka odpowiedź na każdą, bez zmyślania faktów.
    probes = [
        ctx.say(
            f"Co do pytania „{p.strip().rstrip('?')}”: to zależy od sytuacji.",
            f"As for “{p.strip().rstrip('?')}”: it depends.",
        )
        for p in _topic(ctx).splitlines()[1:3]
        if p.strip()
    ]
    parts = (stance_line, _self_facts(person, ctx), _reason(person, mine, ctx), *probes)
    return {"text": " ".join(p for p in parts if p)}


def _stance(ctx: _Ctx) -> dict[str, Any]:
    person = _person(ctx.v.get("persona_profile", ""))
    stance = stance_of(person.name, _topic(ctx))
    return {"stance": stance, "reason": _reason(person, stance, ctx)}


# --- podsumowanie: ekstrakcyjne ----------------------------------------------------------------------------------

_SUMMARY_LINE = re.compile(r"^\[(\d+)\] \(Q(\d+): (.*?)\) (.*?) \[segment: (.*?)\]: (.*)$")


def _quote(who: str, text: str, ctx: _Ctx) -> str:
    """Dosłowny cytat ostatniego zdania wypowiedzi (zwykle niesie powód) z mówcą."""
    sentences = [s for s in re.split(r"(?<=[.!?…])\s", text.strip()) if s]
    quote = _sentence(sentences[-1] if sentences else text)
    return f"{who}: „{quote}”" if ctx.pl else f"{who}: “{quote}”"


def _summary(ctx: _Ctx) -> dict[str, Any]:
    """Podsumowanie ekstrakcyjne: dosłowne cytaty z numerami wypowiedzi, kto mówił najwięcej, stanowiska."""
    matches = [m.groups() for m in map(_SUMMARY_LINE.match, ctx.v.get("transcript", "").splitlines()) if m]
    turns_t = [(int(s), int(q), question, who, segment, text) for s, q, question, who, segment, text in matches]
    speakers = Counter(t[3] for t in turns_t)
    by_question: dict[int, list[tuple[int, str, str]]] = {}
    for seq, qn, _question, who, _segment, text in turns_t:
        by_question.setdefault(qn, []).append((seq, who, text))
    top, top_count = speakers.most_common(1)[0] if speakers else ("-", 0)
    executive = ctx.say(
        f"Podsumowanie ekstrakcyjne demonstracji offline (bez modelu językowego): zestawia dosłowne wypowiedzi i "
        f"statystyki, niczego nie dopowiada. W dyskusji padło {len(turns_t)} wypowiedzi {len(speakers)} uczestników "
        f"w {len(by_question)} pytaniach; najwięcej wypowiedzi: {top} ({top_count}).",
        f"Extractive summary from the offline demo (no language model): it puts verbatim turns and statistics side by "
        f"side and adds nothing. The discussion had {len(turns_t)} turns from {len(speakers)} participants across "
        f"{len(by_question)} questions; most turns: {top} ({top_count}).",
    )
    insights = []
    for qn, items in sorted(by_question.items()):
        question = next(t[2] for t in turns_t if t[1] == qn)
        chosen = items[:2]
        quotes = "; ".join(_quote(who, text, ctx) for _s, who, text in chosen)
        insights.append(
            {"text": f"Q{qn} ({_short_topic(question)}) — {quotes}", "citations": [s for s, _w, _t in chosen]}
        )
    if len(insights) == 1 and len(by_question[min(by_question)]) > 2:
        extra = by_question[min(by_question)][2:4]
        quotes = "; ".join(_quote(who, text, ctx) for _s, who, text in extra)
        insights.append({"text": f"Q{min(by_question)} — {quotes}", "citations": [s for s, _w, _t in extra]})
    while len(insights) < 2 and insights:
        insights.append(
            {
                **insights[0],
                "text": insights[0]["text"] + ctx.say(" (jedyny cytowany wątek)", " (the only thread cited)"),
            }
        )
    disagreements = [
        (seq, who, text)
        for seq, _qn, _q, who, _seg, text in turns_t
        if re.search(r"nie zgodzę|nie zgadzam|don't agree|disagree", text, re.IGNORECASE)
    ][:2]
    surprising = (
        [
            {
                "text": ctx.say("Grupa nie była zgodna: ", "The group was not of one mind: ")
                + "; ".join(_quote(who, text, ctx) for _s, who, text in disagreements),
                "citations": [s for s, _w, _t in disagreements],
            }
        ]
        if disagreements
        else []
    )
    segments = Counter(t[4] for t in turns_t if t[4] != "-")
    if len(segments) > 1:
        differences = [
            ctx.say(f"Segment „{name}”: {n} wypowiedzi.", f"Segment “{name}”: {n} turns.")
            for name, n in segments.most_common()
        ]
    else:
        differences = [
            ctx.say(
                "Uczestnicy nie reprezentują kilku segmentów, więc różnic między segmentami nie da się ocenić.",
                "The participants do not span several segments, so segment differences cannot be assessed.",
            )
        ]
    stance_lines = [
        ctx.say(f"Q{m[1]}: stanowisko zmieniło {m[2]} z {m[3]} osób", f"Q{m[1]}: {m[2]} of {m[3]} changed their stance")
        for m in re.finditer(r"^Q(\d+): (\d+)/(\d+) changed stance", ctx.v.get("statistics", ""), re.MULTILINE)
    ]
    stance_lines += [
        ctx.say(
            f"Q{m[1]} po dyskusji: za {m[2]}, neutralnie {m[3]}, przeciw {m[4]}",
            f"Q{m[1]} after the discussion: support {m[2]}, neutral {m[3]}, oppose {m[4]}",
        )
        for m in re.finditer(
            r"^Q(\d+) stances after: support (\d+), neutral (\d+), oppose (\d+)",
            ctx.v.get("statistics", ""),
            re.MULTILINE,
        )
    ]
    sentiment = ctx.say("Stanowiska uczestników: ", "Participants' stances: ") + (
        "; ".join(stance_lines) if stance_lines else ctx.say("brak zapisanych stanowisk.", "none recorded.")
    )
    return {
        "executive_summary": executive,
        "key_insights": insights,
        "surprising_findings": surprising,
        "segment_differences": differences,
        "recommendations": [
            ctx.say(
                "Sprawdzić cytowane wątki w rozmowach z prawdziwymi klientami.",
                "Check the cited threads in conversations with real customers.",
            ),
            ctx.say(
                "Powtórzyć dyskusję z modelem językowym, by dostać analizę zamiast zestawienia cytatów.",
                "Rerun the discussion with a language model for an interpretive analysis rather than a list of quotes.",
            ),
        ],
        "sentiment_narrative": sentiment,
    }


# --- persony: profil, potrzeby, segmenty -------------------------------------------------------------------------


# Wiersze faktów w promptach generowania mają etykiety w języku badania („- Płeć: kobieta”); klucze danych wracają
# przez odwrotne słowniki etykiet presetów (obie wersje językowe) i stałe nazwy pól planu.


@functools.cache
def _label_keys() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """(etykieta kategorii → nazwa, (nazwa, etykieta koszyka) → koszyk) ze wszystkich presetów, bez wielkości liter."""
    categories: dict[str, str] = {}
    buckets: dict[tuple[str, str], str] = {}
    for preset in config.load_demographics().values():
        for name, category in preset.categories.items():
            categories[name.casefold()] = name
            for label in category.label.values():
                categories.setdefault(label.casefold(), name)
            for bucket, labels in category.bucket_labels.items():
                buckets[(name, bucket.casefold())] = bucket
                for label in labels.values():
                    buckets.setdefault((name, label.casefold()), bucket)
    return categories, buckets


def _facts(text: str) -> dict[str, str]:
    """Wiersze „- etykieta: wartość” (demografia profilu) jako klucze danych: {"gender": "female", "age": "73", …}."""
    categories, buckets = _label_keys()
    facts: dict[str, str] = {}
    for m in re.finditer(r"^- ([^:\n]+): (.+)$", text, re.MULTILINE):
        label, value = m[1].strip(), m[2].strip()
        if (field_name := plan_fact_keys().get(label.casefold())) is not None:
            facts[field_name] = value
        elif (name := categories.get(label.casefold())) is not None:
            facts[name] = buckets.get((name, value.casefold()), value)
        else:
            facts[label] = value
    return facts


def _vocab(language: str) -> Any:
    presets = sorted(config.load_demographics().values(), key=lambda p: (p.language != language, p.id))
    return presets[0].vocabularies if presets else None


def _persona_profile(ctx: _Ctx) -> dict[str, Any]:
    facts = _facts(ctx.v.get("demographics", ""))
    gender = facts.get("gender", "")
    person = _Person(name="", gender=gender, age=int(facts["age"]) if facts.get("age", "").isdigit() else None)
    voc = _vocab(ctx.language)
    pick = ctx.rng.sample
    person.values = pick(list(voc.values), 4) if voc else []
    person.interests = pick(list(voc.interests), 4) if voc else []
    person.concerns = pick(list(voc.concerns), 3) if voc and voc.concerns else []
    occupation = _gendered(facts.get("occupation", ""), gender) or ctx.say(
        person.g("osoba aktywna zawodowo", "osoba aktywna zawodowo"), "working adult"
    )
    try:
        traits = {k: float(v) for k, v in json.loads(ctx.v.get("traits", "{}")).items()}
    except (ValueError, AttributeError):
        traits = {}
    names = voc.first_names.get(gender) or [n for ns in voc.first_names.values() for n in ns] if voc else ["Alex"]
    surnames_src = voc.surnames if voc else {"any": ["Smith"]}
    surnames = surnames_src.get(gender) if isinstance(surnames_src, dict) else list(surnames_src)
    surnames = surnames or [n for ns in surnames_src.values() for n in ns]
    # Imię z planu (unikalne w panelu), gdy plan je podał; inaczej losowe z list rynku.
    full_name = facts.get("full_name") or f"{ctx.rng.choice(names)} {ctx.rng.choice(surnames)}"
    age_text = _years(person.age, ctx.pl) if person.age else ""
    she = person.g(ctx.say("Ona", "She"), ctx.say("On", "He"))
    talk = traits.get("extraversion", 0.5)
    careful = traits.get("uncertainty_avoidance", 0.5)
    # Krótkie formuły i własne słowa persony: zdania szablonu nie tworzą wspólnych fraz dla całego panelu (sprawdzian
    # wspólnych 5-gramów karty trafności), a każde zdanie mówi tylko to, co jest w profilu.
    ya = person.g("a", "y")
    if talk > 0.6:
        communication = ctx.say(f"Rozmown{ya}, chętnie zaczyna.", "Talkative, happy to go first.")
    elif talk < 0.4:
        communication = ctx.say(f"Małomówn{ya}, czeka na pytanie.", "Quiet, waits to be asked.")
    else:
        communication = ctx.say(f"Rzeczow{ya} w rozmowie.", "Matter-of-fact in conversation.")
    if careful > 0.55:
        decision = ctx.say(f"Ostrożn{ya} przy zakupach, porównuje.", "Careful shopper, compares first.")
    else:
        decision = ctx.say("Kupuje spontanicznie.", "Buys on impulse.")
    values, interests, concerns = person.values, person.interests, person.concerns
    place = bucket_label("location", facts["location"], language=ctx.language) if facts.get("location") else ""
    intro = (
        ctx.say(f"{full_name} ({age_text}) to {occupation}.", f"{full_name} ({age_text}): {occupation}.")
        if age_text
        else ctx.say(f"{full_name}: {occupation}.", f"{full_name}: {occupation}.")
    )
    first_name = full_name.split()[0]
    sentences = [
        intro,
        ctx.say(f"{first_name} mieszka: {place}.", f"{first_name} lives: {place}.") if place else "",
        ctx.say(f"Ceni: {', '.join(values)}.", f"Values: {', '.join(values)}.") if values else "",
        ctx.say(f"Hobby: {', '.join(interests)}.", f"Hobbies: {', '.join(interests)}.") if interests else "",
        ctx.say(f"Martwi się: {', '.join(concerns)}.", f"Worries: {', '.join(concerns)}.") if concerns else "",
        communication,
        decision,
    ]
    closing = [x for x in sentences[4:] if x]
    ctx.rng.shuffle(closing)  # kolejność zdań własna dla persony: sąsiednie formuły nie tworzą wspólnych fraz
    paragraphs = [" ".join(x for x in sentences[:2] if x), " ".join(x for x in sentences[2:4] if x), " ".join(closing)]
    story = "\n\n".join(p for p in paragraphs if p.strip())
    # Dopełnienie do minimalnej długości historii: znów tylko słowa persony, w krótkich formułach.
    fillers = [
        *(
            ctx.say(
                f"{_upper_first(x)}? {first_name} chętnie o tym mówi.",
                f"{_upper_first(x)}? {first_name} likes that topic.",
            )
            for x in interests[:2]
        ),
        *(ctx.say(f"{first_name} o {x}: ważne.", f"{first_name} on {x}: it matters.") for x in values[-2:]),
        ctx.say(f"{she} to respondent syntetyczny (demo offline).", f"{she} is a synthetic respondent (offline demo)."),
    ]
    # Zdania z imieniem i słowami persony zawsze (więcej fraz tylko tej osoby); zdanie o demo — gdy brak długości.
    story += " " + " ".join(fillers[:-1])
    if len(story) < 420:
        story += " " + fillers[-1]
    return {
        "full_name": full_name,
        "title": f"{occupation}, {age_text}" if age_text else occupation,
        "headline": ctx.say(
            f"Liczy się przede wszystkim {person.values[0]}." if person.values else "Liczą się konkrety.",
            f"What matters most: {person.values[0]}." if person.values else "Wants specifics.",
        ),
        "background_story": story,
        "values": person.values,
        "interests": person.interests,
        "occupation": occupation,
        "communication_style": communication,
        "decision_style": decision,
        "concerns": person.concerns,
    }


def _profile_lists(text: str) -> dict[str, list[str]]:
    result = {}
    for line in text.splitlines():
        label, _, rest = line.partition(":")
        if label.strip().casefold() in ("values", "concerns", "interests"):
            result.setdefault(label.strip().casefold(), [x.strip() for x in rest.split(",") if x.strip()])
    return result


def _needs(ctx: _Ctx) -> dict[str, Any]:
    profile = ctx.v.get("persona_profile", "")
    facts, lists = _facts(profile), _profile_lists(profile)
    values, concerns = lists.get("values", []), lists.get("concerns", [])
    project = _short_topic(ctx.v.get("project_name", "")) or ctx.say("badanie", "the study")
    occupation = facts.get("occupation", "")
    jobs = [
        ctx.say(
            f"Kiedy wybieram coś w sprawie „{project}”, chcę, żeby liczyło się to, co ważne ({v}), żeby nie żałować.",
            f"When I choose something for “{project}”, I want what matters to me ({v}) to count, so I don't regret it.",
        )
        for v in values[:2]
    ]
    if occupation:
        jobs.append(
            ctx.say(
                f"Kiedy łączę to z codziennym zajęciem ({occupation}), chcę oszczędzać czas dla bliskich.",
                f"When I fit this around my occupation ({occupation}), I want to save time so I have more for others.",
            )
        )
    jobs += [
        ctx.say(
            f"Kiedy myślę o tym, co mnie martwi ({c}), chcę mieć pewność, żeby spać spokojnie.",
            f"When I think about what worries me ({c}), I want certainty so that I can rest easy.",
        )
        for c in concerns[:2]
    ]
    outcomes = [
        ctx.say(f"Rozwiązanie zgodne z tym, co ważne: {v}.", f"A solution in line with what matters: {v}.")
        for v in values[:3]
    ]
    outcomes.append(ctx.say("Jasne koszty i warunki, bez niespodzianek.", "Clear costs and terms, no surprises."))
    outcomes.append(ctx.say("Mniej czasu na porównywanie ofert.", "Less time spent comparing offers."))
    pains = [
        ctx.say(f"{c[:1].upper()}{c[1:]} — obawa z profilu.", f"{c[:1].upper()}{c[1:]} — a worry named in the profile.")
        for c in concerns[:4]
    ]
    pains += [
        ctx.say("Brak jasnych informacji przed decyzją.", "No clear information before deciding."),
        ctx.say("Strata czasu na porównywanie ofert.", "Time lost comparing offers."),
    ]
    return {"jobs_to_be_done": jobs[:6] or pains[:2], "desired_outcomes": outcomes[:6], "pain_points": pains[:6]}


def _bucket_name(category: str, bucket: str, language: str) -> str:
    """„Wiek: 25–34 lata” — etykiety kategorii i koszyka w języku badania."""
    label = category_label(category, buckets=[bucket], language=language)
    return f"{label}: {bucket_label(category, bucket, language=language)}"


def _segments(ctx: _Ctx) -> dict[str, Any]:
    """Segmenty z przydziału: kategoria, której koszyki dzielą plan na 2–6 grup; opis to skład grupy w etykietach."""
    text = ctx.v.get("allocation_summary", "")
    header = {
        m[1]: [b.rsplit(" ×", 1)[0] for b in m[2].split(", ")]
        for m in re.finditer(r"^([^#\n][^:\n]*): (.+)$", text, re.MULTILINE)
    }
    rows = {
        int(m[1]): [x.strip() for x in m[2].split(", ")] for m in re.finditer(r"^#(\d+): (.+)$", text, re.MULTILINE)
    }
    owner = {bucket: category for category, buckets in header.items() for bucket in buckets}
    best = next((c for c, buckets in header.items() if 2 <= len(buckets) <= 6), None) or next(iter(header), "")
    groups: dict[str, list[int]] = {}
    for index, values in sorted(rows.items()):
        bucket = next((v for v in values if owner.get(v) == best), "-")
        groups.setdefault(bucket, []).append(index)
    if len(groups) < 2:  # schemat wymaga co najmniej dwóch segmentów: dzielimy jedyną grupę na pół
        members = next(iter(groups.values()), [])
        groups = {"a": members[: len(members) // 2 or 1], "b": members[len(members) // 2 or 1 :] or members[:1]}
    segments = []
    for bucket, members in list(groups.items())[:6]:
        name = (
            _bucket_name(best, bucket, ctx.language)
            if bucket in owner
            else ctx.say(f"Grupa {len(segments) + 1}", f"Group {len(segments) + 1}")
        )
        composition: dict[str, Counter[str]] = {}
        for index in members:
            for value in rows.get(index, []):
                if value in owner and owner[value] != best:
                    composition.setdefault(owner[value], Counter())[value] += 1
        described = [
            f"{category_label(c, buckets=list(cnt), language=ctx.language)}: "
            + ", ".join(f"{bucket_label(c, b, language=ctx.language)} ({n})" for b, n in cnt.most_common())
            for c, cnt in composition.items()
        ]
        brief = ctx.say(
            f"Segment wyodrębniony w demonstracji offline z przydziału kwotowego ({len(members)} profili). Skład: "
            + "; ".join(described)
            + ". Opis podaje wyłącznie fakty z przydziału; postawy i potrzeby tego segmentu warto opisać, "
            "generując panel z prawdziwym modelem językowym i sprawdzając je w dyskusji.",
            f"Segment drawn in the offline demo from the quota plan ({len(members)} profiles). Composition: "
            + "; ".join(described)
            + ". The description states only facts from the plan; the segment's attitudes and needs are best described "
            "by generating the panel with a real language model and testing them in a discussion.",
        )
        while len(brief) < 300:  # schemat wymaga opisu co najmniej 300 znaków, także przy ubogim przydziale
            brief += ctx.say(
                f" Wspólna cecha profili w tym segmencie: {name}.",
                f" What the profiles in this segment share: {name}.",
            )
        characteristics = [name] + [d.split(" (")[0] for d in described][:4]
        if len(characteristics) < 2:
            characteristics.append(ctx.say(f"{len(members)} profili", f"{len(members)} profiles"))
        segments.append({"name": name, "brief": brief, "characteristics": characteristics, "member_indexes": members})
    return {"segments": segments}


def _survey_themes(ctx: _Ctx) -> dict[str, Any]:
    """Koder tematów: grupy odpowiedzi po wspólnych słowach treściowych z dosłownymi cytatami (`offline_themes`)."""
    return code_themes(ctx.language, ctx.v.get("answers", ""), int(ctx.v.get("max_themes") or 8))


_BUILDERS: dict[tuple[str, str], Callable[[_Ctx], dict[str, Any]]] = {
    ("moderator", "*"): _moderator,
    ("focus_group_turn", "TurnOut"): _participant,
    ("focus_group_turn", "AnswerOut"): _answer,
    ("stance", "*"): _stance,
    ("summary", "*"): _summary,
    ("persona_generation", "*"): _persona_profile,
    ("persona_needs", "*"): _needs,
    ("persona_orchestration", "*"): _segments,
    ("survey_themes", "*"): _survey_themes,
}

# Role bazy wiedzy (graf dokumentów, pytania) w osobnym module.
from sight.llm.offline_knowledge import BUILDERS as _KNOWLEDGE_BUILDERS  # noqa: E402

_BUILDERS.update(_KNOWLEDGE_BUILDERS)
