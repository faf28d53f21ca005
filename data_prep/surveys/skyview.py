"""Survey images from NASA SkyView through astroquery: SDSS g, r, i (Deep-CEE §2.2), 2MASS Ks.

Each image is one FITS file under ``<cache_dir>/skyview/<survey>/``, named by position, size
and pixel scale, written atomically and reused when present and readable. A cached file that
is truncated or unreadable is fetched again; an image of NaN or zeros (outside the survey's
footprint) raises :class:`~data_prep.surveys.service.NoCoverageError`.
"""
import astropy.units as u
from astropy.coordinates import SkyCoord
from astropy.io import fits

from data_prep.base.errors import InputError
from data_prep.surveys import sdss
from data_prep.surveys.service import ServiceAnswerError, SurveyService

SDSS_SURVEYS = {"g": "SDSSg", "r": "SDSSr", "i": "SDSSi"}
TWOMASS_K_SURVEY = "2MASS-K"


def _file_name(ra_deg, dec_deg, size_px, scale_arcsec):
    """Cache file name for one cutout."""
    return f"{ra_deg:010.6f}{dec_deg:+010.6f}_{size_px}px_{scale_arcsec:g}as.fits"


def cached_image(survey, ra_deg, dec_deg, size_px, scale_arcsec, cache_dir, retry=None,
                 skyview=None):
    """A SkyView image (TAN, ``size_px`` square at ``scale_arcsec``), cached as FITS.

    Parameters
    ----------
    survey : str
        SkyView survey name, e.g. ``"SDSSr"`` or ``"2MASS-K"``.
    ra_deg, dec_deg : float
        Image centre (ICRS, deg).
    size_px : int
        Side in pixels.
    scale_arcsec : float
        Pixel scale, arcsec per pixel.
    cache_dir : path
        Cache root (``data/cache``).
    retry : data_prep.surveys.service.RetryPolicy, optional
    skyview : astroquery.skyview.SkyViewClass, optional
        The astroquery client (a new one by default).

    Returns
    -------
    data_prep.surveys.service.CachedImage
        The cached FITS file (checked: complete, 2-D, celestial WCS, not empty), its image
        and header.
    """
    if skyview is None:
        from astroquery.skyview import SkyView as skyview
    service = SurveyService("SkyView", cache_dir, "skyview", retry)
    path = service.path(survey, _file_name(ra_deg, dec_deg, size_px, scale_arcsec))
    what = f"{survey} at RA {ra_deg:.5f}, Dec {dec_deg:+.5f}"
    side = size_px * scale_arcsec * u.arcsec

    def download():
        urls = skyview.get_image_list(SkyCoord(ra_deg * u.deg, dec_deg * u.deg), [survey],
                                      coordinates="J2000", projection="Tan",
                                      pixels=f"{size_px},{size_px}", width=side, height=side,
                                      cache=False)
        if not urls:
            raise ServiceAnswerError(f"no {survey} image at RA {ra_deg:.5f}, Dec {dec_deg:+.5f} "
                                     "(outside the survey footprint?)")
        return service.http_get(skyview, urls[0], what)

    return service.cached_fits(path, download, what)


def sdss_cutout(ra_deg, dec_deg, cache_dir, size_px=sdss.CUTOUT_PX, scale_arcsec=sdss.PIXEL_SCALE_ARCSEC,
                bands=("g", "r", "i"), retry=None, skyview=None):
    """SDSS cutouts in ``bands`` around one position (Deep-CEE §2.2).

    Returns
    -------
    dict
        band -> ``astropy.io.fits.PrimaryHDU`` (float32 image, the survey's header and WCS).

    Raises
    ------
    InputError
        A band that is not SDSS g, r or i, or a band SkyView does not return.
    NoCoverageError
        An image of NaN or zeros: outside the SDSS footprint.
    """
    unknown = [b for b in bands if b not in SDSS_SURVEYS]
    if unknown:
        raise InputError(f"SDSS band(s) {', '.join(unknown)} not available: use g, r, i")
    cutout = {}
    for band in bands:
        image = cached_image(SDSS_SURVEYS[band], ra_deg, dec_deg, size_px, scale_arcsec,
                             cache_dir, retry, skyview)
        cutout[band] = fits.PrimaryHDU(image.data, header=image.header)
    return cutout


def twomass_k_image(ra_deg, dec_deg, size_arcmin, cache_dir, retry=None, skyview=None,
                    scale_arcsec=1.0):
    """A 2MASS Ks image from SkyView's ``2MASS-K`` survey (StellarVAE §II-B).

    ``scale_arcsec`` is the pixel scale SkyView resamples to (2MASS Atlas images are 1"/px);
    callers take the true scale from the file's WCS, never from this number.
    """
    size_px = max(1, int(round(size_arcmin * 60.0 / scale_arcsec)))
    return cached_image(TWOMASS_K_SURVEY, ra_deg, dec_deg, size_px, scale_arcsec, cache_dir,
                        retry, skyview)
