"""FITS images with a celestial TAN WCS, laid out like survey cutouts.

SkyView, the 2MASS image service and the WFCAM Science Archive all return a square image,
north up and east left, whose reference pixel is the cutout centre. The simulator builds its
images on the same grid, so readers and the detector cannot tell the two apart.
"""
import numpy as np
from astropy.io import fits
from astropy.wcs import WCS


def tan_wcs(ra_deg, dec_deg, size_px, scale_arcsec):
    """Gnomonic (TAN) WCS of a square cutout centred on (ra, dec).

    Parameters
    ----------
    ra_deg, dec_deg : float
        Centre of the cutout (deg, ICRS).
    size_px : int
        Width and height of the cutout (pixels).
    scale_arcsec : float
        Pixel scale (arcsec / pixel).

    Returns
    -------
    astropy.wcs.WCS
        CRVAL at (ra, dec), CRPIX at the image centre ((size + 1) / 2, FITS 1-based),
        CDELT = (-scale, +scale) / 3600: north up, east left.
    """
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = [float(ra_deg) % 360.0, float(dec_deg)]
    wcs.wcs.crpix = [(size_px + 1) / 2.0, (size_px + 1) / 2.0]
    wcs.wcs.cdelt = [-scale_arcsec / 3600.0, scale_arcsec / 3600.0]
    wcs.wcs.cunit = ["deg", "deg"]
    wcs.wcs.radesys = "ICRS"
    wcs.wcs.equinox = 2000.0
    wcs.pixel_shape = (size_px, size_px)
    return wcs


def image_hdu(data, wcs, cards):
    """A float32 primary HDU carrying ``wcs`` and extra header ``cards``.

    Parameters
    ----------
    data : numpy.ndarray
        2-D image, row index = y (FITS NAXIS2), column index = x.
    wcs : astropy.wcs.WCS
        Celestial WCS of the image.
    cards : list of tuple
        (keyword, value, comment) header cards such as SURVEY, FILTER, BUNIT.

    Returns
    -------
    astropy.io.fits.PrimaryHDU
    """
    header = wcs.to_header()
    for keyword, value, comment in cards:
        header[keyword] = (value, comment)
    return fits.PrimaryHDU(data=np.ascontiguousarray(data, dtype=np.float32), header=header)
