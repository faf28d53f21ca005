"""The colour image Deep-CEE sees (§2.2), made one way for the data set's records and for
``deepcee detect``: each g, r, i flux image is resampled to the image's size by area
averaging (:mod:`data_prep.deepcee_data.regrid`; pixels without data are filled with the
band's median first, so they do not spread), the three are square-root stretched into
i, r, g -> R, G, B (:mod:`data_prep.deepcee_data.stretch`), and the pixels without data in
any band are painted black."""
import numpy as np

from data_prep.deepcee_data import stretch
from data_prep.deepcee_data.regrid import resize_image


def resample_band(image, size_px):
    """One band resampled to ``size_px`` (int, or ``(width, height)``).

    Returns
    -------
    resampled : (height, width) float32
    blank : (height, width) bool or None
        Resampled footprint of the NaN pixels (more than half NaN), None if there are none.
    """
    nan = np.isnan(image)
    if not nan.any():
        return resize_image(image, size_px), None
    filled = np.where(nan, np.nanmedian(image[::4, ::4]), image).astype(np.float32)
    return resize_image(filled, size_px), resize_image(nan.astype(np.float32), size_px) > 0.5


def colour_image(bands, size_px, lower_sigma=stretch.LOWER_SIGMA,
                 upper_percentile=stretch.UPPER_PERCENTILE):
    """The 8-bit RGB image of a g, r, i triplet.

    Parameters
    ----------
    bands : mapping
        Band (``g``, ``r``, ``i``) -> (H, W) flux image of one shape; NaN where there is no
        data.
    size_px : int or (width, height)
        Size of the output image in pixels.
    lower_sigma, upper_percentile : float
        The stretch limits (:func:`data_prep.deepcee_data.stretch.band_limits`).

    Returns
    -------
    rgb : (height, width, 3) uint8
    limits : dict
        Band -> (lower, upper) flux limits used.

    Raises
    ------
    ValueError
        A band without finite pixels or without dynamic range.
    """
    resampled, blank = {}, None
    for band in stretch.CHANNEL_BANDS:
        resampled[band], mask = resample_band(bands[band], size_px)
        if mask is not None:
            blank = mask if blank is None else blank | mask
    rgb, limits = stretch.rgb_image(resampled, lower_sigma, upper_percentile)
    if blank is not None:
        rgb[blank] = 0
    return rgb, limits
