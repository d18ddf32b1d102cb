"""Builds the fixture Spider folder's SQLite database from its schema.sql in a temporary copy."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "spider"


@pytest.fixture
def spider_dir(tmp_path: Path) -> Path:
    """A Spider-format folder with ``database/music_club/music_club.sqlite`` built from ``schema.sql``."""
    root = tmp_path / "spider"
    shutil.copytree(FIXTURE, root)
    folder = root / "database" / "music_club"
    conn = sqlite3.connect(folder / "music_club.sqlite")
    conn.executescript((folder / "schema.sql").read_text())
    conn.close()
    return root
