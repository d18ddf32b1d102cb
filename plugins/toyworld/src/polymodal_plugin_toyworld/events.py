"""Event records and the news-like articles that report them (the summarization toy).

An :class:`EventRecord` is a who/what/where/when/how-many fact: ``alice sold 7 boxes at the market on
tuesday``. :func:`render_article` hides its one *key sentence* at a random position among distractor
sentences that reuse the same vocabulary (people, places, weekdays, numbers, things) in other structures, so
that copying the first sentence (Lead-1) or any single word list does not give the summary. The summary is a
fixed template, and :func:`parse_summary` inverts it, so a generated summary can be checked slot by slot.

Usage::

    rng = split_rng(0, "train", "events")
    record = random_event(rng)
    article, key_index = render_article(record, rng)
    record.summary()                        # 'alice sold 7 boxes at the market on tuesday'
    parse_summary(record.summary()) == record.slots()
"""
from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass

from polymodal_plugin_toyworld import vocab

__all__ = ["EventRecord", "SLOTS", "random_event", "key_sentence", "distractor_sentence", "render_article",
           "parse_summary"]

#: The slots of an event record, in summary order.
SLOTS: tuple[str, ...] = ("who", "verb", "count", "thing", "place", "day")
_PAST = dict(vocab.EVENT_VERBS)
_COUNT_RANGE = (2, 20)
_PLACE_ADJECTIVES = ("quiet", "busy", "crowded", "empty", "noisy", "closed", "open", "calm")
_WEATHER_ADJECTIVES = ("warm", "cold", "bright", "dark", "wet", "dry", "windy", "grey")
_SUMMARY_RE = re.compile(r"^\s*([a-z]+) ([a-z]+) (\d+) ([a-z]+) at (the [a-z ]+?) on ([a-z]+)\s*\.?\s*$")


@dataclass(frozen=True)
class EventRecord:
    """One event.

    Attributes:
        who: a person (from :data:`vocab.PEOPLE`).
        verb: the verb's base form (from :data:`vocab.EVENT_VERBS`).
        count: how many things (2-20).
        thing: a plural noun (from :data:`vocab.THINGS`).
        place: a place with its article ("the market").
        day: a weekday.
    """

    who: str
    verb: str
    count: int
    thing: str
    place: str
    day: str

    @property
    def past(self) -> str:
        """The verb in the past tense."""
        return _PAST[self.verb]

    def slots(self) -> dict[str, str]:
        """The record as slot -> string, the form :func:`parse_summary` returns (verb in the past tense)."""
        out = {k: str(v) for k, v in asdict(self).items()}
        out["verb"] = self.past
        return out

    def summary(self) -> str:
        """The one-line templated summary (count in digits)."""
        return f"{self.who} {self.past} {self.count} {self.thing} at {self.place} on {self.day}"


def random_event(rng: random.Random) -> EventRecord:
    """Draw an event record uniformly over its slots."""
    verb, _ = rng.choice(vocab.EVENT_VERBS)
    return EventRecord(who=rng.choice(vocab.PEOPLE), verb=verb, count=rng.randint(*_COUNT_RANGE),
                       thing=rng.choice(vocab.THINGS), place=rng.choice(vocab.PLACES),
                       day=rng.choice(vocab.WEEKDAYS))


def key_sentence(record: EventRecord, rng: random.Random) -> str:
    """The article sentence that states the event (count in words), in one of four word orders."""
    n = vocab.number_word(record.count)
    r = record
    forms = (
        f"on {r.day} , {r.who} {r.past} {n} {r.thing} at {r.place} .",
        f"{r.who} {r.past} {n} {r.thing} at {r.place} on {r.day} .",
        f"at {r.place} , {r.who} {r.past} {n} {r.thing} on {r.day} .",
        f"{n} {r.thing} were {r.past} by {r.who} at {r.place} on {r.day} .",
    )
    return rng.choice(forms)


def distractor_sentence(rng: random.Random, record: EventRecord | None = None) -> str:
    """A sentence in the article's vocabulary that states no event (no past event verb with a count).

    Args:
        rng: the random stream.
        record: the article's event; distractors may mention its person or place, never its full fact.
    """
    person = record.who if record is not None and rng.random() < 0.3 else rng.choice(vocab.PEOPLE)
    other = rng.choice([p for p in vocab.PEOPLE if p != person])
    place = record.place if record is not None and rng.random() < 0.3 else rng.choice(vocab.PLACES)
    things = rng.choice(vocab.THINGS)
    # Adjectives that fit a place (or the weather), so distractors read like news.
    adj = rng.choice(_PLACE_ADJECTIVES)
    weather, weather2 = rng.sample(_WEATHER_ADJECTIVES, 2)
    day = rng.choice(vocab.WEEKDAYS)
    base, _ = rng.choice(vocab.EVENT_VERBS)
    years = vocab.number_word(rng.randint(2, 20))
    forms = (
        f"{person} is a {rng.choice(vocab.NOUNS)} who lives near {place} .",
        f"{place} was {adj} on {day} .",
        f"many people came to {place} to see the {things} .",
        f"{person} said the {things} were {rng.choice(vocab.ADJECTIVES)} .",
        f"{person} and {other} have worked together for {years} years .",
        f"the weather was {weather} and {weather2} .",
        f"{person} plans to {base} more {things} next {day} .",
        f"nobody knows how many {things} are left at {place} .",
    )
    return rng.choice(forms)


def render_article(record: EventRecord, rng: random.Random, n_sentences: tuple[int, int] = (5, 8)
                   ) -> tuple[str, int]:
    """Render an article: the key sentence at a uniformly random position among distinct distractors.

    Args:
        record: the event to report.
        rng: the random stream.
        n_sentences: inclusive range of the article's length in sentences.

    Returns:
        The article (one line) and the 0-based index of the key sentence.
    """
    n = rng.randint(*n_sentences)
    distractors: list[str] = []
    while len(distractors) < n - 1:
        s = distractor_sentence(rng, record)
        if s not in distractors:
            distractors.append(s)
    position = rng.randrange(n)
    sentences = distractors[:position] + [key_sentence(record, rng)] + distractors[position:]
    return " ".join(sentences), position


def parse_summary(text: str) -> dict[str, str] | None:
    """Parse a templated summary into slots (the inverse of :meth:`EventRecord.summary`).

    Returns:
        slot -> value (``verb`` in the past tense, ``count`` as digits), or ``None`` when ``text`` does not
        follow the template.
    """
    m = _SUMMARY_RE.match(text.lower())
    if not m:
        return None
    return dict(zip(SLOTS, m.groups()))
