"""Writing files so that nothing is lost: write to a temporary name, then rename."""
import contextlib
import hashlib
import json
import os
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A run killed mid-write leaves at most a ``.tmp-*`` file behind, never a truncated
    ``path``. The parent directory is created if needed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(path, data):
    """Write ``data`` (bytes) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)


def write_text(path, text):
    """Write ``text`` to ``path`` atomically (UTF-8)."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path, obj):
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=float) + "\n")


def write_table(path, table, format=None):
    """Write an astropy Table (ECSV, FITS, ...) to ``path`` atomically."""
    path = Path(path)
    fmt = format or {".ecsv": "ascii.ecsv", ".fits": "fits", ".md": "ascii.basic"}.get(
        path.suffix, None)
    with atomic_path(path) as tmp:
        table.write(tmp, format=fmt, overwrite=True)


def write_fits(path, hdus):
    """Write an HDU or HDUList to ``path`` atomically."""
    with atomic_path(path) as tmp:
        hdus.writeto(tmp, overwrite=True)


def sha256_file(path, chunk=1 << 20):
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()
