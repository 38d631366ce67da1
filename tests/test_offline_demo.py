"""Demo offline (domyślne `make run` bez klucza API): prawdziwa dyskusja przez workera, w której każdy mówi w swojej
roli — moderator moderuje, uczestnik mówi o sobie tylko prawdę z profilu, podsumowanie cytuje prawdziwe wypowiedzi.
"""

import re
import uuid

import pytest

import config
from focus_groups import discussion, summary
from focus_groups.models import FocusGroup
from focus_groups.report import markdown_report
from focus_groups.setup import FocusGroupIn
from focus_groups.setup import create_focus_group as setup_focus_group
from personas import generation
from personas.models import Persona
from tests.factories import create_persona, create_project, create_user, run_worker

pytestmark = pytest.mark.django_db

GUIDE = {
    "pl": [
        {
            "text": "Jak dziś kupujesz kawę na wynos?",
            "probes": ["Co decyduje o wyborze kawiarni?", "Ile zwykle płacisz?"],
        },
        {
            "text": "Czy kaucja 5 zł za kubek wielorazowy jest uczciwa?",
            "probes": ["Co by Cię przekonało?"],
            "proposition": "Kaucja 5 zł za kubek wielorazowy jest uczciwa.",
        },
    ],
    "en": [
        {"text": "How do you buy takeaway coffee today?", "probes": ["What decides which café you pick?"]},
        {
            "text": "Is a 5 zł deposit on reusable cups fair?",
            "probes": ["What would convince you?"],
            "proposition": "A 5 zł deposit on reusable cups is fair.",
        },
    ],
}
PEOPLE = {
    "pl": [
        ("Anna Mazur", "female", 73, "rolniczka", "village"),
        ("Piotr Zając", "male", 34, "programista", "city_500k_plus"),
        ("Ewa Król", "female", 45, "pielęgniarka", "town_under_20k"),
    ],
    "en": [
        ("Emma Smith", "female", 73, "retiree", "rural"),
        ("James Brown", "male", 34, "software developer", "urban"),
        ("Grace Miller", "female", 45, "registered nurse", "suburban"),
    ],
}


# Stałe identyfikatory grup przebiegów offline (ziarno kolejności głosów); zob. `offline_run`.
FIXED_GROUPS = {("pl", "discussion"): 1, ("en", "discussion"): 2, ("pl", "interviews"): 3, ("en", "interviews"): 4}


def occupation_words(language: str) -> set[str]:
    """Każda forma każdego zawodu ze słownika rynku w języku badania (małymi literami)."""
    preset = next(p for p in config.load_demographics().values() if p.language == language)
    return {form.strip().lower() for o in preset.vocabularies.occupations for form in o.name.split(" / ")}


def assert_true_to_facts(turn, lexicon, language):
    """Wypowiedź nie przeczy wiekowi, płci ani zawodowi mówiącego i nie pokazuje kluczy danych."""
    persona, text = turn.persona, turn.text.lower()
    own = {persona.occupation.lower()}
    others = {w for w in lexicon if w not in own and not any(w in o for o in own)}
    assert not [w for w in others if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text)], turn.text
    ages = {int(n) for n in re.findall(r"(\d+) (?:lat|lata|rok|years)", text)}
    assert ages <= {persona.age}, turn.text
    if language == "pl":
        assert not re.search(r"village|city_500k_plus|town_under_20k|female|\bmale\b", turn.text), turn.text
        wrong = r"\w+łem\b|\bprzekonany\b" if persona.gender == "female" else r"\w+łam\b|\bprzekonana\b"
        assert not re.search(wrong, text), turn.text


def offline_run(settings, capture, language, mode="discussion"):
    settings.SIGHT_LLM_PROVIDER = "offline"
    project = create_project(language=language)
    people = [
        create_persona(
            project=project,
            full_name=name,
            gender=gender,
            age=age,
            occupation=occupation,
            location=location,
            demographics={"gender": gender, "location": location},
            values=["rodzina", "oszczędność"] if language == "pl" else ["family", "thrift"],
            concerns=["rosnące ceny"] if language == "pl" else ["rising prices"],
            extraversion=extraversion,
        )
        for (name, gender, age, occupation, location), extraversion in zip(
            PEOPLE[language], (0.9, 0.5, 0.05), strict=True
        )
    ]
    data = FocusGroupIn(
        name="Kawa",
        questions=GUIDE[language],
        mode=mode,
        turns_per_question=4,
        participants={"persona_ids": [p.id for p in people]},
    )
    # Stały identyfikator grupy: kolejność głosów (ziarno z id) jest wtedy ta sama w każdym przebiegu, więc cicha
    # osoba zawsze potrzebuje zaproszenia (z losowym id czasem wylicytowała głos sama i testu nie było czym sprawdzić).
    field = FocusGroup._meta.get_field("id")
    field._get_default = lambda: uuid.UUID(f"00000000-0000-4000-8000-{FIXED_GROUPS[language, mode]:012d}")
    try:
        fg = setup_focus_group(project, data)
    finally:
        del field._get_default
    interjection = "Czy ktoś z Was nosi własny kubek?" if language == "pl" else "Does anyone carry their own cup?"
    if mode == "discussion":
        discussion.interject(fg, text=interjection, user=project.owner)
    with capture(execute=True):
        discussion.start_run(fg, user=project.owner)
    run_worker()
    fg.refresh_from_db()
    assert fg.status == "completed"
    return fg, people, interjection


