"""Finding galaxy clusters in SDSS g, r, i FITS triplets or colour images (``deepcee detect``).

A FITS triplet is made into the picture the model was trained on (Deep-CEE §2.2): each band
is resampled to the training images' pixel scale (2000 px cutouts at 0.396"/px were resized
to 1000 px) and the three are stretched into i, r, g -> R, G, B with
:func:`data_prep.deepcee_data.stretch.rgb_image`. A PNG or JPEG is used as it is.

Images larger than the training images are cut into tiles of the training image size that
overlap by a quarter; each tile is detected on its own, a detection is kept by the tile whose
own part (up to the middle of the overlaps) holds its centre, and the survivors are merged
by non-maximum suppression. Outputs (``--out``): ``detections.ecsv`` (pixel centre and box in
the input's pixels, 0-based, score, and RA/Dec when the input has a WCS),
``detections.reg`` (ds9: fk5 with a WCS, image coordinates without) and ``overlay.png``;
with several inputs, one such set per input in ``--out/<input name>/``.
"""
from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord

import tensorflow as tf

from data_prep.base import regions
from data_prep.base.celestial import pixel_scale_arcsec
from data_prep.base.errors import InputError
from data_prep.base.files import atomic_path, write_table, write_text
from data_prep.base.fits_reader import celestial_wcs, read_fits_image
from data_prep.deepcee_data.colour_image import colour_image
from data_prep.deepcee_data.regrid import resized_wcs
from data_prep.surveys.sdss import BANDS
from deepcee.evaluation.matching import box_centres
from deepcee.model.checkpoint import load_trained_model
from deepcee.serving.export import DetectionModule

OVERLAP = 0.25
"""Fraction of a tile shared with its neighbour."""
MERGE_IOU = 0.5
"""IoU above which two detections from different tiles are one cluster."""


class Detector:
    """Run a Faster R-CNN on an image of any size: ``detector(image) -> (boxes, scores)``.

    Parameters
    ----------
    detect_batch : callable
        ``uint8 [1, H, W, 3] -> dict`` with the OD API's ``detection_boxes``,
        ``detection_scores`` and ``num_detections``.
    tile_size : (int, int) or None
        Tile ``(height, width)`` in pixels: the training image size. None or zeros: never tile.
    training_pixel_scale_arcsec : float
        Pixel scale of the training images (0 if unknown); FITS inputs are resampled to it.
    """

    def __init__(self, detect_batch, tile_size=None, training_pixel_scale_arcsec=0.0,
                 overlap=OVERLAP, merge_iou=MERGE_IOU):
        self.detect_batch = detect_batch
        self.tile_size = tuple(tile_size) if tile_size is not None and min(tile_size) > 0 \
            else None
        self.training_pixel_scale_arcsec = float(training_pixel_scale_arcsec)
        self.overlap = overlap
        self.merge_iou = merge_iou

    @classmethod
    def from_saved_model(cls, path):
        """From ``deepcee export`` output: the export directory or its ``saved_model/``."""
        path = Path(path)
        if not (path / "saved_model.pb").is_file() and (path / "saved_model").is_dir():
            path = path / "saved_model"
        if not (path / "saved_model.pb").is_file():
            raise InputError(f"{path}: no saved_model.pb; run 'deepcee export' (make "
                             "export-cee) first or pass the export directory")
        loaded = tf.saved_model.load(str(path))
        serve = loaded.signatures["serving_default"]
        size = getattr(loaded, "training_image_size", None)
        scale = getattr(loaded, "training_pixel_scale_arcsec", None)
        detector = cls(lambda images: serve(input_tensor=images),
                       None if size is None else size.numpy().tolist(),
                       0.0 if scale is None else float(scale.numpy()))
        detector._loaded = loaded  # keeps the restored variables alive
        return detector

    @classmethod
    def from_checkpoint(cls, model_dir):
        """From a training run directory (its latest checkpoint and pipeline.config)."""
        trained = load_trained_model(model_dir)
        module = DetectionModule(trained)
        detector = cls(module.serve, trained.training_image_size,
                       trained.training_pixel_scale_arcsec)
        detector._loaded = module
        return detector

    def detect_tile(self, tile):
        """Boxes in the tile's pixels (``ymin, xmin, ymax, xmax``) and scores of one tile."""
        out = self.detect_batch(tf.constant(tile[np.newaxis]))
        count = int(out["num_detections"][0])
        height, width = tile.shape[:2]
        boxes = out["detection_boxes"][0, :count].numpy() * [height, width, height, width]
        return boxes, out["detection_scores"][0, :count].numpy()

    def __call__(self, image):
        """Detect on a uint8 ``[H, W, 3]`` image; return boxes normalised to the whole image
        ``[K, 4]`` (``ymin, xmin, ymax, xmax``) and scores ``[K]``, best first."""
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise InputError(f"the detector takes uint8 RGB images [H, W, 3]; got "
                             f"{image.dtype} {list(image.shape)}")
        height, width = image.shape[:2]
        tile_h, tile_w = self.tile_size or (height, width)
        rows = tile_spans(height, tile_h, self.overlap)
        cols = tile_spans(width, tile_w, self.overlap)
        boxes, scores = [], []
        for top, bottom, own_top, own_bottom in rows:
            for left, right, own_left, own_right in cols:
                tile_boxes, tile_scores = self.detect_tile(image[top:bottom, left:right])
                tile_boxes = tile_boxes + [top, left, top, left]
                if len(rows) * len(cols) > 1:
                    x, y = box_centres(tile_boxes)
                    own = (y >= own_top) & (y < own_bottom) & (x >= own_left) & (x < own_right)
                    tile_boxes, tile_scores = tile_boxes[own], tile_scores[own]
                boxes.append(tile_boxes)
                scores.append(tile_scores)
        boxes = np.concatenate(boxes).astype(np.float32).reshape(-1, 4)
        scores = np.concatenate(scores).astype(np.float32)
        if len(rows) * len(cols) > 1 and len(scores):
            keep = tf.image.non_max_suppression(boxes, scores, len(scores),
                                                self.merge_iou).numpy()
            boxes, scores = boxes[keep], scores[keep]
        order = np.argsort(-scores, kind="stable")
        return boxes[order] / [height, width, height, width], scores[order]


