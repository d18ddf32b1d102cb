"""Hook implementations of the IMAGE modality: the input image with the predicted text under it."""
from __future__ import annotations

from typing import Any

from polymodal.hooks import hookimpl


@hookimpl
def polymodal_save_example(plan: Any, row: dict, prediction: dict, path_stem: str) -> list[str] | None:
    """For instructions that read an image and write text (captions, labels): a PNG of both."""
    images = [s.column for s in plan.encoder if s.modality == "IMAGE" and s.column in row]
    texts = {c: v for c, v in prediction.items() if isinstance(v, str)}
    if not images or not texts or any(s.modality == "BOX" for s in plan.decoder):
        return None
    from PIL import Image, ImageDraw

    from polymodal_modality_image.io import load_image

    img = load_image(row[images[0]])
    scale = max(1, 256 // max(img.size))
    img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    lines = [f"{c}: {v}" for c, v in texts.items()]
    canvas = Image.new("RGB", (max(img.width, 8 * max(len(x) for x in lines)), img.height + 14 * len(lines) + 6),
                       "white")
    canvas.paste(img, (0, 0))
    draw = ImageDraw.Draw(canvas)
    for k, line in enumerate(lines):
        draw.text((3, img.height + 3 + 14 * k), line, fill=(0, 0, 0))
    path = f"{path_stem}.png"
    canvas.save(path)
    return [path]
