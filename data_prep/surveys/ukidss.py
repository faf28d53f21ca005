"""UKIDSS Galactic Plane Survey K images and sources through astroquery's WFAU client (StellarVAE §II-A).

The K image is a WSA cut-out (``GetImage``), stored as the FITS file the archive sends; the
source list is the VOTable the archive writes for a ``WSASQL`` region query of ``gpsSource``.
Both are cached under ``<cache_dir>/ukidss/``, reused when present and readable, fetched with
retries (``data_prep.surveys.service``).

Real WSA column names differ from the CONTRACTS spelling: the region query's default columns
are ``RA``, ``Dec`` (deg), ``mergedClass`` and, because the GPS observes K twice,
``K_1AperMag3`` / ``K_2AperMag3``; ``data_prep.surveys.catalogues.ukidss_stars`` accepts both.
"""
import logging

import astropy.units as u
from astropy.coordinates import SkyCoord

from data_prep.base.errors import InputError
from data_prep.surveys.service import ServiceAnswerError, SurveyService

log = logging.getLogger(__name__)

DATABASE = "UKIDSSDR11PLUS"
PROGRAMME = "GPS"
# GPS frames are 2x2 micro-stepped: interleaved stacks have 0.2"/px; plain stacks 0.4"/px.
FRAME_TYPES = ("leavstack", "stack")
MAX_WIDTH_ARCMIN = 15.0   # WSA GetImage limit on the cut-out width


def _client(ukidss):
    """The astroquery UKIDSS client (GPS, DR11PLUS) unless one is given."""
    if ukidss is not None:
        return ukidss
    from astroquery.ukidss import UkidssClass
    return UkidssClass(database=DATABASE, programme_id=PROGRAMME)


def _key(ra_deg, dec_deg, size_arcmin):
    """A file-name stem for one field."""
    return f"{ra_deg:010.6f}{dec_deg:+010.6f}_{size_arcmin:g}arcmin"


def k_image(ra_deg, dec_deg, size_arcmin, cache_dir, retry=None, ukidss=None):
    """The UKIDSS GPS K-band cut-out around (ra, dec), cached as FITS.

    Parameters
    ----------
    ra_deg, dec_deg : float
        Centre (ICRS, deg).
    size_arcmin : float
        Cut-out side, arcmin (the WSA serves at most 15').
    cache_dir : path
        Cache root (``data/cache``).
    retry : data_prep.surveys.service.RetryPolicy, optional
    ukidss : astroquery.ukidss.UkidssClass, optional

    Returns
    -------
    data_prep.surveys.service.CachedImage
        The cached FITS file (checked: complete, 2-D, celestial WCS, not empty), its image
        and header.
    """
    if not 0 < size_arcmin <= MAX_WIDTH_ARCMIN:
        raise InputError(f"UKIDSS cut-out side {size_arcmin} arcmin: the WSA serves 0 to "
                         f"{MAX_WIDTH_ARCMIN:g} arcmin")
    client = _client(ukidss)
    service = SurveyService("UKIDSS WSA", cache_dir, "ukidss", retry)
    path = service.path("images", _key(ra_deg, dec_deg, size_arcmin) + "_K.fits")
    what = f"GPS K image at RA {ra_deg:.5f}, Dec {dec_deg:+.5f}"
    centre = SkyCoord(ra_deg * u.deg, dec_deg * u.deg)

    def download():
        for frame_type in FRAME_TYPES:
            urls = client.get_image_list(centre, waveband="K", frame_type=frame_type,
                                         image_width=size_arcmin * u.arcmin,
                                         programme_id=PROGRAMME)
            if urls:
                return service.http_get(client, urls[0], what)
        raise ServiceAnswerError(f"no GPS K image at RA {ra_deg:.5f}, Dec {dec_deg:+.5f} "
                                 "(outside the survey footprint?)")

    return service.cached_fits(path, download, what)


def _votable_link(client, html):
    """The link to the VOTable file on a WSA SQL results page."""
    links = [link for link in client.extract_urls(html)
             if link.lower().endswith((".xml", ".vot")) and "launch" not in link]
    if not links:
        raise ServiceAnswerError("no VOTable link on the WSA results page")
    return links[0]


def gps_sources(ra_deg, dec_deg, size_arcmin, cache_dir, retry=None, ukidss=None):
    """GPS sources within ``size_arcmin / 2 * sqrt(2)`` of (ra, dec) (covers the square field).

    Returns
    -------
    astropy.table.Table
        The WSA columns (``RA``, ``Dec``, ``mergedClass``, ``K_1AperMag3``, ...).
    """
    client = _client(ukidss)
    service = SurveyService("UKIDSS WSA", cache_dir, "ukidss", retry)
    path = service.path("sources", _key(ra_deg, dec_deg, size_arcmin) + ".vot")
    what = f"gpsSource around RA {ra_deg:.5f}, Dec {dec_deg:+.5f}"
    radius = size_arcmin / 2 * 2 ** 0.5 * u.arcmin

    def request():
        response = client.query_region_async(SkyCoord(ra_deg * u.deg, dec_deg * u.deg),
                                             radius=radius, programme_id=PROGRAMME)
        response.raise_for_status()
        return service.http_get(client, _votable_link(client, response.text), what)

    return service.cached_votable(path, request, what)