def tile_spans(length, tile, overlap=OVERLAP):
    """Tiles along one axis: ``(start, stop, own_start, own_stop)`` pixel ranges.

    Tiles of ``tile`` pixels step by ``tile * (1 - overlap)``, the last one flush with the
    end; a tile's own part reaches to the middle of each overlap, so the own parts cover
    ``[0, length)`` once.
    """
    if length <= tile:
        return [(0, length, 0, length)]
    stride = max(1, int(round(tile * (1 - overlap))))
    starts = list(range(0, length - tile, stride)) + [length - tile]
    spans = []
    for k, start in enumerate(starts):
        own_start = 0 if k == 0 else (start + starts[k - 1] + tile) / 2
        own_stop = length if k == len(starts) - 1 else (starts[k + 1] + start + tile) / 2
        spans.append((start, start + tile, own_start, own_stop))
    return spans


# --- inputs -----------------------------------------------------------------------------------

class Picture:
    """An input made ready for the detector: RGB uint8 pixels, the WCS of those pixels (or
    None), and the factor from them back to the input's own pixels."""

    def __init__(self, name, rgb, wcs=None, scale_to_input=1.0):
        self.name, self.rgb, self.wcs, self.scale_to_input = name, rgb, wcs, scale_to_input


def read_colour_image(path):
    """A PNG or JPEG as RGB uint8."""
    from PIL import Image, UnidentifiedImageError
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file; give PNG/JPEG images or FITS g,r,i triplets")
    try:
        with Image.open(path) as picture:
            return np.asarray(picture.convert("RGB"))
    except (UnidentifiedImageError, OSError):
        raise InputError(f"{path}: not a PNG or JPEG image (for FITS give the g, r, i files "
                         "with --fits-g/--fits-r/--fits-i or a NAME_{band}.fits pattern)") \
            from None


def read_fits_triplet(paths, training_pixel_scale_arcsec=0.0):
    """A g, r, i FITS triplet as the colour image training made of its cutouts (Deep-CEE
    §2.2, :func:`data_prep.deepcee_data.colour_image.colour_image`).

    Parameters
    ----------
    paths : dict
        Band (``g``, ``r``, ``i``) -> FITS path; one 2-D image each, of one shape.
    training_pixel_scale_arcsec : float
        The bands are resampled to this scale first when the r band has a WCS (0: keep).

    Returns
    -------
    Picture
    """
    data, wcs = {}, None
    for band in BANDS:
        if not paths.get(band):
            raise InputError(f"FITS triplet: the {band} band is missing; give --fits-{band}")
        path = Path(paths[band])
        data[band], header = read_fits_image(path, require_celestial_wcs=False)
        if band == "r":
            wcs = celestial_wcs(header)
    shapes = {band: image.shape for band, image in data.items()}
    if len(set(shapes.values())) > 1:
        raise InputError(f"FITS triplet {paths['r']}: the bands differ in shape {shapes}; "
                         "give cutouts of one field and size")
    height, width = shapes["r"]
    factor = 1.0
    if wcs is not None and training_pixel_scale_arcsec > 0:
        factor = training_pixel_scale_arcsec / pixel_scale_arcsec(wcs)
    size = (width, height)
    if abs(factor - 1.0) > 1e-3:
        size = (max(1, round(width / factor)), max(1, round(height / factor)))
        factor = width / size[0]
        wcs = resized_wcs(wcs, factor)
    else:
        factor = 1.0
    try:
        rgb, _ = colour_image(data, size)
    except ValueError as error:
        raise InputError(f"FITS triplet {paths['r']}: cannot stretch ({error})") from None
    return Picture(Path(paths["r"]).stem, rgb, wcs, factor)