@pytest.mark.parametrize("language", ["pl", "en"])
def test_the_offline_moderator_moderates_and_participants_never_contradict_their_facts(
    language, settings, django_capture_on_commit_callbacks
):
    fg, people, interjection = offline_run(settings, django_capture_on_commit_callbacks, language)
    moderator = list(fg.events.filter(kind="moderator").order_by("seq"))
    assert moderator and all(e.text.rstrip().endswith("?") for e in moderator)
    texts = " ".join(e.text for e in moderator)
    for question in GUIDE[language]:
        for probe in question["probes"]:
            assert probe in texts
    assert any(e.payload.get("interjection_seq") and interjection in e.text for e in moderator)
    # Każde pytanie moderator otwiera i zamyka.
    for qi in range(len(GUIDE[language])):
        keys = list(fg.events.filter(kind="moderator", question_index=qi).order_by("seq").values_list("key", flat=True))
        assert keys[0] == f"q{qi}:open" and keys[-1] == f"q{qi}:wrap"
    # Cicha osoba (ekstrawersja 0.05) zostaje zaproszona po imieniu.
    quiet = people[2].full_name.split()[0]
    assert any(e.key.startswith(f"q{e.question_index}:invite") and quiet in e.text for e in moderator)

    lexicon = occupation_words(language)
    turns = list(fg.events.filter(kind="turn").select_related("persona"))
    village = people[0]
    assert turns and any(village.age and "73" in t.text and ("wieś" in t.text or language == "en") for t in turns)
    for turn in turns:
        assert_true_to_facts(turn, lexicon, language)


def test_offline_turns_hold_the_recorded_stance_and_answer_the_previous_speaker_by_name(
    settings, django_capture_on_commit_callbacks
):
    fg, people, _ = offline_run(settings, django_capture_on_commit_callbacks, "pl")
    stances = {
        (e.question_index, str(e.persona_id), e.payload["when"]): e.payload["stance"]
        for e in fg.events.filter(kind="stance")
    }
    names = {str(p.id): p.full_name for p in people}
    # Stanowiska tylko przy pytaniu z tezą (drugim); pytanie otwarte ich nie ma.
    assert not any(qi == 0 for qi, _pid, _when in stances)
    for turn in fg.events.filter(kind="turn", question_index=1):
        before = stances[(turn.question_index, str(turn.persona_id), "before")]
        assert stances[(turn.question_index, str(turn.persona_id), "after")] == before
        phrases = {
            "support": ("przychylnie", "jestem na tak"),
            "neutral": ("mieszane uczucia", "nie mam wyrobionego zdania"),
            "oppose": ("sceptycznie", "nadal mam wątpliwości"),
        }
        assert any(phrase in turn.text for phrase in phrases[before]), turn.text
        for other in turn.payload["agrees_with"] + turn.payload["disagrees_with"]:
            assert names[other].split()[0] in turn.text
            agrees = other in turn.payload["agrees_with"]
            assert (stances[(turn.question_index, other, "before")] == before) == agrees, turn.text
    assert fg.events.filter(kind="turn").exclude(payload__agrees_with=[], payload__disagrees_with=[]).exists()


def test_the_offline_summary_quotes_real_turns_with_their_numbers(settings, django_capture_on_commit_callbacks):
    fg, people, _ = offline_run(settings, django_capture_on_commit_callbacks, "pl")
    with django_capture_on_commit_callbacks(execute=True):
        summary.start_summary(fg, user=fg.project.owner)
    run_worker()
    fg.refresh_from_db()
    turns = {e.seq: e.text for e in fg.events.filter(kind="turn")}
    for insight in fg.summary["key_insights"]:
        assert set(insight["citations"]) <= set(turns)
        quotes = re.findall(r"„(.+?)”(?:;|$)", insight["text"])
        assert len(quotes) == len(insight["citations"])
        for seq, quote in zip(insight["citations"], quotes, strict=True):
            assert quote.rstrip("…") in turns[seq]
    top = max(people, key=lambda p: fg.events.filter(kind="turn", persona=p).count())
    assert top.full_name in fg.summary["executive_summary"] and "offline" in fg.summary["executive_summary"]
    assert "Ja " not in fg.summary["executive_summary"]
    after = [e.payload["stance"] for e in fg.events.filter(kind="stance", question_index=1, payload__when="after")]
    counts = f"Q2 po dyskusji: za {after.count('support')}, neutralnie {after.count('neutral')}"
    assert counts in fg.summary["sentiment_narrative"]


