"""Patchy nebulosity and extinction around embedded clusters (StellarVAE §I: "molecular clouds").

Both are Gaussian random fields with a steep power spectrum (P(k) ~ k^-3, like the
turbulent structure of molecular clouds), made on a coarse grid with an FFT and interpolated
onto the image; a lognormal transform makes them patchy and filamentary.
"""
import numpy as np
from scipy.ndimage import zoom

COARSE_GRID = 128


def lognormal_field(rng, shape, smallest_scale_px, sigma=0.8):
    """A positive, patchy random field of mean ~1 on an image of ``shape``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Seeded generator.
    shape : tuple of int
        (rows, columns) of the image.
    smallest_scale_px : float
        Structures smaller than this (pixels) are smoothed away.
    sigma : float
        Standard deviation of the underlying Gaussian field (larger = patchier).

    Returns
    -------
    numpy.ndarray
        float32 of ``shape``: exp(sigma g - sigma^2 / 2) for a unit-variance field g.
    """
    n = COARSE_GRID
    ky = np.fft.fftfreq(n)[:, None]
    kx = np.fft.rfftfreq(n)[None, :]
    k = np.hypot(kx, ky)
    coarse_px = max(shape) / n
    cutoff = 1.0 / max(smallest_scale_px / coarse_px, 2.0)
    amplitude = np.where(k > 0, k, np.inf) ** -1.5 * np.exp(-(k / cutoff) ** 2)
    noise = rng.standard_normal((n, n // 2 + 1)) + 1j * rng.standard_normal((n, n // 2 + 1))
    field = np.fft.irfft2(noise * amplitude, s=(n, n))
    field = (field - field.mean()) / field.std()
    fine = zoom(field, (shape[0] / n, shape[1] / n), order=1)[:shape[0], :shape[1]]
    return np.exp(sigma * fine - 0.5 * sigma ** 2).astype(np.float32)


def radial_envelope(shape, x0, y0, width_px):
    """Gaussian envelope exp(-r^2 / (2 width^2)) around pixel (x0, y0), float32 of ``shape``."""
    y, x = np.ogrid[:shape[0], :shape[1]]
    return np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2.0 * width_px ** 2)).astype(np.float32)
