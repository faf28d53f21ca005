"""Square-root colour stretch of SDSS i, r, g images into an 8-bit RGB picture (Deep-CEE §2.2).

The paper stacks the i, r, g images as the R, G, B channels and maps each onto a luminosity
scale between a lower and an upper flux limit with a square root, which it found better than
linear or logarithmic scales; it does not give the limits. This module fixes them per image
and per band (so the same rule works in nanomaggies for SDSS and in the simulator's units):

- lower limit = the sky level: the sigma-clipped median (3 sigma, 5 iterations) of the band,
  plus ``lower_sigma`` times the sigma-clipped standard deviation (default 0: the sky median,
  so half the pure-sky pixels map to black and the noise is suppressed, as §2.2 asks);
- upper limit = the ``upper_percentile`` percentile of the band's pixels (default 99.5 %,
  so bright stars and BCG cores saturate while galaxy structure keeps its contrast).

Both statistics are taken on a strided sample of the finite pixels (every ``sample_step``-th
pixel in each axis, default 8: 15,625 pixels of a 1000 x 1000 image, which fixes the sky median
to about 1 % of the sky noise), which keeps the stretch cheap. The stretched value is
``sqrt(clip((flux - lower) / (upper - lower), 0, 1))``; NaN pixels become 0 (black).
"""
import numpy as np
from astropy.stats import sigma_clipped_stats

#: The image bands that become the R, G, B channels (§2.2: i, r, g -> R, G, B).
CHANNEL_BANDS = ("i", "r", "g")
LOWER_SIGMA = 0.0
UPPER_PERCENTILE = 99.5
SAMPLE_STEP = 8


def band_limits(image, lower_sigma=LOWER_SIGMA, upper_percentile=UPPER_PERCENTILE,
                sample_step=SAMPLE_STEP):
    """Lower and upper flux limits of one band (the band's own flux units).

    Parameters
    ----------
    image : (H, W) array
        Flux image; NaN marks pixels without data.
    lower_sigma : float
        Lower limit = sky median + ``lower_sigma`` x sky standard deviation (sigma-clipped).
    upper_percentile : float
        Upper limit = this percentile (0-100) of the pixel values.
    sample_step : int
        Statistics use every ``sample_step``-th pixel in each axis.

    Returns
    -------
    lower, upper : float

    Raises
    ------
    ValueError
        No finite pixel, or ``upper <= lower`` (a flat image with no dynamic range).
    """
    sample = np.asarray(image[::sample_step, ::sample_step], dtype=np.float64).ravel()
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        raise ValueError("no finite pixels")
    _, median, std = sigma_clipped_stats(sample, sigma=3.0, maxiters=5)
    lower = float(median + lower_sigma * std)
    upper = float(np.percentile(sample, upper_percentile))
    if not upper > lower:
        raise ValueError(f"no dynamic range (upper limit {upper:.4g} <= lower limit {lower:.4g})")
    return lower, upper


def sqrt_stretch(image, lower, upper):
    """Square-root stretch onto [0, 1]: ``sqrt(clip((image - lower) / (upper - lower), 0, 1))``.

    NaN pixels become 0. Returns float32 of the image's shape.
    """
    scaled = (np.asarray(image, dtype=np.float32) - np.float32(lower)) \
        * np.float32(1.0 / (upper - lower))
    np.clip(scaled, 0.0, 1.0, out=scaled)
    np.sqrt(scaled, out=scaled)
    scaled[np.isnan(scaled)] = 0.0
    return scaled


def rgb_image(bands, lower_sigma=LOWER_SIGMA, upper_percentile=UPPER_PERCENTILE,
              sample_step=SAMPLE_STEP):
    """Stretch the i, r, g images into one 8-bit RGB picture.

    Parameters
    ----------
    bands : mapping
        Band name -> (H, W) flux image; needs ``"i"``, ``"r"``, ``"g"`` of one shape.
    lower_sigma, upper_percentile, sample_step
        See :func:`band_limits`.

    Returns
    -------
    rgb : (H, W, 3) uint8
        R = i, G = r, B = g, each ``round(255 x stretched)``.
    limits : dict
        Band -> (lower, upper) flux limits used.
    """
    shape = np.shape(bands[CHANNEL_BANDS[0]])
    rgb = np.empty(shape + (3,), dtype=np.uint8)
    limits = {}
    for channel, band in enumerate(CHANNEL_BANDS):
        if np.shape(bands[band]) != shape:
            raise ValueError(f"band {band} has shape {np.shape(bands[band])}, expected {shape}")
        limits[band] = band_limits(bands[band], lower_sigma, upper_percentile, sample_step)
        stretched = sqrt_stretch(bands[band], *limits[band])
        stretched *= 255.0
        np.rint(stretched, out=stretched)
        rgb[..., channel] = stretched
    return rgb, limits
