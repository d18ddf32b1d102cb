"""Shared vocabularies of the toy world.

Every toy generator draws its words from here so that one scene graph can be captioned, questioned, rendered
and entailed with the same names. The lists are tuples (immutable, ordered): generators index them with a
seeded ``random.Random``, so changing the order of a list changes the data; append, never reorder.

The visual vocabulary follows TOYWORLD.md: 3 shapes x 6 colours x 2 sizes.
"""
from __future__ import annotations

__all__ = [
    "COLORS", "COLOR_RGB", "SHAPES", "SIZES", "SIZE_SCALE", "MATERIALS", "RELATIONS", "DIRECTIONS",
    "MOTIONS", "PEOPLE", "PLACES", "THINGS", "EVENT_VERBS", "WEEKDAYS", "NUMBER_WORDS", "ADJECTIVES",
    "NOUNS", "VERBS", "ADVERBS", "POSITIVE_WORDS", "NEGATIVE_WORDS", "INTENSIFIERS", "ANTONYMS",
    "SYNONYMS", "number_word",
]

#: Object colours, with the RGB used by the renderer (saturated, pairwise far apart in hue).
COLORS: tuple[str, ...] = ("red", "green", "blue", "yellow", "purple", "orange")
COLOR_RGB: dict[str, tuple[int, int, int]] = {
    "red": (220, 40, 40),
    "green": (40, 180, 60),
    "blue": (40, 80, 220),
    "yellow": (230, 210, 40),
    "purple": (150, 60, 190),
    "orange": (240, 140, 30),
}

#: Object shapes; their fill ratios in a bounding box (1.0, ~0.79, ~0.5) tell them apart in a render.
SHAPES: tuple[str, ...] = ("circle", "square", "triangle")

#: Object sizes, and the fraction of the canvas side an object of that size spans.
SIZES: tuple[str, ...] = ("small", "large")
SIZE_SCALE: dict[str, float] = {"small": 0.18, "large": 0.32}

#: A non-visual attribute: mentioned in text only, so "unmentioned property" statements exist.
MATERIALS: tuple[str, ...] = ("metal", "rubber", "wooden", "glass")

#: Spatial relations between two objects (image coordinates: y grows downwards).
RELATIONS: tuple[str, ...] = ("left of", "right of", "above", "below")

#: Motion directions and other changes used by the video tasks.
DIRECTIONS: tuple[str, ...] = ("left", "right", "up", "down")
MOTIONS: tuple[str, ...] = ("moves left", "moves right", "moves up", "moves down", "stays still",
                            "grows", "shrinks", "changes colour")

#: People, places and things for event records (summarization) and sentences (infilling).
PEOPLE: tuple[str, ...] = (
    "alice", "bob", "carol", "david", "emma", "frank", "grace", "henry", "irene", "jack", "karen", "leo",
    "maria", "nora", "oscar", "paula", "quinn", "rosa", "sam", "tina", "victor", "wendy", "yusuf", "zoe",
)
PLACES: tuple[str, ...] = (
    "the harbour", "the market", "the library", "the stadium", "the museum", "the station", "the park",
    "the school", "the hospital", "the bridge", "the factory", "the theatre", "the airport", "the farm",
    "the castle", "the river bank",
)
THINGS: tuple[str, ...] = (
    "boxes", "books", "apples", "bicycles", "lamps", "chairs", "tickets", "paintings", "boats", "trees",
    "computers", "letters", "coins", "flags", "tents", "drums",
)
#: Event verbs: (base, past tense) pairs.
EVENT_VERBS: tuple[tuple[str, str], ...] = (
    ("sell", "sold"), ("buy", "bought"), ("repair", "repaired"), ("paint", "painted"),
    ("deliver", "delivered"), ("find", "found"), ("donate", "donated"), ("build", "built"),
    ("collect", "collected"), ("move", "moved"), ("count", "counted"), ("plant", "planted"),
)
WEEKDAYS: tuple[str, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

NUMBER_WORDS: tuple[str, ...] = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
)

#: Open-class words for the sentence grammar (infilling) and word-level instruction families.
ADJECTIVES: tuple[str, ...] = (
    "old", "young", "quiet", "busy", "small", "large", "bright", "dark", "warm", "cold", "careful",
    "tired", "happy", "clever", "gentle", "strong",
)
NOUNS: tuple[str, ...] = (
    "farmer", "teacher", "child", "doctor", "sailor", "baker", "painter", "driver", "student", "singer",
    "dog", "cat", "bird", "horse", "king", "queen",
)
VERBS: tuple[tuple[str, str], ...] = (
    ("walk", "walked"), ("open", "opened"), ("carry", "carried"), ("watch", "watched"), ("clean", "cleaned"),
    ("visit", "visited"), ("follow", "followed"), ("help", "helped"), ("call", "called"), ("cook", "cooked"),
    ("read", "read"), ("see", "saw"), ("take", "took"), ("leave", "left"),
)
ADVERBS: tuple[str, ...] = ("slowly", "quickly", "quietly", "happily", "carefully", "early", "late", "often")

#: A small polarity lexicon for the sentiment toy (balanced: as many positive as negative words).
POSITIVE_WORDS: tuple[str, ...] = (
    "good", "great", "wonderful", "excellent", "pleasant", "delightful", "brilliant", "charming",
    "enjoyable", "lovely", "superb", "moving",
)
NEGATIVE_WORDS: tuple[str, ...] = (
    "bad", "terrible", "awful", "boring", "dull", "dreadful", "poor", "weak", "tedious", "clumsy",
    "annoying", "painful",
)
INTENSIFIERS: tuple[str, ...] = ("very", "really", "truly", "quite", "rather")

#: Antonym pairs (both directions are valid questions).
ANTONYMS: tuple[tuple[str, str], ...] = (
    ("hot", "cold"), ("big", "small"), ("fast", "slow"), ("happy", "sad"), ("early", "late"),
    ("light", "dark"), ("old", "new"), ("open", "closed"), ("high", "low"), ("strong", "weak"),
    ("rich", "poor"), ("full", "empty"), ("long", "short"), ("wet", "dry"), ("hard", "soft"),
    ("loud", "quiet"), ("up", "down"), ("left", "right"), ("first", "last"), ("win", "lose"),
    ("give", "take"), ("push", "pull"), ("buy", "sell"), ("day", "night"),
)
#: Synonym pairs (paraphrase toys, instruction families).
SYNONYMS: tuple[tuple[str, str], ...] = (
    ("big", "large"), ("small", "little"), ("fast", "quick"), ("happy", "glad"), ("begin", "start"),
    ("end", "finish"), ("shut", "close"), ("buy", "purchase"), ("help", "assist"), ("answer", "reply"),
    ("sick", "ill"), ("rock", "stone"), ("gift", "present"), ("road", "street"), ("choose", "pick"),
)


def number_word(n: int) -> str:
    """Return the English word for ``0 <= n <= 20``, else the digits."""
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)
