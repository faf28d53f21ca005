"""Galaxy photometry and shapes: the red sequence, the blue cloud, sizes, the luminosity
function and field number counts, in SDSS g, r, i (AB magnitudes).

Numbers are round values from the SDSS literature, good to ~0.1 mag and ~20 % in size:
red-sequence colours of luminous red galaxies against redshift (Eisenstein et al. 2001;
Rykoff et al. 2014 Fig. 2), early-type k-correction in r (Blanton & Roweis 2007), sizes
from Shen et al. (2003), r-band counts from Yasuda et al. (2001), a Schechter function
with M*_r = -21.5 and alpha = -1.0 for cluster members (Hansen et al. 2009).
"""
from dataclasses import dataclass, fields

import galsim
import numpy as np

from data_prep.base.cosmology import COSMOLOGY, kpc_per_arcsec

# Red sequence of early-type galaxies: redshift -> observed g - r and r - i (mag).
_RED_Z = np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0])
_RED_G_R = np.array([0.75, 0.95, 1.20, 1.50, 1.70, 1.80, 1.85, 1.85])
_RED_R_I = np.array([0.38, 0.41, 0.46, 0.52, 0.65, 0.80, 1.10, 1.20])
SCHECHTER_M_STAR = -21.5
SCHECHTER_ALPHA = -1.0
N200_MAGNITUDE_LIMIT = -21.0  # Wen et al. (2012): members counted in N200 have M_r <= -21


@dataclass
class SourceList:
    """Sources of an optical field, one array entry per source.

    Attributes
    ----------
    ra, dec : numpy.ndarray
        Position (deg).
    rmag, g_r, r_i : numpy.ndarray
        r magnitude and g - r, r - i colours (AB mag).
    sersic_n : numpy.ndarray
        0 for a star (point source), 1 for a disc, 4 for a spheroid.
    hlr_arcsec, axis_ratio, angle_deg : numpy.ndarray
        Half-light radius (arcsec), minor / major axis ratio, position angle (deg).
    """

    ra: np.ndarray
    dec: np.ndarray
    rmag: np.ndarray
    g_r: np.ndarray
    r_i: np.ndarray
    sersic_n: np.ndarray
    hlr_arcsec: np.ndarray
    axis_ratio: np.ndarray
    angle_deg: np.ndarray

    def __len__(self):
        return len(self.ra)

    def select(self, keep):
        """The sources where boolean or index array ``keep`` selects."""
        return SourceList(**{f.name: getattr(self, f.name)[keep] for f in fields(self)})

    @classmethod
    def concatenate(cls, parts):
        """One list holding every source of ``parts`` (a sequence of SourceList)."""
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts])
                      for f in fields(cls)})

    def band_mags(self):
        """dict band -> magnitudes in g, r, i (AB)."""
        return {"g": self.rmag + self.g_r, "r": self.rmag, "i": self.rmag - self.r_i}


def red_sequence_colours(z):
    """Observed (g - r, r - i) of a red-sequence galaxy at redshift ``z`` (mag)."""
    return np.interp(z, _RED_Z, _RED_G_R), np.interp(z, _RED_Z, _RED_R_I)


def blue_cloud_colours(z, rng):
    """Observed (g - r, r - i) of star-forming galaxies at redshift ``z`` with scatter (mag)."""
    z = np.asarray(z, float)
    g_r = 0.35 + 0.9 * z + rng.normal(0.0, 0.12, z.shape)
    r_i = 0.22 + 0.45 * z + rng.normal(0.0, 0.07, z.shape)
    return g_r, r_i


def early_type_k_correction_r(z):
    """r-band k-correction of an early-type galaxy (mag), valid for z < 0.4."""
    return 1.0 * z + 1.2 * z ** 2


def apparent_r(absolute_r, z):
    """Apparent r magnitude of an early-type galaxy of absolute magnitude ``absolute_r``."""
    return absolute_r + COSMOLOGY.distmod(z).value + early_type_k_correction_r(z)


def absolute_r(apparent, z):
    """Absolute r magnitude of an early-type galaxy of apparent r magnitude ``apparent``."""
    return apparent - COSMOLOGY.distmod(z).value - early_type_k_correction_r(z)


def _schechter_grid(m_bright, m_faint, step=0.01):
    """Magnitudes and cumulative Schechter counts (arbitrary normalisation) on a grid."""
    mags = np.linspace(m_bright, m_faint, max(int(np.ceil((m_faint - m_bright) / step)), 1) + 1)
    lum = 10.0 ** (-0.4 * (mags - SCHECHTER_M_STAR))
    density = lum ** (SCHECHTER_ALPHA + 1.0) * np.exp(-lum)
    cumulative = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1])
                                                  * np.diff(mags))])
    return mags, cumulative


def schechter_count_ratio(m_bright, m_mid, m_faint):
    """Schechter counts in [m_mid, m_faint] over counts in [m_bright, m_mid] (absolute mag)."""
    if m_faint <= m_mid:
        return 0.0
    mags, cumulative = _schechter_grid(m_bright, m_faint)
    mid = np.interp(m_mid, mags, cumulative)
    return (cumulative[-1] - mid) / mid


