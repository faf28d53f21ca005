"""Reading FITS images, one way for every stage: the whole file is read and checked, so nothing
truncated, damaged or empty is ever returned (survey cache, cutout cache, K-band fields and
the files a user gives to ``deepcee detect`` and ``stellarvae detect``)."""
import warnings
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyUserWarning
from astropy.wcs import WCS

from data_prep.base.errors import CorruptFileError, NoCoverageError

BLANK_MARKER = 1e30
"""Pixel values of this magnitude or more (and infinities) are no flux of any survey but the
markers some software writes for blank pixels (-1e30, 1e38): an image holding any is refused
rather than stretched or scaled around them."""


def image_hdu(hdul):
    """The first HDU of ``hdul`` that holds a 2-D image (or a cube with one plane), or None."""
    for hdu in hdul:
        if isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)) and \
                hdu.data is not None and np.squeeze(hdu.data).ndim == 2:
            return hdu
    return None


def celestial_wcs(header):
    """The celestial WCS of a header, or None when it has no RA/Dec axes (SIP and obsolete
    keyword notes are silenced: they are not the reader's concern)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            wcs = WCS(header, naxis=2).celestial
        except (ValueError, KeyError, MemoryError):
            return None
    return wcs if wcs.has_celestial else None


def read_fits_image(path, require_celestial_wcs=True):
    """Read a 2-D FITS image completely and check it.

    Parameters
    ----------
    path : path
        The image may sit in any HDU (the first 2-D one is read).
    require_celestial_wcs : bool
        Refuse an image whose header has no RA/Dec WCS.

    Returns
    -------
    data : (H, W) float32
    header : astropy.io.fits.Header
        The header of the HDU that holds the image.

    Raises
    ------
    CorruptFileError
        Missing, a directory, truncated or unreadable file, no 2-D image, or (when required)
        no celestial WCS.
        Also pixels that are infinite or of magnitude >= :data:`BLANK_MARKER`.
    NoCoverageError
        Every pixel NaN, or every pixel zero: outside the survey footprint.
    """
    path = Path(path)
    if path.is_dir():
        raise CorruptFileError(f"{path}: is a directory; give a FITS image file")
    if not path.is_file():
        raise CorruptFileError(f"{path}: no such file; give a FITS image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", AstropyUserWarning)  # "File may have been truncated"
            warnings.simplefilter("error", fits.verify.VerifyWarning)
            with fits.open(path, memmap=False) as hdul:
                hdul.verify("exception")
                hdu = image_hdu(hdul)
                if hdu is None:
                    raise CorruptFileError(f"{path}: no 2-D image in any HDU; "
                                           "give a FITS file with one image")
                with np.errstate(over="ignore", invalid="ignore"):  # 1e39 -> inf: refused below
                    data = np.asarray(np.squeeze(hdu.data), dtype=np.float32)
                header = hdu.header.copy()
    except CorruptFileError:
        raise
    except (OSError, ValueError, TypeError, IndexError, Warning, fits.verify.VerifyError) as error:
        reason = (str(error).strip().splitlines() or [""])[0][:200]
        raise CorruptFileError(f"{path}: unreadable or truncated FITS ({type(error).__name__}: "
                               f"{reason}); re-download or replace the file") from None
    if require_celestial_wcs and celestial_wcs(header) is None:
        raise CorruptFileError(f"{path} has no celestial WCS; give an image with "
                               "RA/Dec WCS keywords (CTYPE1/2, CRVAL, CRPIX, CDELT or CD)")
    finite = np.isfinite(data)
    if not finite.any() or not np.any(data[finite] != 0):
        raise NoCoverageError(f"{path}: image is all NaN or zero (outside the survey footprint)")
    absurd = int(np.count_nonzero(~np.isnan(data) & ~(np.abs(data) < BLANK_MARKER)))
    if absurd:
        raise CorruptFileError(f"{path}: {absurd} pixels ({absurd / data.size:.2%}) are infinite "
                               f"or of magnitude >= {BLANK_MARKER:g}, blank markers rather than "
                               "flux; set them to NaN and retry")
    return data, header