def test_offline_personas_needs_and_segments_use_labels_and_the_personas_own_facts(
    settings, django_capture_on_commit_callbacks
):
    settings.SIGHT_LLM_PROVIDER = "offline"
    project = create_project(
        language="pl",
        target_demographics={
            "gender": {"female": 0.5, "male": 0.5},
            "location": {"village": 0.5, "city_500k_plus": 0.5},
            "age_group": {"25-34": 0.5, "65+": 0.5},
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        run = generation.start_generation(project, user=project.owner, num_personas=6, seed=7)
    run_worker()
    personas = list(Persona.objects.filter(run=run))
    assert len(personas) == 6
    segment_text = " ".join(s.name + " " + s.brief for s in run.segments.all())
    assert "village" not in segment_text and "city_500k_plus" not in segment_text and "wieś" in segment_text
    lexicon = occupation_words("pl")
    for persona in personas:
        story = persona.background_story.lower()
        assert persona.occupation.lower() in story and str(persona.age) in story
        foreign = {w for w in lexicon if w != persona.occupation.lower() and w not in persona.occupation.lower()}
        assert not [w for w in foreign if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", story)], persona.background_story
        assert "village" not in persona.background_story and "female" not in persona.background_story
    persona = personas[0]
    with django_capture_on_commit_callbacks(execute=True):
        generation.start_needs(persona, user=create_user())
    run_worker()
    persona.refresh_from_db()
    needs = " ".join(persona.needs["jobs_to_be_done"] + persona.needs["pain_points"])
    assert persona.concerns[0] in needs and persona.values[0] in needs
    assert f"{persona.occupation}, {persona.occupation}" not in needs
    # Obawy pochodzą z listy persony, nie z akapitu jej historii.
    assert all(len(p) < 200 for p in persona.needs["pain_points"])


@pytest.mark.parametrize("language", ["pl", "en"])
def test_offline_interviews_answer_each_question_and_its_probes_in_character(
    language, settings, django_capture_on_commit_callbacks
):
    fg, people, _ = offline_run(settings, django_capture_on_commit_callbacks, language, mode="interviews")
    answers = list(fg.events.filter(kind="answer").select_related("persona"))
    assert len(answers) == len(people) * len(GUIDE[language])
    lexicon = occupation_words(language)
    for answer in answers:
        assert_true_to_facts(answer, lexicon, language)
        probe = GUIDE[language][answer.question_index]["probes"][0].rstrip("?")
        assert probe in answer.text and str(answer.persona.age) in answer.text
    report = markdown_report(fg)
    assert ("niezależne wywiady" if language == "pl" else "independent interviews") in report


def test_offline_needs_come_from_the_personas_own_lists_not_from_its_story(
    settings, django_capture_on_commit_callbacks
):
    settings.SIGHT_LLM_PROVIDER = "offline"
    project = create_project(language="en")
    persona = create_persona(
        project=project,
        full_name="Emma Jones",
        occupation="retiree",
        values=["family", "thrift"],
        concerns=["car repair costs", "health"],
        background_story="Emma lives alone.\n\nConcerns: her late husband's debts. Speaks plainly.\n\nShe gardens.",
    )
    with django_capture_on_commit_callbacks(execute=True):
        generation.start_needs(persona, user=create_user())
    run_worker()
    persona.refresh_from_db()
    pains = persona.needs["pain_points"]
    assert pains[:2] == ["Car repair costs — a worry named in the profile.", "Health — a worry named in the profile."]
    assert not any("husband" in p for p in pains + persona.needs["jobs_to_be_done"])
    assert any("(retiree)" in job for job in persona.needs["jobs_to_be_done"])


def test_offline_segments_are_accepted_even_when_the_plan_has_a_single_category(
    settings, django_capture_on_commit_callbacks
):
    settings.SIGHT_LLM_PROVIDER = "offline"
    project = create_project(language="pl", target_demographics={"gender": {"female": 0.5, "male": 0.5}})
    with django_capture_on_commit_callbacks(execute=True):
        run = generation.start_generation(project, user=project.owner, num_personas=4, seed=5)
    run_worker()
    run.refresh_from_db()
    assert not run.segment_fallback, run.segment_fallback_reason
    assert sorted(s.name for s in run.segments.all()) == ["Płeć: kobieta", "Płeć: mężczyzna"]
