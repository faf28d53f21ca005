"""SDSS imaging as Deep-CEE uses it (§2.2): the camera's pixel scale, the cutout side, the bands."""

PIXEL_SCALE_ARCSEC = 0.396
"""SDSS imaging camera pixel, arcsec."""
CUTOUT_PX = 2000
"""Deep-CEE cutout side, pixels (13.2 arcmin at 0.396"/px)."""
BANDS = ("g", "r", "i")
"""The bands of a Deep-CEE colour image (stacked as i, r, g -> R, G, B)."""
