"""Reguła zabierania głosu: każdy cichy mówi, zagadnięty odpowiada, nikt nie mówi dwa razy z rzędu, powtarzalność."""

from hypothesis import given, settings
from hypothesis import strategies as st

from focus_groups.turns import PastTurn, Speaker, is_forced_floor, next_speaker


def _panel(extraversions):
    return [Speaker(id=f"p{i}", name=f"P{i}", extraversion=e) for i, e in enumerate(extraversions)]


def _simulate(speakers, turns, seed="s", addressing=None):
    history = []
    for t in range(turns):
        speaker = next_speaker(speakers, history, turns_left=turns - t, seed=seed)
        addressed = addressing(t, speaker) if addressing else None
        history.append(PastTurn(speaker.id, addressed))
    return history


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=10), st.integers(0, 30), st.text(max_size=5))
def test_every_participant_speaks_when_there_are_enough_turns_and_nobody_speaks_twice_in_a_row(
    extraversions, extra, seed
):
    speakers = _panel(extraversions)
    turns = len(speakers) + extra
    history = _simulate(speakers, turns, seed)
    assert {t.speaker_id for t in history} == {s.id for s in speakers}
    assert all(a.speaker_id != b.speaker_id for a, b in zip(history, history[1:], strict=False))


def test_a_quiet_introvert_still_gets_the_floor_against_extroverts():
    speakers = _panel([1.0, 1.0, 1.0, 0.0])
    history = _simulate(speakers, 4)
    assert "p3" in {t.speaker_id for t in history}


def test_being_addressed_gives_the_next_turn():
    speakers = _panel([1.0, 1.0, 0.0, 0.2])
    history = [PastTurn("p0", addressed_id="p2")]
    assert next_speaker(speakers, history, turns_left=6, seed="x").id == "p2"


def test_the_choice_is_reproducible_so_a_resumed_run_picks_the_same_speakers():
    speakers = _panel([0.2, 0.5, 0.9, 0.4, 0.7])
    assert _simulate(speakers, 12, "seed-1") == _simulate(speakers, 12, "seed-1")


def test_nobody_takes_much_more_than_a_fair_share():
    speakers = _panel([1.0, 0.0, 0.0, 0.0])
    history = _simulate(speakers, 16)
    counts = [sum(t.speaker_id == s.id for t in history) for s in speakers]
    assert max(counts) <= 16 / 4 + 2


def test_forced_floor_is_reported_for_the_moderator_to_invite():
    speakers = _panel([1.0, 1.0, 0.0])
    # p1 zwraca się do p0, więc p0 wygrałby licytację — ale p2 jeszcze nie mówił, a została jedna tura.
    history = [PastTurn("p0"), PastTurn("p1", addressed_id="p0")]
    speaker = next_speaker(speakers, history, turns_left=1, seed="s")
    assert speaker.id == "p2" and is_forced_floor(speaker, speakers, history, turns_left=1, seed="s")
    # Ktoś, kto i tak wygrałby licytację, nie potrzebuje zaproszenia.
    natural = next_speaker(speakers, [PastTurn("p1")], turns_left=5, seed="s")
    assert not is_forced_floor(natural, speakers, [PastTurn("p1")], turns_left=5, seed="s")
