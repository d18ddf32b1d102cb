"""REPLACE_ME: the preprocessor (runs in DataLoader workers: no torch state, picklable)."""
from __future__ import annotations

from polymodal.errors import DataError
from polymodal.preprocessing import Preprocessor as _Base


class Preprocessor(_Base):
    def encode(self, value, *, train, rng, row):
        if value is None:
            raise DataError("REPLACE_ME: say what was expected", column=self.slot.column)
        raise NotImplementedError("REPLACE_ME: return {'tokens': [...]} or adapter-specific arrays")
