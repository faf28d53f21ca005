"""The Deep-CEE TFRecord schema: the TF Object Detection API's ``tf.train.Example`` keys,
plus the cluster properties and the cutout's WCS that evaluation needs to turn pixels into
kiloparsecs from the record alone.

OD API keys (decodable by ``official.vision.dataloaders.tf_example_decoder``):
``image/height``, ``image/width``, ``image/filename``, ``image/source_id``,
``image/key/sha256``, ``image/encoded`` (PNG), ``image/format``,
``image/object/bbox/{xmin,xmax,ymin,ymax}`` (normalised to [0, 1]),
``image/object/class/{text,label}``.

Extra keys (this project), one value per object unless noted:
``image/object/ra``, ``image/object/dec`` (deg, the BCG), ``image/object/redshift``,
``image/object/bcg_rmag`` (mag), ``image/object/richness`` (R_L*), ``image/object/n200``,
``image/object/center/x``, ``image/object/center/y`` (the BCG pixel, normalised to [0, 1];
the box is centred on it unless clipped by the image edge), ``image/object/name``, and
``image/wcs`` (one per image: the FITS header text of the encoded image's celestial WCS).
"""
import hashlib

import numpy as np

import tensorflow as tf

from data_prep.base.errors import InputError
from data_prep.base.files import input_path

OBJECT_FLOAT_KEYS = {
    "ra": "image/object/ra",
    "dec": "image/object/dec",
    "redshift": "image/object/redshift",
    "bcg_rmag": "image/object/bcg_rmag",
    "richness": "image/object/richness",
    "n200": "image/object/n200",
    "center_x": "image/object/center/x",
    "center_y": "image/object/center/y",
}
BOX_KEYS = ("image/object/bbox/ymin", "image/object/bbox/xmin",
            "image/object/bbox/ymax", "image/object/bbox/xmax")


def _bytes(values):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=list(values)))


def _floats(values):
    return tf.train.Feature(float_list=tf.train.FloatList(value=np.asarray(values, np.float32)))


def _ints(values):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=np.asarray(values, np.int64)))


def encode_example(png_bytes, height, width, filename, source_id, boxes, class_ids,
                   class_texts, objects, wcs_header):
    """Serialize one cutout as a ``tf.train.Example``.

    Parameters
    ----------
    png_bytes : bytes          PNG-encoded RGB image, ``height`` x ``width`` pixels.
    boxes : (M, 4) array       normalised ``ymin, xmin, ymax, xmax``.
    class_ids, class_texts     label-map ids (1-based) and names, one per box.
    objects : dict             ``OBJECT_FLOAT_KEYS`` names -> M values each, plus ``name`` -> M str.
    wcs_header : str           FITS header text of the encoded image's WCS.
    """
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4)
    feature = {
        "image/height": _ints([height]),
        "image/width": _ints([width]),
        "image/filename": _bytes([filename.encode()]),
        "image/source_id": _bytes([source_id.encode()]),
        "image/key/sha256": _bytes([hashlib.sha256(png_bytes).hexdigest().encode()]),
        "image/encoded": _bytes([png_bytes]),
        "image/format": _bytes([b"png"]),
        "image/object/class/label": _ints(class_ids),
        "image/object/class/text": _bytes([t.encode() for t in class_texts]),
        "image/object/name": _bytes([str(n).encode() for n in objects.get("name", [])]),
        "image/wcs": _bytes([wcs_header.encode()]),
    }
    for column, key in zip(range(4), BOX_KEYS):
        feature[key] = _floats(boxes[:, column])
    for name, key in OBJECT_FLOAT_KEYS.items():
        feature[key] = _floats(objects.get(name, np.full(len(boxes), np.nan)))
    example = tf.train.Example(features=tf.train.Features(feature=feature))
    return example.SerializeToString(deterministic=True)  # map order fixed: same bytes


