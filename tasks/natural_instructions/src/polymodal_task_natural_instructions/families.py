"""The toy instruction families: small text-to-text tasks with several paraphrased definitions each.

Families that share an input format differ only in their definition (add vs. subtract on ``"23 and 7"``;
first word vs. reverse vs. upper case on a word list; antonym vs. synonym on ``"alice said hot"``), so a model
must read the instruction. Lexical families put the word in a varying frame, so every word is seen in
training while instances (whole inputs) never repeat across splits.

One family, :data:`HELD_OUT_FAMILY` (``last_word``), appears in the test split only: a family-level
generalisation probe beside the instance-level test of the others.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable

from polymodal_plugin_toyworld import World, vocab

__all__ = ["Family", "FAMILIES", "HELD_OUT_FAMILY", "number_words"]

_WORDS: tuple[str, ...] = tuple(dict.fromkeys(
    vocab.COLORS + vocab.SHAPES + vocab.NOUNS + vocab.ADJECTIVES + vocab.THINGS))
_ANTONYM = {a: b for a, b in vocab.ANTONYMS} | {b: a for a, b in vocab.ANTONYMS}
_SYNONYM = {a: b for a, b in vocab.SYNONYMS} | {b: a for a, b in vocab.SYNONYMS}
_PAST = dict(vocab.VERBS + vocab.EVENT_VERBS)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_WORLD = World(0)


def number_words(n: int) -> str:
    """English words for ``0 <= n <= 99``: ``42`` -> ``"forty two"``."""
    if not 0 <= n <= 99:
        raise ValueError(f"number_words covers 0-99, got {n}")
    if n <= 20:
        return vocab.NUMBER_WORDS[n]
    tens, units = divmod(n, 10)
    return _TENS[tens] + (f" {vocab.NUMBER_WORDS[units]}" if units else "")


@dataclass(frozen=True)
class Family:
    """One toy instruction family.

    Attributes:
        name: ``lower_snake`` name; the task file is ``toy_<name>.json``.
        definitions: 3-5 paraphrases of the instruction.
        make: draws one ``(input, output)`` instance.
        wrong: a plausible wrong output for ``(input, output)``, for negative examples.
    """

    name: str
    definitions: tuple[str, ...]
    make: Callable[[random.Random], tuple[str, str]]
    wrong: Callable[[str, str], str]


def _word_list(rng: random.Random, lo: int = 3, hi: int = 5) -> list[str]:
    return rng.sample(_WORDS, rng.randint(lo, hi))


def _numbers(rng: random.Random) -> list[int]:
    return rng.sample(range(1, 100), rng.randint(3, 5))


def _pair(rng: random.Random) -> tuple[int, int]:
    a, b = rng.sample(range(1, 51), 2)
    return max(a, b), min(a, b)


def _join(items: list) -> str:
    return " ".join(str(i) for i in items)


def _count_letter(rng: random.Random) -> tuple[str, str]:
    words = _word_list(rng, 1, 3)
    letters = "".join(words)
    letter = rng.choice(letters) if rng.random() < 0.8 else rng.choice("abcdefghijklmnopqrstuvwxyz")
    return f"letter {letter} in {_join(words)}", str(letters.count(letter))


def _colour_of(rng: random.Random) -> tuple[str, str]:
    scene = _WORLD.scene(rng, "test", rng.randint(2, 3), distinct_shapes=True)
    obj = rng.choice(scene.objects)
    return f"{scene.caption()} ; {obj.shape}", obj.colour


def _remove_duplicates(rng: random.Random) -> tuple[str, str]:
    words = [rng.choice(vocab.COLORS[:4]) for _ in range(rng.randint(4, 6))]
    return _join(words), _join(list(dict.fromkeys(words)))


def _lexical(table: dict[str, str]) -> Callable[[random.Random], tuple[str, str]]:
    words = sorted(table)

    def make(rng: random.Random) -> tuple[str, str]:
        word = rng.choice(words)
        return f"{rng.choice(vocab.PEOPLE)} said {word}", table[word]
    return make


def _number_phrase(rng: random.Random) -> tuple[int, str]:
    return rng.randrange(100), rng.choice(vocab.THINGS)


def _to_words(rng: random.Random) -> tuple[str, str]:
    n, things = _number_phrase(rng)
    return f"{n} {things}", f"{number_words(n)} {things}"


def _to_digits(rng: random.Random) -> tuple[str, str]:
    n, things = _number_phrase(rng)
    return f"{number_words(n)} {things}", f"{n} {things}"


def _past_tense(rng: random.Random) -> tuple[str, str]:
    person, (verb, past), things = rng.choice(vocab.PEOPLE), rng.choice(sorted(_PAST.items())), \
        rng.choice(vocab.THINGS)
    return f"{person} will {verb} the {things}", f"{person} {past} the {things}"


def _rev(words: str) -> str:
    return _join(words.split()[::-1])


def _on_words(fn: Callable[[str], str], lo: int = 3, hi: int = 5) -> Callable[[random.Random], tuple[str, str]]:
    """A family over a list of ``lo``-``hi`` distinct words: output ``fn(words)``."""
    def make(rng: random.Random) -> tuple[str, str]:
        words = _join(_word_list(rng, lo, hi))
        return words, fn(words)
    return make


def _on_numbers(fn: Callable[[list[int]], str]) -> Callable[[random.Random], tuple[str, str]]:
    """A family over 3-5 distinct numbers 1-99: output ``fn(numbers)``."""
    def make(rng: random.Random) -> tuple[str, str]:
        numbers = _numbers(rng)
        return _join(numbers), fn(numbers)
    return make


def _on_pair(fn: Callable[[int, int], int]) -> Callable[[random.Random], tuple[str, str]]:
    """A family over ``"a and b"`` with ``a > b``: output ``fn(a, b)``."""
    def make(rng: random.Random) -> tuple[str, str]:
        a, b = _pair(rng)
        return f"{a} and {b}", str(fn(a, b))
    return make


_ALL: tuple[Family, ...] = (
    Family("reverse_words", (
        "Write the words of the input in reverse order.",
        "Reverse the order of the given words.",
        "Output the same words, from the last one to the first one.",
        "Given a list of words, list them backwards."),
        _on_words(_rev), lambda i, o: i),
    Family("sort_numbers", (
        "Sort the given numbers from smallest to largest.",
        "Arrange the numbers in increasing order.",
        "Write the input numbers in ascending order.",
        "Put the numbers in order, smallest first."),
        _on_numbers(lambda n: _join(sorted(n))), lambda i, o: _rev(o)),
    Family("add_numbers", (
        "Add the two numbers and write the sum.",
        "What is the sum of the two given numbers?",
        "Compute the total of the two numbers.",
        "Output the result of adding both numbers."),
        _on_pair(lambda a, b: a + b), lambda i, o: str(int(o) + 1)),
    Family("subtract_numbers", (
        "Subtract the second number from the first one.",
        "What is the first number minus the second number?",
        "Compute the difference between the first and the second number.",
        "Take the second number away from the first and write the result."),
        _on_pair(lambda a, b: a - b), lambda i, o: str(sum(int(x) for x in i.split(" and ")))),
    Family("count_letter", (
        "Count how many times the given letter appears in the words.",
        "How often does the letter occur in the given words?",
        "Write the number of occurrences of the letter in the text."),
        _count_letter, lambda i, o: str(int(o) + 1)),
    Family("uppercase", (
        "Write the input in capital letters.",
        "Convert every letter of the input to upper case.",
        "Rewrite the words using only uppercase letters."),
        _on_words(str.upper, 2, 4), lambda i, o: i),
    Family("first_word", (
        "Write the first word of the input.",
        "Which word comes first in the list?",
        "Output only the word at the start of the input.",
        "Copy the first of the given words."),
        _on_words(lambda w: w.split()[0]), lambda i, o: i.split()[-1]),
    Family("last_word", (
        "Write the last word of the input.",
        "Which word comes last in the list?",
        "Output only the word at the end of the input.",
        "Copy the final one of the given words."),
        _on_words(lambda w: w.split()[-1]), lambda i, o: i.split()[0]),
    Family("antonym", (
        "Give the opposite of the word that the person said.",
        "Write an antonym of the last word.",
        "What word means the opposite of the word that was said?"),
        _lexical(_ANTONYM), lambda i, o: i.split()[-1]),
    Family("synonym", (
        "Give a word that means the same as the word that the person said.",
        "Write a synonym of the last word.",
        "Which other word has the same meaning as the word that was said?"),
        _lexical(_SYNONYM), lambda i, o: i.split()[-1]),
    Family("max_number", (
        "Write the largest of the given numbers.",
        "Which number is the biggest?",
        "Find the maximum of the numbers."),
        _on_numbers(lambda n: str(max(n))), lambda i, o: i.split()[0]),
    Family("min_number", (
        "Write the smallest of the given numbers.",
        "Which number is the lowest?",
        "Find the minimum of the numbers."),
        _on_numbers(lambda n: str(min(n))), lambda i, o: i.split()[-1]),
    Family("count_words", (
        "How many words are in the input?",
        "Count the words of the given text.",
        "Write the number of words in the input."),
        _on_words(lambda w: str(len(w.split())), 2, 7), lambda i, o: str(int(o) - 1)),
    Family("number_to_words", (
        "Write the number in the input with words instead of digits.",
        "Spell out the number in words.",
        "Replace the digits with the English words for the number."),
        _to_words, lambda i, o: i),
    Family("words_to_number", (
        "Write the number in the input with digits instead of words.",
        "Replace the number words with digits.",
        "Convert the spelled-out number into digits."),
        _to_digits, lambda i, o: i),
    Family("colour_of", (
        "The input describes some shapes and then names one shape. What colour is that shape?",
        "Give the colour of the shape named after the semicolon.",
        "Read the description and write the colour of the named shape."),
        _colour_of, lambda i, o: i.split()[2]),
    Family("remove_duplicates", (
        "Remove repeated words and keep the first occurrence of each word.",
        "Write each word of the input once, in the order they first appear.",
        "Delete the duplicate words from the list."),
        _remove_duplicates, lambda i, o: i),
    Family("past_tense", (
        "Rewrite the sentence in the past tense.",
        "Change the sentence so that it tells what already happened.",
        "Put the verb of the sentence into the past tense and drop the word will."),
        _past_tense, lambda i, o: i),
)
FAMILIES: dict[str, Family] = {f.name: f for f in _ALL}

#: The family that only the test split contains.
HELD_OUT_FAMILY = "last_word"
