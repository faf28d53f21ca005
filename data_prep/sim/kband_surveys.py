"""2MASS and UKIDSS GPS as the simulator sees them: camera, depth and raw catalogue rows.

Cameras (StellarVAE §II; Skrutskie et al. 2006; Lucas et al. 2008):

- 2MASS Ks Atlas images: 1.0 arcsec / pixel, seeing + sampling FWHM ~2.8 arcsec, DN with
  MAGZP 20.0, a sky pedestal, noise set so the PSC is complete to Ks = 14.3 (10 sigma),
  saturation of the 1.3 s read near Ks = 8.
- UKIDSS GPS K: 0.2 arcsec / pixel (interleaved), FWHM ~0.9 arcsec, ADU with MAGZPT 24.0,
  noise set by the 5-sigma depth K = 18.1, saturation near K = 10.5.

Raw catalogues carry the columns the survey readers expect (``data_prep.surveys.catalogues``):
2MASS PSC (VizieR II/246/out) ``2MASS, RAJ2000, DEJ2000, Kmag, e_Kmag, Qflg, Rflg``; UKIDSS GPS
``sourceID, ra, dec, kAperMag3, kAperMag3Err, mergedClass``. Stars get the flags of stars;
artefacts, galaxies and (UKIDSS) saturated stars get the flags the readers drop: 2MASS K
read-flag digit 0, 7, 8 or 9; UKIDSS mergedClass 1 (galaxy), -3 (probable galaxy), 0 (noise),
-9 (saturated).
"""
from dataclasses import dataclass

import numpy as np
from astropy.table import Table

TWOMASS_REJECTED_K_FLAGS = "0789"


@dataclass(frozen=True)
class KBandSurvey:
    """Camera and catalogue depth of a K-band survey.

    Attributes
    ----------
    name : str
        "2mass" or "ukidss".
    scale_arcsec : float
        Pixel scale (arcsec / pixel).
    fwhm_arcsec : float
        PSF FWHM (arcsec).
    zero_point : float
        Magnitude of one image unit (DN or ADU).
    sky_level : float
        Sky pedestal (image units per pixel).
    sky_sigma : float
        Background noise (image units per pixel).
    gain : float
        Electrons per image unit (source shot noise).
    saturation_mag : float
        A star this bright fills the full well in its peak pixel.
    catalogue_limit : float
        Completeness limit of the catalogue (mag); truth ``n_members`` counts members above it.
    header_cards : tuple
        (keyword, value, comment) cards of the survey's images.
    """

    name: str
    scale_arcsec: float
    fwhm_arcsec: float
    zero_point: float
    sky_level: float
    sky_sigma: float
    gain: float
    saturation_mag: float
    catalogue_limit: float
    header_cards: tuple


SURVEYS = {
    "2mass": KBandSurvey("2mass", 1.0, 2.8, 20.0, 400.0, 4.0, 10.0, 8.0, 14.3,
                         (("SURVEY", "2MASS-K", "simulated 2MASS Ks Atlas-like image"),
                          ("FILTER", "Ks", "2MASS Ks (2.16 um)"), ("BUNIT", "DN", ""),
                          ("MAGZP", 20.0, "Ks magnitude of 1 DN"))),
    "ukidss": KBandSurvey("ukidss", 0.2, 0.9, 24.0, 1000.0, 6.8, 4.5, 10.5, 18.1,
                          (("SURVEY", "UKIDSS GPS", "simulated UKIDSS GPS-like K image"),
                           ("FILTER", "K", "WFCAM K (2.20 um)"), ("BUNIT", "ADU", ""),
                           ("MAGZPT", 24.0, "K magnitude of 1 ADU"))),
}