def sample_schechter(rng, n, m_bright, m_faint):
    """``n`` absolute magnitudes drawn from the Schechter function in [m_bright, m_faint]."""
    mags, cumulative = _schechter_grid(m_bright, m_faint)
    return np.interp(rng.uniform(0.0, cumulative[-1], n), cumulative, mags)


def early_type_hlr_kpc(absolute_r):
    """Half-light radius (kpc) of an early-type galaxy (Shen et al. 2003, R ~ L^0.65)."""
    return 3.0 * 10.0 ** (-0.26 * (np.asarray(absolute_r) + 21.0))


def cluster_member_sources(rng, ra, dec, absolute_r, z, red):
    """Photometry and shapes of cluster galaxies at redshift ``z``.

    Parameters
    ----------
    rng : numpy.random.Generator
    ra, dec : numpy.ndarray
        Positions (deg).
    absolute_r : numpy.ndarray
        Absolute r magnitudes.
    z : float
        Cluster redshift.
    red : numpy.ndarray of bool
        True for red-sequence members (spheroids), False for blue (discs).
    """
    n = len(ra)
    rmag = apparent_r(absolute_r, z)
    g_r, r_i = red_sequence_colours(np.full(n, z))
    blue_g_r, blue_r_i = blue_cloud_colours(np.full(n, z), rng)
    g_r = np.where(red, g_r + rng.normal(0.0, 0.05, n), blue_g_r)
    r_i = np.where(red, r_i + rng.normal(0.0, 0.03, n), blue_r_i)
    hlr_kpc = early_type_hlr_kpc(absolute_r) * np.where(red, 1.0, 1.3) * 10 ** rng.normal(0, 0.1, n)
    return SourceList(ra=ra, dec=dec, rmag=rmag, g_r=g_r, r_i=r_i,
                      sersic_n=np.where(red, 4, 1),
                      hlr_arcsec=hlr_kpc / kpc_per_arcsec(z),
                      axis_ratio=np.where(red, rng.uniform(0.6, 1.0, n), rng.uniform(0.25, 1.0, n)),
                      angle_deg=rng.uniform(0.0, 180.0, n))


def field_galaxy_density(m_bright, m_faint):
    """Field galaxies per deg^2 with r in [m_bright, m_faint] (Yasuda et al. 2001 counts).

    dN/dm = 10^(3.35 + 0.4 (r - 20)) per deg^2 per mag.
    """
    norm = 10.0 ** 3.35 / (0.4 * np.log(10.0))
    return norm * (10.0 ** (0.4 * (m_faint - 20.0)) - 10.0 ** (0.4 * (m_bright - 20.0)))


def field_galaxy_sources(rng, ra, dec, m_bright, m_faint):
    """Field galaxies at positions (ra, dec) with r from the counts in [m_bright, m_faint].

    A galaxy's redshift follows its magnitude (median z 0.1 at r = 17.7); bright galaxies are
    more often red. Sizes follow the r-band size-magnitude relation of field galaxies.
    """
    n = len(ra)
    u = rng.uniform(0.0, 1.0, n)
    low, high = 10.0 ** (0.4 * m_bright), 10.0 ** (0.4 * m_faint)
    rmag = 2.5 * np.log10(low + u * (high - low))
    z = 0.1 * 10.0 ** (0.18 * (rmag - 17.7) + rng.normal(0.0, 0.12, n))
    red = rng.uniform(0.0, 1.0, n) < np.where(rmag < 18.5, 0.5, 0.25)
    red_g_r, red_r_i = red_sequence_colours(z)
    blue_g_r, blue_r_i = blue_cloud_colours(z, rng)
    g_r = np.where(red, red_g_r + rng.normal(0.0, 0.06, n), blue_g_r)
    r_i = np.where(red, red_r_i + rng.normal(0.0, 0.04, n), blue_r_i)
    hlr = 10.0 ** (0.25 - 0.12 * (rmag - 18.0) + rng.normal(0.0, 0.15, n))
    return SourceList(ra=ra, dec=dec, rmag=rmag, g_r=g_r, r_i=r_i,
                      sersic_n=np.where(red, 4, 1), hlr_arcsec=hlr,
                      axis_ratio=np.where(red, rng.uniform(0.6, 1.0, n), rng.uniform(0.25, 1.0, n)),
                      angle_deg=rng.uniform(0.0, 180.0, n))


def galaxy_profile(sersic_n, hlr_arcsec, axis_ratio, angle_deg):
    """Unit-flux GalSim profile: a truncated de Vaucouleurs spheroid (n = 4) or an
    exponential disc (n = 1), sheared to ``axis_ratio`` at position angle ``angle_deg``."""
    if sersic_n == 4:
        profile = galsim.DeVaucouleurs(half_light_radius=hlr_arcsec, trunc=8.0 * hlr_arcsec)
    else:
        profile = galsim.Exponential(half_light_radius=hlr_arcsec)
    return profile.shear(q=axis_ratio, beta=angle_deg * galsim.degrees)


def power_law_mags(rng, n, slope, bright, faint):
    """``n`` magnitudes with dN/dm ~ 10^(slope m) between ``bright`` and ``faint``."""
    low, high = 10.0 ** (slope * bright), 10.0 ** (slope * faint)
    return np.log10(low + rng.uniform(0.0, 1.0, n) * (high - low)) / slope