_FEATURES = {
    "image/height": tf.io.FixedLenFeature([], tf.int64),
    "image/width": tf.io.FixedLenFeature([], tf.int64),
    "image/filename": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "image/source_id": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "image/encoded": tf.io.FixedLenFeature([], tf.string),
    "image/wcs": tf.io.FixedLenFeature([], tf.string, default_value=""),
    "image/object/class/label": tf.io.VarLenFeature(tf.int64),
    "image/object/class/text": tf.io.VarLenFeature(tf.string),
    "image/object/name": tf.io.VarLenFeature(tf.string),
    **{key: tf.io.VarLenFeature(tf.float32) for key in BOX_KEYS},
    **{key: tf.io.VarLenFeature(tf.float32) for key in OBJECT_FLOAT_KEYS.values()},
}


def decode_example(serialized):
    """Parse one serialized example into tensors (works inside ``tf.data``).

    Returns a dict: ``image`` uint8 [H, W, 3], ``height``, ``width``, ``filename``,
    ``source_id``, ``wcs_header`` (string), ``boxes`` float32 [M, 4] normalised
    ``ymin, xmin, ymax, xmax``, ``classes`` int32 [M], ``class_text``, ``names`` [M], and
    one float32 [M] tensor per ``OBJECT_FLOAT_KEYS`` name.
    """
    parsed = tf.io.parse_single_example(serialized, _FEATURES)
    dense = {k: tf.sparse.to_dense(v) if isinstance(v, tf.SparseTensor) else v
             for k, v in parsed.items()}
    out = {
        "image": tf.io.decode_png(dense["image/encoded"], channels=3),
        "height": tf.cast(dense["image/height"], tf.int32),
        "width": tf.cast(dense["image/width"], tf.int32),
        "filename": dense["image/filename"],
        "source_id": dense["image/source_id"],
        "wcs_header": dense["image/wcs"],
        "boxes": tf.stack([dense[key] for key in BOX_KEYS], axis=-1),
        "classes": tf.cast(dense["image/object/class/label"], tf.int32),
        "class_text": dense["image/object/class/text"],
        "names": dense["image/object/name"],
    }
    for name, key in OBJECT_FLOAT_KEYS.items():
        out[name] = dense[key]
    return out


def read_examples(paths):
    """Yield decoded examples (numpy values) from TFRecord files, in file order."""
    for record in tf.data.TFRecordDataset([str(p) for p in paths]):
        yield {k: v.numpy() for k, v in decode_example(record).items()}


def check_shards(paths):
    """Check TFRecord files before any work reads them; return their record counts.

    Every record of each file is read (so a truncated or bit-flipped file fails its length or
    CRC check here, not hours into a run) and the first is decoded in this schema (so a file
    of another kind is caught too).

    Raises
    ------
    InputError
        One line naming the file and what is wrong with it.
    """
    counts = []
    for path in paths:
        path = input_path(path, "TFRecord", "a TFRecord shard of 'deepcee tfrecords'")
        records = tf.data.TFRecordDataset(str(path))
        try:
            counts.append(int(records.reduce(tf.constant(0, tf.int64), lambda n, _: n + 1)))
            for first in records.take(1):
                example = decode_example(first)
                if not (example["image"].shape[0] == example["height"]
                        and example["image"].shape[1] == example["width"]):
                    raise InputError(f"{path}: the first record's image is not its stated "
                                     "height x width; rebuild the file with 'deepcee tfrecords'")
        except (tf.errors.OpError, UnicodeDecodeError) as error:  # (a message of raw bytes)
            damage = "damaged (truncated or corrupted)" if isinstance(
                error, tf.errors.DataLossError) else "not in the Deep-CEE TFRecord schema"
            reason = (str(error).strip().splitlines() or [""])[0][:120]
            raise InputError(f"{path}: {damage} ({type(error).__name__}: {reason}); rebuild it "
                             "with 'deepcee tfrecords' (make tfrecords)") from None
    return counts
