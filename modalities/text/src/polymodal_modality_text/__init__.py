"""The TEXT modality of polymodal (see README). Import-light: heavy parts live in their own modules."""
from __future__ import annotations
