"""ds9 region files, written by astropy's ``regions`` package.

The project writes a few shapes: sky circles, boxes and points (in the frame of their
``SkyCoord``: ``fk5``, written ``j2000`` by ds9's convention, or ``icrs``) and boxes in image
pixels, each with an optional colour and text label. Build them with the functions below and
turn a list of them into the text of a ``.reg`` file with :func:`ds9_text`. Sky sizes are
written in degrees; pixel positions become ds9's 1-based pixels.
"""
import astropy.units as u
from regions import (CircleSkyRegion, PixCoord, PointSkyRegion, RectanglePixelRegion,
                     RectangleSkyRegion, RegionMeta, RegionVisual, Regions)

HEADER = "# Region file format: DS9 astropy/regions"
MARKERS = {"x": "x", "cross": "+"}
"""ds9 point shape -> the ``regions`` marker that writes it."""


def _style(label=None, colour=None, dashed=False, marker=None):
    """``meta`` and ``visual`` keywords of a region: text label, colour, dash, point shape."""
    visual = {"color": colour, "linestyle": "dashed" if dashed else None,
              "marker": MARKERS[marker] if marker else None}
    return {"meta": RegionMeta({"text": label} if label else {}),
            "visual": RegionVisual({k: v for k, v in visual.items() if v is not None})}


def sky_circle(centre, radius_arcsec, label=None, colour=None, dashed=False):
    """A circle of ``radius_arcsec`` (arcsec) around a SkyCoord ``centre``."""
    return CircleSkyRegion(centre, radius_arcsec * u.arcsec, **_style(label, colour, dashed))


def sky_box(centre, width_arcsec, height_arcsec, label=None, colour=None):
    """A box aligned with RA and Dec, ``width_arcsec`` x ``height_arcsec`` (arcsec)."""
    return RectangleSkyRegion(centre, width_arcsec * u.arcsec, height_arcsec * u.arcsec,
                              **_style(label, colour))


def sky_point(centre, marker="x", colour=None):
    """A point marker at a SkyCoord: ``marker`` is ``"x"`` or ``"cross"`` (ds9's names)."""
    return PointSkyRegion(centre, **_style(colour=colour, marker=marker))


def image_box(x, y, width, height, label=None, colour=None):
    """A box in image pixels: centre ``(x, y)`` 0-based (integer at pixel centres), sides in px."""
    return RectanglePixelRegion(PixCoord(x, y), width, height, **_style(label, colour))


def ds9_text(shapes, comments=()):
    """The text of a ds9 region file holding ``shapes``, ``comments`` as ``#`` lines below the
    header."""
    lines = Regions(list(shapes)).serialize(format="ds9").splitlines() or [HEADER]
    lines[1:1] = [f"# {comment}" for comment in comments]
    return "\n".join(lines) + "\n"