# --- outputs ----------------------------------------------------------------------------------

def detection_table(picture, boxes, scores):
    """ECSV-ready table of detections in the input's own pixels (0-based) and on the sky."""
    from astropy.table import Table
    height, width = picture.rgb.shape[:2]
    f = picture.scale_to_input
    pixel = boxes * [height, width, height, width]  # in the detector's picture
    ymin, xmin, ymax, xmax = (pixel * f).T
    centre_x, centre_y = box_centres(pixel)  # detector's pixels, edges at 0
    x, y = centre_x * f - 0.5, centre_y * f - 0.5
    table = Table({"x": x, "y": y, "xmin": xmin - 0.5, "ymin": ymin - 0.5,
                   "xmax": xmax - 0.5, "ymax": ymax - 0.5, "score": scores.astype(float)})
    for name in ("x", "y", "xmin", "ymin", "xmax", "ymax"):
        table[name].unit = "pix"
        table[name].info.format = ".2f"
    table["score"].info.format = ".4f"
    if picture.wcs is not None:
        sky = picture.wcs.pixel_to_world(centre_x - 0.5, centre_y - 0.5)
        table["ra"], table["dec"] = sky.ra.deg, sky.dec.deg
        table["ra"].unit = table["dec"].unit = "deg"
        table["ra"].info.format = table["dec"].info.format = ".6f"
    table.meta["input"] = picture.name
    table.meta["pixel_convention"] = "0-based pixel centres of the input image"
    return table


def region_text(table, picture):
    """A ds9 region file of the detections: sky boxes (sizes in arcsec) with a WCS, else boxes
    in image pixels; each labelled with its score."""
    width = np.asarray(table["xmax"] - table["xmin"])
    height = np.asarray(table["ymax"] - table["ymin"])
    labels = [f"{score:.2f}" for score in table["score"]]
    if "ra" in table.colnames:
        scale = pixel_scale_arcsec(picture.wcs) / picture.scale_to_input
        centres = SkyCoord(table["ra"], table["dec"], unit="deg", frame="fk5")
        shapes = [regions.sky_box(c, w * scale, h * scale, label)
                  for c, w, h, label in zip(centres, width, height, labels)]
    else:
        shapes = [regions.image_box(x, y, w, h, label) for x, y, w, h, label in
                  zip(table["x"], table["y"], width, height, labels)]
    return regions.ds9_text(shapes, comments=[f"deepcee detect: {picture.name}"])


def write_overlay(path, picture, boxes, scores):
    """PNG of the picture with each detection's box and score drawn in red."""
    from PIL import Image, ImageDraw
    image = Image.fromarray(picture.rgb, mode="RGB")
    draw = ImageDraw.Draw(image)
    height, width = picture.rgb.shape[:2]
    line = max(1, round(max(height, width) / 400))
    for (ymin, xmin, ymax, xmax), score in zip(boxes, scores):
        corners = [xmin * width, ymin * height, xmax * width, ymax * height]
        draw.rectangle(corners, outline=(255, 40, 40), width=line)
        draw.text((corners[0] + 2 * line, corners[1] + 2 * line), f"{score:.2f}",
                  fill=(255, 255, 0))
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG")


def write_outputs(out_dir, picture, boxes, scores):
    """``detections.ecsv``, ``detections.reg`` and ``overlay.png`` in ``out_dir``."""
    out_dir = Path(out_dir)
    table = detection_table(picture, boxes, scores)
    write_table(out_dir / "detections.ecsv", table)
    write_text(out_dir / "detections.reg", region_text(table, picture))
    write_overlay(out_dir / "overlay.png", picture, boxes, scores)
    return table


def load_detector(model):
    """A :class:`Detector` from an export directory or a training run directory."""
    model = Path(model)
    if (model / "saved_model.pb").is_file() or (model / "saved_model" / "saved_model.pb").is_file():
        return Detector.from_saved_model(model)
    if (model / "checkpoint").is_file():
        return Detector.from_checkpoint(model)
    raise InputError(f"{model}: neither an export (saved_model/) nor a training run "
                     "(checkpoint); run 'make export-cee' or pass runs/deepcee/train")
