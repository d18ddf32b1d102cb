"""Toy table-to-text: triple sets about generated entities and the sentences that describe them.

Two domains, in the spirit of DART's WebNLG and E2E parts:

* people: ``(name, occupation | birth place | birth year | employer, value)``;
* restaurants: ``(name, eat type | food | price range | area | near, value)``.

A triple set holds 1-4 triples about one subject, in random order. Its first reference aggregates them into
one sentence in a fixed clause order (so a model has to reorder and merge, not copy); a second reference
phrases the same facts differently. Every subject and object value appears verbatim in both references, so
the slot recall of a reference is 100%.
"""
from __future__ import annotations

import random

__all__ = ["make_tripleset", "realise", "PEOPLE", "RESTAURANTS"]

_FIRST = ("Alice", "Boris", "Chloe", "Dmitri", "Elena", "Farid", "Greta", "Hassan", "Irene", "Jonas", "Keiko",
          "Lucas", "Maya", "Nadia", "Oscar", "Priya", "Quentin", "Rania", "Stefan", "Tomas")
_LAST = ("Moreno", "Berg", "Okafor", "Lindqvist", "Costa", "Novak", "Haddad", "Fischer", "Tanaka", "Dubois",
         "Rossi", "Kowalski", "Nilsen", "Petrov", "Silva")
_OCCUPATIONS = ("baker", "painter", "nurse", "pilot", "teacher", "chemist", "architect", "farmer", "lawyer",
                "dancer", "engineer", "actor")
_CITIES = ("Lyon", "Porto", "Gdansk", "Tampere", "Graz", "Bilbao", "Utrecht", "Brno", "Aarhus", "Turin")
_EMPLOYERS = ("Acme Works", "Nordic Tiles", "Blue River Bank", "Sunfield Farms", "Polar Air",
              "Greenway Schools", "Atlas Labs", "City Hospital")
_ADJ = ("Golden", "Blue", "Red", "Silver", "Green", "Old", "Little", "Happy")
_NOUN = ("Fork", "Spoon", "Lantern", "Anchor", "Oak", "Kettle", "Crown", "Mill")
_EAT = ("pub", "restaurant", "coffee shop")
_FOOD = ("Italian", "Chinese", "French", "Indian", "Japanese", "English")
_PRICE = ("cheap", "moderate", "high")
_AREA = ("city centre", "riverside")

#: predicate -> value pool, per domain
PEOPLE = {"occupation": _OCCUPATIONS, "birth place": _CITIES, "birth year": None, "employer": _EMPLOYERS}
RESTAURANTS = {"eat type": _EAT, "food": _FOOD, "price range": _PRICE, "area": _AREA, "near": None}


def _a(word: str) -> str:
    return ("an " if word[0].lower() in "aeiou" else "a ") + word


def _listing(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _born(facts: dict[str, str]) -> str:
    place, year = facts.get("birth place"), facts.get("birth year")
    return " ".join(filter(None, ["born", f"in {place}" if place else "", f"in {year}" if year else ""]))


def _person(s: str, f: dict[str, str]) -> tuple[str, str]:
    clauses = []
    if "occupation" in f:
        clauses.append(f"is {_a(f['occupation'])}")
    if "birth place" in f or "birth year" in f:
        clauses.append("was " + _born(f))
    if "employer" in f:
        clauses.append(f"works for {f['employer']}")
    first = f"{s} {_listing(clauses)}."
    # second phrasing: an apposition around the subject, with the employer (if any) as the main verb
    apposition = [_a(f["occupation"])] if "occupation" in f else []
    if "birth place" in f or "birth year" in f:
        apposition.append(_born(f))
    if "employer" in f:
        second = f"{s}, {' '.join(apposition)}, works for {f['employer']}." if apposition else \
            f"{f['employer']} employs {s}."
    elif "occupation" in f:
        second = f"{s} is {' '.join(apposition)}."
    else:
        second = f"{s} was {_born(f)}."
    return first, second


def _restaurant(s: str, f: dict[str, str]) -> tuple[str, str]:
    kind = f.get("eat type", "place")
    noun = f"{f['food']} {kind}" if "food" in f else kind
    tail = []
    if "price range" in f:
        tail.append(f"in the {f['price range']} price range")
    if "area" in f:
        tail.append(f"in the {f['area']} area")
    if "near" in f:
        tail.append(f"near {f['near']}")
    first = " ".join([s, "is", _a(noun)] + tail) + "."
    where = " ".join(t for t in tail if not t.startswith("in the") or "area" in t)
    price = f" with {f['price range']} prices" if "price range" in f else ""
    serves = f"serves {f['food']} food" if "food" in f else f"is {_a(kind)}"
    if where:
        second = f"{where[0].upper()}{where[1:]}, {s} {serves}{price}."
    else:
        second = f"{s} {serves}{price}."
    if "food" in f and "eat type" in f:
        second = second[:-1] + f" as {_a(f['eat type'])}."
    return first, second


def _name(rng: random.Random, domain: str) -> str:
    if domain == "people":
        return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    return f"The {rng.choice(_ADJ)} {rng.choice(_NOUN)}"


def realise(subject: str, facts: dict[str, str], domain: str) -> list[str]:
    """The two reference sentences for one subject's facts (predicate -> value)."""
    return list(_person(subject, facts) if domain == "people" else _restaurant(subject, facts))


def make_tripleset(rng: random.Random) -> tuple[list[list[str]], list[str]]:
    """Draw a triple set of 1-4 triples about one new subject and its two references."""
    domain = rng.choice(("people", "restaurants"))
    pools = PEOPLE if domain == "people" else RESTAURANTS
    subject = _name(rng, domain)
    predicates = rng.sample(sorted(pools), rng.randint(1, min(4, len(pools))))
    facts: dict[str, str] = {}
    for predicate in predicates:
        pool = pools[predicate]
        if predicate == "birth year":
            facts[predicate] = str(rng.randint(1940, 2000))
        elif predicate == "near":
            other = _name(rng, domain)
            facts[predicate] = other if other != subject else "The Old Mill Inn"
        else:
            facts[predicate] = rng.choice(pool)
    triples = [[subject, p, facts[p]] for p in predicates]  # already in random order
    return triples, realise(subject, facts, domain)
