"""Fast, deterministic PNG encoding of 8-bit RGB sky images for the Deep-CEE TFRecords.

A stretched SDSS field is mostly sky noise, in which deflate's string matching finds little:
Huffman-only coding of the unfiltered rows gives the same size as PIL's adaptive filtering
with full deflate (about 1.7 MB for a 1000 x 1000 field) in a third of the time (about 40 ms
on one core instead of 120 ms), which is what keeps ``deepcee tfrecords`` above 5 cutouts / s
per core. The file is a plain PNG (IHDR, one IDAT, IEND; 8-bit RGB, filter type 0 on every
row) with no timestamp or other metadata, so the same pixels always give the same bytes; any
PNG reader (PIL, ``tf.io.decode_png``) reads it.
"""
import struct
import zlib

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind, data):
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def encode_rgb_png(rgb):
    """PNG file bytes of an (H, W, 3) uint8 image."""
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"need an (H, W, 3) uint8 image, got {rgb.shape} {rgb.dtype}")
    height, width, _ = rgb.shape
    rows = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # column 0: filter type 0
    rows[:, 1:] = rgb.reshape(height, 3 * width)
    deflate = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_HUFFMAN_ONLY)
    data = deflate.compress(rows.tobytes()) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")
