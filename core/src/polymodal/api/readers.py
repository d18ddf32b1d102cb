"""Reading rows from data files: JSONL/JSON, TSV, CSV and Parquet, with errors that name file and line."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from polymodal.errors import DataError

__all__ = ["read_rows", "FORMATS"]

FORMATS = ("jsonl", "json", "tsv", "csv", "parquet")


def read_rows(path: str | Path, fmt: str | None = None) -> list[dict[str, Any]]:
    """Read a table of rows; the format comes from the extension unless ``fmt`` is given."""
    p = Path(path)
    if not p.exists():
        raise DataError("file does not exist", source=str(p))
    fmt = (fmt or p.suffix.lstrip(".")).lower()
    if fmt == "jsonl":
        rows = []
        with p.open(encoding="utf-8") as fh:
            for line_no, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"invalid JSON ({exc.msg})", source=str(p), row=line_no) from None
                if not isinstance(row, dict):
                    raise DataError("each line must be a JSON object", source=str(p), row=line_no)
                rows.append(row)
        return rows
    if fmt == "json":
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON ({exc.msg})", source=str(p), row=exc.lineno) from None
        if not (isinstance(data, list) and all(isinstance(r, dict) for r in data)):
            raise DataError("a JSON data file must hold a list of objects", source=str(p))
        return data
    if fmt in ("tsv", "csv"):
        with p.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t" if fmt == "tsv" else ",")
            rows = []
            for row in reader:
                if None in row or any(v is None for v in row.values()):
                    raise DataError(f"expected {len(reader.fieldnames or [])} fields", source=str(p),
                                    row=reader.line_num)
                rows.append(dict(row))
            return rows
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(p).to_pylist()
    raise DataError(f"unknown data format {fmt!r} (known: {', '.join(FORMATS)})", source=str(p))
