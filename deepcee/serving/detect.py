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

Inputs are checked before anything is detected, each kind one way for every verb that reads
it: colour pictures by :func:`read_colour_image` (no 16-bit, grayscale or tiny pictures),
FITS triplets by :func:`check_fits_triplet` (whole bands with agreeing WCSs), models by
:func:`load_detector` (a damaged SavedModel or checkpoint is one line, not a traceback).
"""
from pathlib import Path

import numpy as np
from astropy.coordinates import SkyCoord

import tensorflow as tf

from data_prep.base import regions
from data_prep.base.celestial import pixel_scale_arcsec
from data_prep.base.errors import InputError
from data_prep.base.files import atomic_path, input_path, write_table, write_text
from data_prep.base.fits_reader import celestial_wcs, read_fits_image
from data_prep.deepcee_data.colour_image import colour_image
from data_prep.deepcee_data.regrid import resized_wcs
from data_prep.deepcee_data.stretch import band_limits
from data_prep.surveys.sdss import BANDS
from deepcee.evaluation.matching import box_centres
from deepcee.serving.export import OUTPUT_KEYS, DetectionModule, restored_run

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
        try:
            loaded = tf.saved_model.load(str(path))
            serve = loaded.signatures["serving_default"]
            spec = serve.structured_input_signature[1]["input_tensor"]
        except Exception as error:  # TensorFlow and protobuf raise many types for a bad file
            reason = (str(error).strip().splitlines() or [""])[0][:160]
            raise InputError(f"{path}: not a readable deepcee SavedModel ({type(error).__name__}"
                             f": {reason}); run 'deepcee export' again") from None
        if spec.dtype != tf.uint8 or spec.shape.rank != 4 or \
                not set(OUTPUT_KEYS) <= set(serve.structured_outputs):
            raise InputError(f"{path}: its serving_default is not the OD API detection "
                             "signature (uint8 input_tensor [1, H, W, 3] -> detection_boxes, "
                             "...); give a 'deepcee export' folder")
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
        trained = restored_run(model_dir)
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

MIN_PICTURE_PX = 64
"""Smallest side, in pixels of the training scale, of a picture worth detecting on. Below it
a cluster box (250 kpc: about 190 px at z = 0.2) cannot fit, so a smaller picture (1 x 1,
5 x 3000 px) is refused with a word rather than answered with "0 detections"."""
WCS_TOLERANCE_PX = 0.5
"""Bands of a FITS triplet whose WCSs place a pixel further apart than this (r-band pixels)
on the sky are not one field."""


class Picture:
    """An input made ready for the detector: RGB uint8 pixels, the WCS of those pixels (or
    None), the factor from them back to the input's own pixels, and the input's files."""

    def __init__(self, name, rgb, wcs=None, scale_to_input=1.0, files=()):
        self.name, self.rgb, self.wcs, self.scale_to_input = name, rgb, wcs, scale_to_input
        self.files = [str(Path(path).resolve()) for path in files]


def check_picture_size(width, height, where):
    """:class:`InputError` for a picture smaller than :data:`MIN_PICTURE_PX` a side."""
    if min(width, height) < MIN_PICTURE_PX:
        raise InputError(f"{where}: the picture is {width} x {height} px; Deep-CEE needs at "
                         f"least {MIN_PICTURE_PX} px a side at the training scale (a cluster "
                         "box is about 190 px): give a larger image")


def read_colour_image(path):
    """A PNG or JPEG colour picture as RGB uint8 ``[H, W, 3]``, checked.

    Refused, each with one :class:`InputError` line: a missing file or a folder, a file that
    is no image, 16 bits per channel (8-bit conversion would clip or quantise it), one
    channel (grayscale: Deep-CEE reads colour, R, G, B = i, r, g), and a side under
    :data:`MIN_PICTURE_PX`.
    """
    from PIL import Image, UnidentifiedImageError
    path = input_path(path, "input", "a PNG/JPEG colour image (or FITS g, r, i files with "
                      "--fits-g/--fits-r/--fits-i or a NAME_{band}.fits pattern)")
    try:
        with Image.open(path) as picture:
            mode, kind = picture.mode, picture.format
            if kind == "PNG":
                with open(path, "rb") as handle:
                    bit_depth = handle.read(25)[24]  # IHDR: width, height, bit depth
                if bit_depth == 16:
                    raise InputError(f"{path}: a 16-bit PNG; Deep-CEE takes 8-bit colour "
                                     "pictures stretched as in training: give the g, r, i "
                                     "FITS files instead, or save it with 8 bits per channel")
            if mode in ("1", "L", "LA", "I", "F") or mode.startswith("I;16"):
                raise InputError(f"{path}: a one-channel (grayscale) image; Deep-CEE needs a "
                                 "colour picture (R, G, B = i, r, g) or the g, r, i FITS files")
            rgb = np.asarray(picture.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise InputError(f"{path}: not a PNG or JPEG image ({type(error).__name__}); "
                         "for FITS give the g, r, i files with --fits-g/--fits-r/--fits-i or a "
                         "NAME_{band}.fits pattern") from None
    check_picture_size(rgb.shape[1], rgb.shape[0], path)
    return rgb


def check_fits_triplet(paths):
    """Read and check a g, r, i FITS triplet: every band present and readable
    (:func:`data_prep.base.fits_reader.read_fits_image`: whole, finite, with a celestial WCS),
    of one shape (at least :data:`MIN_PICTURE_PX` a side), on one pixel grid of the sky (their
    WCSs agree within :data:`WCS_TOLERANCE_PX`), and each with a dynamic range to stretch.

    Parameters
    ----------
    paths : dict
        Band (``g``, ``r``, ``i``) -> FITS path.

    Returns
    -------
    bands : dict
        Band -> float32 image.
    wcs : astropy.wcs.WCS
        The r band's celestial WCS.

    Raises
    ------
    InputError
        One line naming the band's file and what is wrong with it.
    """
    for band in BANDS:
        if not paths.get(band):
            raise InputError(f"FITS triplet: the {band} band is missing; give --fits-{band}")
    bands, wcs = {}, {}
    for band in BANDS:
        bands[band], header = read_fits_image(paths[band])
        wcs[band] = celestial_wcs(header)
        try:
            band_limits(bands[band])
        except ValueError as error:
            raise InputError(f"{paths[band]}: nothing to stretch in the {band} band ({error}); "
                             "check the file") from None
    shapes = {band: image.shape for band, image in bands.items()}
    if len(set(shapes.values())) > 1:
        raise InputError(f"FITS triplet {paths['r']}: the bands differ in shape {shapes}; "
                         "give cutouts of one field and size")
    height, width = shapes["r"]
    check_picture_size(width, height, paths["r"])
    corners = (np.array([0, width - 1, 0, width - 1, (width - 1) / 2]),
               np.array([0, 0, height - 1, height - 1, (height - 1) / 2]))
    reference = wcs["r"].pixel_to_world(*corners)
    tolerance = WCS_TOLERANCE_PX * pixel_scale_arcsec(wcs["r"])
    for band in ("g", "i"):
        apart = np.max(wcs[band].pixel_to_world(*corners).separation(reference).arcsec)
        if not apart <= tolerance:
            raise InputError(f"{paths[band]}: its WCS places pixels {apart:.1f} arcsec from "
                             f"the same pixels of {paths['r']}; give the g, r, i cutouts of "
                             "one field on one pixel grid")
    return bands, wcs["r"]


def read_fits_triplet(paths, training_pixel_scale_arcsec=0.0):
    """A g, r, i FITS triplet (:func:`check_fits_triplet`) as the colour image training made
    of its cutouts (Deep-CEE §2.2, :func:`data_prep.deepcee_data.colour_image.colour_image`).

    Parameters
    ----------
    paths : dict
        Band (``g``, ``r``, ``i``) -> FITS path.
    training_pixel_scale_arcsec : float
        The bands are resampled to this scale first (0: keep their own).

    Returns
    -------
    Picture
    """
    data, wcs = check_fits_triplet(paths)
    height, width = data["r"].shape
    factor = 1.0
    if training_pixel_scale_arcsec > 0:
        factor = training_pixel_scale_arcsec / pixel_scale_arcsec(wcs)
    size = (width, height)
    if abs(factor - 1.0) > 1e-3:
        size = (max(1, round(width / factor)), max(1, round(height / factor)))
        factor = width / size[0]
        wcs = resized_wcs(wcs, factor)
    else:
        factor = 1.0
    check_picture_size(*size, paths["r"])
    try:
        rgb, _ = colour_image(data, size)
    except ValueError as error:
        raise InputError(f"FITS triplet {paths['r']}: cannot stretch ({error})") from None
    return Picture(Path(paths["r"]).stem, rgb, wcs, factor, [paths[band] for band in BANDS])


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
    table.meta["input_files"] = picture.files
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


def check_output_target(out_dir, files):
    """Refuse to write the detections of the input ``files`` into ``out_dir`` when it holds
    those of other files (its ``detections.ecsv`` says which): results of two inputs never
    share a folder, and a rerun on the same input replaces its own."""
    from astropy.table import Table
    path = Path(out_dir) / "detections.ecsv"
    if not path.is_file():
        return
    try:
        earlier = Table.read(path, format="ascii.ecsv").meta.get("input_files")
    except (OSError, ValueError):
        earlier = None
    files = [str(Path(name).resolve()) for name in files]
    if earlier is None or list(earlier) != files:
        raise InputError(f"{out_dir} holds the detections of "
                         f"{', '.join(earlier) if earlier else 'another input'}, not of "
                         f"{', '.join(files)}; give another --out, or remove that folder")


def write_outputs(out_dir, picture, boxes, scores):
    """``detections.ecsv``, ``detections.reg`` and ``overlay.png`` in ``out_dir``."""
    out_dir = Path(out_dir)
    table = detection_table(picture, boxes, scores)
    write_table(out_dir / "detections.ecsv", table)
    write_text(out_dir / "detections.reg", region_text(table, picture))
    write_overlay(out_dir / "overlay.png", picture, boxes, scores)
    return table


def load_detector(model):
    """A :class:`Detector` from an export directory or a training run directory, checked:
    a damaged or foreign SavedModel or checkpoint is one :class:`InputError` line."""
    model = input_path(model, "--model", "the export folder of 'deepcee export' or a training "
                       "run folder", folder=True)
    if (model / "saved_model.pb").is_file() or (model / "saved_model" / "saved_model.pb").is_file():
        return Detector.from_saved_model(model)
    if (model / "checkpoint").is_file():
        return Detector.from_checkpoint(model)
    raise InputError(f"{model}: neither an export (saved_model/) nor a training run "
                     "(checkpoint); run 'make export-cee' or pass runs/deepcee/train")
