"""A file cache of the g, r, i cutouts behind each Deep-CEE image.

Each band of each offset copy is stored as ``<folder>/<cluster>_<copy>_<band>.fits`` (float32,
the source's WCS, written atomically) with the request it answers in four header cards
(``REQ_RA``, ``REQ_DEC`` deg, ``REQ_NPIX`` px, ``REQ_SCAL`` arcsec/px). A cached cutout is
reused when all its bands are present and answer the same request, so a rerun makes no
request, and the simulator and the surveys share every step after the download; a cutout
whose request changed (another seed moves the offsets) is fetched again. The folder is
``data/cache/<source>/cutouts`` in ``deepcee tfrecords``. Reading a cached band checks it
completely (a truncated file is caught by astropy's truncation warning, made an error). A
source whose ``keep_cutouts`` is False (the simulator, which renders faster than a disk reads
48 MB) goes through the same files, deleted once read.

Problems that concern one cutout raise :class:`CutoutRejected` with a one-line reason, which
the caller records and moves on: a band the source did not deliver, a cached file that is
truncated or unreadable (it is kept, untouched, for inspection: delete it to fetch it again),
or a source answer with no coverage. An unreachable service is an
:class:`~data_prep.base.errors.InputError` and stops the run.
"""
import re
import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyUserWarning

from data_prep.base.files import write_fits
from data_prep.base.errors import CorruptFileError, NoCoverageError
from data_prep.base.fits_reader import read_fits_image

BANDS = ("g", "r", "i")
_REQUEST_CARDS = ("REQ_RA", "REQ_DEC", "REQ_NPIX", "REQ_SCAL")


class CutoutRejected(Exception):
    """One cutout cannot be used; ``str(error)`` says why (one line)."""


def safe_name(name):
    """A cluster name made safe for a file name (anything but letters, digits, ``.+-`` -> _)."""
    return re.sub(r"[^A-Za-z0-9.+-]", "_", str(name).strip())


class CutoutCache:
    """Cached g, r, i cutouts from a cluster source.

    Parameters
    ----------
    folder : path
        Where the FITS files live.
    source : object
        Has ``cutout(ra, dec, size_px, scale_arcsec) -> dict band -> PrimaryHDU``
        (``data_prep.deepcee_data.cluster_sources``).
    """

    def __init__(self, folder, source):
        self.folder = Path(folder)
        self.source = source

    def path(self, name, copy, band):
        """The cache file of one band of one copy."""
        return self.folder / f"{safe_name(name)}_{copy}_{band}.fits"

    def load(self, name, copy, ra_deg, dec_deg, size_px, scale_arcsec):
        """The g, r, i images of one cutout, from the cache or else from the source.

        Parameters
        ----------
        name : str
            Cluster name; ``copy``: offset copy number.
        ra_deg, dec_deg : float
            Cutout centre (deg).
        size_px : int
            Cutout side (pixels); ``scale_arcsec``: pixel scale (arcsec / px).

        Returns
        -------
        dict
            Band -> ``(float32 image, astropy.io.fits.Header)``.

        Raises
        ------
        CutoutRejected
            This cutout cannot be used (see the module docstring).
        """
        request = (float(ra_deg), float(dec_deg), int(size_px), float(scale_arcsec))
        if not self._cached(name, copy, request):
            self._fetch(name, copy, request)
        bands = {band: self._read(self.path(name, copy, band)) for band in BANDS}
        if not getattr(self.source, "keep_cutouts", True):
            for band in BANDS:
                self.path(name, copy, band).unlink()
        return bands

    def _cached(self, name, copy, request):
        for band in BANDS:
            path = self.path(name, copy, band)
            if not path.exists():
                return False
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", AstropyUserWarning)
                    header = fits.getheader(path)
            except (OSError, ValueError):
                return True  # present but damaged: _read reports it
            stored = tuple(header.get(card) for card in _REQUEST_CARDS)
            if None in stored or not np.allclose(stored, request, rtol=0, atol=1e-9):
                return False
        return True

    def _fetch(self, name, copy, request):
        try:
            hdus = self.source.cutout(request[0], request[1], request[2], request[3])
        except (CorruptFileError, NoCoverageError) as error:
            raise CutoutRejected(str(error)) from None
        missing = [band for band in BANDS if hdus.get(band) is None]
        for band in BANDS:
            if band in missing:
                continue
            header = hdus[band].header.copy()
            for card, value in zip(_REQUEST_CARDS, request):
                header[card] = value
            data = np.asarray(hdus[band].data, dtype=np.float32)
            write_fits(self.path(name, copy, band), fits.PrimaryHDU(data, header))
        if missing:
            raise CutoutRejected(f"the source delivered no {', '.join(missing)} band "
                                 f"for {name} copy {copy}")

    @staticmethod
    def _read(path):
        """The float32 image and header of a cached band; a damaged file is rejected."""
        if not path.exists():
            raise CutoutRejected(f"{path} is missing")
        try:
            return read_fits_image(path, require_celestial_wcs=False)
        except CorruptFileError as error:
            raise CutoutRejected(f"{error}; delete it to fetch it again") from None
        except NoCoverageError as error:
            raise CutoutRejected(str(error)) from None
