"""A contact sheet of Deep-CEE images with their ground-truth boxes, for people to look at.

Each tile is one encoded image, shrunk to ``tile_px``, with every ground-truth box drawn in
green, a red cross on each BCG, the detector's boxes (when given) in orange with their
scores, and a title underneath. The PNG has no timestamp, so the same inputs give the same
bytes.
"""
import io

import numpy as np
from PIL import Image, ImageDraw

BOX_COLOUR = (0, 255, 0)
BCG_COLOUR = (255, 40, 40)
PREDICTED_COLOUR = (255, 160, 0)
TEXT_COLOUR = (255, 255, 255)


def preview_png(images, tile_px=320, columns=3):
    """Draw images and boxes into one PNG.

    Parameters
    ----------
    images : list of dict
        Each with ``png`` (encoded RGB bytes) or ``rgb`` (uint8 [H, W, 3]), ``boxes`` ((M, 4)
        normalised ``ymin, xmin, ymax, xmax``), ``centers`` ((M, 2) normalised ``x, y`` of the
        BCGs), ``title`` (str) and optionally ``predicted`` ((K, 4) normalised boxes) with
        ``scores`` ((K,)).
    tile_px : int
        Side of one tile (pixels).
    columns : int
        Tiles per row.

    Returns
    -------
    bytes
        The PNG file.
    """
    label_px = 14
    rows = max(1, -(-len(images) // columns))
    sheet = Image.new("RGB", (columns * tile_px, rows * (tile_px + label_px)), (0, 0, 0))
    draw = ImageDraw.Draw(sheet)
    for number, image in enumerate(images):
        left = (number % columns) * tile_px
        top = (number // columns) * (tile_px + label_px)
        tile = (Image.fromarray(np.asarray(image["rgb"], np.uint8)) if "rgb" in image
                else Image.open(io.BytesIO(image["png"])).convert("RGB"))
        sheet.paste(tile.resize((tile_px, tile_px), Image.Resampling.BILINEAR), (left, top))
        # detections first and wider, so that a true box on the same place stays visible
        for boxes, colour, width in ((image.get("predicted", ()), PREDICTED_COLOUR, 4),
                                     (image["boxes"], BOX_COLOUR, 2)):
            for ymin, xmin, ymax, xmax in np.asarray(boxes, float).reshape(-1, 4):
                draw.rectangle([left + xmin * tile_px, top + ymin * tile_px,
                                left + xmax * tile_px, top + ymax * tile_px],
                               outline=colour, width=width)
        for (ymin, xmin, _, _), score in zip(np.asarray(image.get("predicted", ()),
                                                        float).reshape(-1, 4),
                                             image.get("scores", ())):
            draw.text((left + xmin * tile_px + 3, top + ymin * tile_px + 2), f"{score:.2f}",
                      fill=PREDICTED_COLOUR)
        for cx, cy in np.asarray(image["centers"]).reshape(-1, 2):
            x, y = left + cx * tile_px, top + cy * tile_px
            draw.line([x - 6, y, x + 6, y], fill=BCG_COLOUR, width=2)
            draw.line([x, y - 6, x, y + 6], fill=BCG_COLOUR, width=2)
        draw.text((left + 2, top + tile_px + 1), image["title"], fill=TEXT_COLOUR)
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()
