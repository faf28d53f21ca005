"""Random offsets of a cluster from its cutout's centre (Deep-CEE §2.2).

The paper offsets each cutout's requested centre from the cluster by a uniform random amount,
so that the cluster lands anywhere within 270 arcsec of the image centre in x and in y, and
makes 4 such copies per cluster. Here each copy's offset is drawn independently in x (towards
+RA, east) and y (towards +Dec, north), uniform in [-270, 270] arcsec, from a generator seeded
by (seed, a hash of the cluster's name, copy number): a cluster's offsets do not depend on
which other clusters are in the sample, and the same seed gives the same offsets.
"""
import hashlib

import numpy as np

MAX_OFFSET_ARCSEC = 270.0
COPIES = 4


def name_key(name):
    """A stable 32-bit integer for a cluster name (unlike ``hash``, the same in every run)."""
    return int.from_bytes(hashlib.sha256(str(name).encode()).digest()[:4], "big")


def bcg_offset(name, copy, seed, max_arcsec=MAX_OFFSET_ARCSEC):
    """The offset (arcsec) of the cluster from the centre of one of its cutouts.

    Returns
    -------
    dx, dy : float
        East and north offsets of the BCG from the cutout centre, uniform in
        ``[-max_arcsec, max_arcsec]``.
    """
    rng = np.random.default_rng([int(seed), name_key(name), int(copy)])
    dx, dy = rng.uniform(-max_arcsec, max_arcsec, size=2)
    return float(dx), float(dy)


def tangent_offsets(ra0_deg, dec0_deg, ra_deg, dec_deg):
    """Gnomonic (TAN) coordinates (arcsec, east and north) of (ra, dec) about (ra0, dec0)."""
    ra0, dec0, ra, dec = np.radians([ra0_deg, dec0_deg, ra_deg, dec_deg])
    cos_c = np.sin(dec) * np.sin(dec0) + np.cos(dec) * np.cos(dec0) * np.cos(ra - ra0)
    xi = np.cos(dec) * np.sin(ra - ra0) / cos_c
    eta = (np.sin(dec) * np.cos(dec0) - np.cos(dec) * np.sin(dec0) * np.cos(ra - ra0)) / cos_c
    return np.degrees(xi) * 3600.0, np.degrees(eta) * 3600.0


def cutout_centre(ra_deg, dec_deg, dx_arcsec, dy_arcsec):
    """The sky position (deg) to centre a cutout on so that the BCG at ``(ra, dec)`` lies
    ``dx`` arcsec east and ``dy`` arcsec north of the centre in the cutout's tangent plane
    (the north-up TAN pixel grid of SDSS and simulated cutouts), to better than 1e-6 arcsec
    (fixed-point iteration on :func:`tangent_offsets`)."""
    ra0 = ra_deg - dx_arcsec / 3600.0 / np.cos(np.radians(dec_deg))
    dec0 = dec_deg - dy_arcsec / 3600.0
    for _ in range(8):
        xi, eta = tangent_offsets(ra0, dec0, ra_deg, dec_deg)
        dec0 -= (dy_arcsec - eta) / 3600.0
        ra0 -= (dx_arcsec - xi) / 3600.0 / np.cos(np.radians(dec0))
    return float(ra0 % 360.0), float(dec0)