def _twomass_designation(ra, dec):
    """2MASS designations 'hhmmssss+ddmmsss' (J2000, truncated) from positions (deg)."""
    names = []
    for r, d in zip(ra, dec):
        seconds = int(r / 15.0 * 360000)  # hundredths of a second of time
        h, m, s = seconds // 360000, (seconds // 6000) % 60, seconds % 6000
        arc = int(abs(d) * 36000)  # tenths of an arcsec
        dd, dm, ds = arc // 36000, (arc // 600) % 60, arc % 600
        names.append(f"{h:02d}{m:02d}{s:04d}{'+' if d >= 0 else '-'}{dd:02d}{dm:02d}{ds:03d}")
    return names


def _quality_letter(snr):
    """2MASS photometric quality letter from the signal-to-noise ratio."""
    return np.select([snr >= 10, snr >= 7, snr >= 5], ["A", "B", "C"], "D")


def twomass_psc(rng, ra, dec, kmag, snr, kind):
    """Raw 2MASS PSC rows (VizieR II/246/out columns), sorted by RA.

    Parameters
    ----------
    rng : numpy.random.Generator
    ra, dec : numpy.ndarray
        Catalogue positions (deg).
    kmag, snr : numpy.ndarray
        Measured Ks (mag) and its signal-to-noise ratio.
    kind : numpy.ndarray of str
        "star" (field star or member) or "artefact"; artefacts get a K read-flag digit of
        0 (no K detection; Kmag empty), 7, 8 or 9.
    """
    n = len(ra)
    star = kind == "star"
    k_digit = np.where(kmag < 8.0, "3", np.where(kmag < 9.0, "1", "2"))
    k_digit = np.where(star, k_digit, rng.choice(list(TWOMASS_REJECTED_K_FLAGS), n))
    jh_digits = rng.choice(["22", "22", "22", "12", "20", "00"], n)
    k_quality = np.where(star, _quality_letter(snr), np.where(k_digit == "0", "U", "X"))
    table = Table()
    table["2MASS"] = _twomass_designation(ra, dec)
    table["RAJ2000"] = ra
    table["DEJ2000"] = dec
    table["Kmag"] = np.where(k_digit == "0", np.nan, np.round(kmag, 3))
    table["e_Kmag"] = np.where(star, np.round(1.0857 / np.maximum(snr, 1.0), 3), np.nan)
    table["Qflg"] = np.char.add(rng.choice(["AA", "AB", "BA", "CU", "UU"], n), k_quality)
    table["Rflg"] = np.char.add(jh_digits, k_digit)
    for column, unit in (("RAJ2000", "deg"), ("DEJ2000", "deg"), ("Kmag", "mag"),
                         ("e_Kmag", "mag")):
        table[column].unit = unit
    return table[np.argsort(table["RAJ2000"], kind="stable")]


def ukidss_gps(rng, ra, dec, kmag, snr, kind, saturated):
    """Raw UKIDSS GPS source rows (WSA gpsSource columns), sorted by RA.

    Parameters
    ----------
    rng : numpy.random.Generator
    ra, dec, kmag, snr : numpy.ndarray
        Catalogue positions (deg), measured K (mag) and signal-to-noise ratio.
    kind : numpy.ndarray of str
        "star", "galaxy" or "artefact".
    saturated : numpy.ndarray of bool
        Stars whose core saturates: mergedClass -9.
    """
    n = len(ra)
    star_class = np.where((snr < 10) & (rng.uniform(0, 1, n) < 0.5), -2, -1)
    galaxy_class = np.where(snr > 15, 1, -3)
    merged = np.select([kind == "artefact", kind == "galaxy", saturated],
                       [0, galaxy_class, -9], star_class)
    table = Table()
    table["sourceID"] = np.zeros(n, np.int64)
    table["ra"] = ra
    table["dec"] = dec
    table["kAperMag3"] = np.round(kmag, 4).astype(np.float32)
    table["kAperMag3Err"] = np.round(1.0857 / np.maximum(snr, 1.0), 4).astype(np.float32)
    table["mergedClass"] = merged.astype(np.int16)
    table["ra"].unit = "deg"
    table["dec"].unit = "deg"
    table = table[np.argsort(table["ra"], kind="stable")]
    table["sourceID"] = 433792483000000 + np.arange(n, dtype=np.int64)
    return table
