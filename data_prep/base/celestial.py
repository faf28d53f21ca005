"""Celestial WCS facts every stage needs, computed one way: the pixel scale of a WCS and the
WCS stored as header text in a Deep-CEE record."""
import numpy as np
from astropy import units as u
from astropy.io import fits
from astropy.wcs import WCS
from astropy.wcs.utils import proj_plane_pixel_area

from data_prep.base.errors import InputError


def pixel_scale_arcsec(wcs):
    """Pixel scale of a celestial WCS in arcsec: the side of a square pixel of the same solid
    angle (the geometric mean of the two axes' scales, whatever the WCS's units).

    Raises
    ------
    InputError
        The WCS is None or has no celestial axes.
    """
    if wcs is None or not wcs.has_celestial:
        raise InputError("the image has no celestial WCS: give a FITS image with RA/Dec axes")
    celestial = wcs.celestial
    area = proj_plane_pixel_area(celestial) * u.Unit(celestial.wcs.cunit[0] or "deg") ** 2
    return float(np.sqrt(area.to_value(u.arcsec ** 2)))


def wcs_from_header_text(text):
    """The celestial WCS of a Deep-CEE record (its ``image/wcs`` FITS header text, bytes or
    str).

    Raises
    ------
    InputError
        The record has no WCS header, or one without RA/Dec axes.
    """
    if isinstance(text, bytes):
        text = text.decode()
    if not text.strip():
        raise InputError("record has no image/wcs header: rebuild the TFRecords with "
                         "`deepcee tfrecords`, which stores the cutout's WCS")
    header = fits.Header.fromstring(text, sep="\n" if "\n" in text else "")
    wcs = WCS(header).celestial
    if not wcs.has_celestial:
        raise InputError("record's image/wcs header has no RA/Dec axes: rebuild the TFRecords "
                         "with `deepcee tfrecords`")
    return wcs
