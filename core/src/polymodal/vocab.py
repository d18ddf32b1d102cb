"""The shared vocabulary: named token spaces laid out in one id range.

The layout (space name -> offset, size) is data: a checkpoint stores it, and a later layout is built by keeping
every stored space where it was and appending new spaces after them. Installing or removing a plugin therefore
never changes an existing token id (OFASys derives ids from the order of tasks).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from polymodal.errors import PlanError

__all__ = ["SPECIALS", "PAD", "BOS", "EOS", "UNK", "MASK", "Space", "VocabLayout"]

#: The special tokens, always space ``"special"`` at offset 0.
SPECIALS = ("<pad>", "<s>", "</s>", "<unk>", "<mask>")
PAD, BOS, EOS, UNK, MASK = range(len(SPECIALS))


@dataclass(frozen=True)
class Space:
    """A contiguous range of global ids."""

    name: str
    offset: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + self.size

    def __contains__(self, token: int) -> bool:
        return self.offset <= token < self.end


class VocabLayout:
    """An ordered set of token spaces; ``special`` always comes first."""

    def __init__(self, spaces: Iterable[Space] = ()) -> None:
        self._spaces: dict[str, Space] = {}
        for space in spaces:
            self._spaces[space.name] = space
        if "special" not in self._spaces:
            self._spaces = {"special": Space("special", 0, len(SPECIALS)), **self._spaces}
        end = 0
        for space in self._spaces.values():
            if space.offset != end:
                raise PlanError(f"vocabulary layout is not contiguous at space '{space.name}' "
                                f"(offset {space.offset}, expected {end})")
            end = space.end
        self._size = end

    @classmethod
    def build(cls, required: Mapping[str, int], base: "VocabLayout | None" = None) -> "VocabLayout":
        """Keep ``base``'s spaces where they are and append the ``required`` spaces it lacks.

        Args:
            required: space name -> size needed now.
            base: a stored layout (from a checkpoint), or ``None``.

        Raises:
            PlanError: a required space exists in ``base`` with another size.
        """
        layout = base or cls()
        spaces = list(layout._spaces.values())
        end = layout.size
        for name, size in required.items():
            if name in layout._spaces:
                have = layout._spaces[name].size
                if have != size:
                    raise PlanError(f"token space '{name}' has {have} tokens in the stored layout but {size} now "
                                    "(a different tokenizer or plugin option?); ids would shift, so this is refused")
                continue
            spaces.append(Space(name, end, int(size)))
            end += int(size)
        return cls(spaces)

    @property
    def size(self) -> int:
        return self._size

    def space(self, name: str) -> Space:
        try:
            return self._spaces[name]
        except KeyError:
            raise PlanError(f"token space '{name}' is not in the vocabulary (spaces: {', '.join(self._spaces)})") \
                from None

    def __contains__(self, name: str) -> bool:
        return name in self._spaces

    def spaces(self) -> list[Space]:
        return list(self._spaces.values())

    def space_of(self, token: int) -> Space:
        for space in self._spaces.values():
            if token in space:
                return space
        raise PlanError(f"token id {token} is outside the vocabulary (size {self.size})")

    def to_dict(self) -> dict:
        return {"spaces": [{"name": s.name, "offset": s.offset, "size": s.size} for s in self._spaces.values()]}

    @classmethod
    def from_dict(cls, data: Mapping) -> "VocabLayout":
        return cls(Space(d["name"], int(d["offset"]), int(d["size"])) for d in data["spaces"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VocabLayout) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        inner = ", ".join(f"{s.name}@{s.offset}+{s.size}" for s in self._spaces.values())
        return f"VocabLayout({inner})"
