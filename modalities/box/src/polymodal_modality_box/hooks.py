"""Hook implementations of the BOX modality: pictures of predicted boxes on their image."""
from __future__ import annotations

from typing import Any

from polymodal.hooks import hookimpl


@hookimpl
def polymodal_save_example(plan: Any, row: dict, prediction: dict, path_stem: str) -> list[str] | None:
    """Draw the predicted boxes (and, for the grounding prompt, the referring text) on the instruction's image."""
    boxes = [s.column for s in plan.decoder if s.modality == "BOX" and s.column in prediction]
    images = [s.column for s in plan.encoder if s.modality == "IMAGE" and s.column in row]
    if not boxes or not images:
        return None
    from polymodal_modality_box.draw import save_box

    texts = [str(row[s.column]) for s in plan.encoder if s.modality == "TEXT" and s.column and s.column in row]
    predicted = [prediction[c] for c in boxes]
    flat = [b for value in predicted for b in (value if value and isinstance(value[0], (list, tuple)) else [value])]
    # an untrained model may predict a box with no area: draw none for it rather than fail
    flat = [b if b is not None and b[0] < b[2] and b[1] < b[3] else None for b in flat]
    labels = [texts[0] if texts else "prediction"] * len(flat)
    path = f"{path_stem}.png"
    save_box(row[images[0]], flat, path, labels=labels)
    return [path]
