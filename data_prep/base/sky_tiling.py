"""Cutting a region of the sky into overlapping square tiles, for survey scans.

A scan's REGION is one of

``box:RA1,RA2,DEC1,DEC2``
    An RA / Dec box in degrees. RA runs east from RA1 to RA2; RA1 > RA2 wraps through 0
    (``box:350,10,-5,5``); ``box:0,360,...`` is a whole band of declination.
``cone:RA,DEC,RADIUS``
    Everything within RADIUS degrees of (RA, DEC).
``list:FILE``
    One tile centred on each position of FILE: one ``RA,Dec`` (or ``RA Dec``) in degrees a
    line; blank lines and ``#`` comments are ignored.

The grid (box and cone regions) is a ring grid ("igloo"): the sphere is cut into rings of
constant declination of equal height (at most 0.99 ``core``) and each ring into equal cells in
RA, the fewest whose corners all lie within ``core / 2`` of the cell's centre in the gnomonic
(TAN) projection of a tile image centred there. A tile owns its cell (each point of the sphere
is owned by exactly one tile) and sees a square image of side ``core + overlap`` centred on the
cell, so anything of size ``overlap`` whose centre lies in a cell lies whole in that cell's
tile. Cells of one ring have equal areas and rings differ little: over the whole sky the grid
has 1.3 % more tiles than the area divided by ``core^2`` (for 8.6 arcmin cores), without
HEALPix's diamond-shaped pixels, which a square image covers only with a much larger overlap.
Tile ids (``rRRRRRcCCCCC``: ring and cell) depend only on ``core``, so two scans with one
tiling share their tiles. List tiles own their whole square; their ids
(``pRRR.RRRRR+DD.DDDDD``) are their centres.
"""
import math
import re
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord

from data_prep.base.errors import InputError

SYNTAX = "box:RA1,RA2,DEC1,DEC2, cone:RA,DEC,RADIUS or list:FILE (degrees)"
RING_HEIGHT_FRACTION = 0.99
"""Rings are at most this fraction of the core high: the slack lets the projected corners of a
cell fit with few extra cells (1.3 % more tiles than sky area / core^2 over the whole sky)."""
_NUMBER = r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*"


@dataclass(frozen=True)
class Tile:
    """One square tile of a scan.

    Attributes
    ----------
    id : str
        Name safe as a file name; results are stored under it.
    ra, dec : float
        Centre of the tile's image (deg, ICRS).
    side_deg : float
        Side of the tile's square image (deg).
    cell : tuple of float or None
        ``(ra_min, ra_width, dec_min, dec_max)`` (deg) of the part of the sky the tile owns
        (ring grid); None: it owns its whole square (list tiles, images given by the user).
    """

    id: str
    ra: float
    dec: float
    side_deg: float
    cell: tuple = None

    def owns(self, ra, dec):
        """True where (ra, dec) (deg, arrays) lies in the part of the sky this tile owns."""
        ra, dec = np.asarray(ra, float), np.asarray(dec, float)
        if self.cell is not None:
            ra_min, width, dec_min, dec_max = self.cell
            top = (dec < dec_max) | ((dec_max >= 90.0) & (dec <= dec_max))
            return ((ra - ra_min) % 360.0 < width) & (dec >= dec_min) & top
        offsets = SkyCoord(ra * u.deg, dec * u.deg).transform_to(
            SkyCoord(self.ra * u.deg, self.dec * u.deg).skyoffset_frame())
        half = self.side_deg / 2.0
        return (np.abs(offsets.lon.wrap_at(180 * u.deg).deg) <= half) & \
            (np.abs(offsets.lat.deg) <= half)


def covered(tiles, ra, dec):
    """True where (ra, dec) (deg) is owned by one of ``tiles``."""
    inside = np.zeros(np.shape(ra), bool)
    for tile in tiles:
        inside |= tile.owns(ra, dec)
    return inside


@dataclass(frozen=True)
class ScanRegion:
    """A parsed REGION (see the module doc); build it with :func:`parse_region`.

    Attributes
    ----------
    text : str
        The REGION as given.
    kind : {"box", "cone", "list"}
    numbers : tuple of float
        box: ``(ra1, ra_width, dec1, dec2)``; cone: ``(ra, dec, radius)``; list: the centres
        flattened ``(ra0, dec0, ra1, dec1, ...)``; all in degrees.
    """

    text: str
    kind: str
    numbers: tuple

    @property
    def centres(self):
        """List regions: the ``(ra, dec)`` pairs (deg)."""
        return list(zip(self.numbers[0::2], self.numbers[1::2]))

    def area_deg2(self):
        """Solid angle of a box or cone (deg^2); a list region has none of its own (NaN)."""
        if self.kind == "box":
            ra1, width, dec1, dec2 = self.numbers
            return math.radians(width) * (math.sin(math.radians(dec2))
                                          - math.sin(math.radians(dec1))) * (180 / math.pi) ** 2
        if self.kind == "cone":
            return 2 * math.pi * (1 - math.cos(math.radians(self.numbers[2]))) \
                * (180 / math.pi) ** 2
        return float("nan")

    def contains(self, ra, dec, tiles=()):
        """True where (ra, dec) (deg) lies inside the region; a list region is the part of the
        sky its ``tiles`` own."""
        ra, dec = np.asarray(ra, float), np.asarray(dec, float)
        if self.kind == "box":
            ra1, width, dec1, dec2 = self.numbers
            return ((ra - ra1) % 360.0 <= width) & (dec >= dec1) & (dec <= dec2)
        if self.kind == "cone":
            ra0, dec0, radius = self.numbers
            return SkyCoord(ra * u.deg, dec * u.deg).separation(
                SkyCoord(ra0 * u.deg, dec0 * u.deg)).deg <= radius
        return covered(tiles, ra, dec)

    def tiles(self, side_deg, overlap_deg):
        """The tiles that cover the region (see the module doc), in ring, then cell order.

        Parameters
        ----------
        side_deg : float
            Side of each tile's image (deg): the model's input at its pixel scale.
        overlap_deg : float
            Width shared by neighbouring tiles (deg), less than ``side_deg``.
        """
        if not 0.0 <= overlap_deg < side_deg:
            raise InputError(f"tile overlap {overlap_deg * 60:.2f} arcmin is not smaller than "
                             f"the tile ({side_deg * 60:.2f} arcmin): give a smaller overlap")
        if self.kind == "list":
            return [Tile(f"p{ra:09.5f}{dec:+09.5f}", ra, dec, side_deg)
                    for ra, dec in self.centres]
        grid = RingGrid(side_deg - overlap_deg)
        if self.kind == "box":
            ra1, width, dec1, dec2 = self.numbers
            cells = grid.box_cells(ra1, width, dec1, dec2)
        else:
            cells = grid.cone_cells(*self.numbers)
        return [grid.tile(ring, cell, side_deg) for ring, cell in cells]


class RingGrid:
    """Rings of constant declination cut into equal RA cells no larger than ``core_deg``.

    Parameters
    ----------
    core_deg : float
        Largest side of a cell on the sky (deg).
    """

    def __init__(self, core_deg):
        self.core_deg = float(core_deg)
        self.n_rings = math.ceil(180.0 / (RING_HEIGHT_FRACTION * self.core_deg))
        self.height = 180.0 / self.n_rings

    def ring(self, index):
        """``(dec_min, dec_max, n_cells)`` of ring ``index`` (0 at the south pole): the fewest
        cells whose corners and edge midpoints all lie within ``core_deg / 2`` of the cell's
        centre in the tile's gnomonic (TAN) projection."""
        low = -90.0 + index * self.height
        high = low + self.height
        nearest_equator = 0.0 if low <= 0.0 <= high else min(abs(low), abs(high))
        n_cells = max(1, math.ceil(360.0 * math.cos(math.radians(nearest_equator))
                                   / self.core_deg))
        while _projected_half_side(low, high, 360.0 / n_cells) > self.core_deg / 2.0:
            n_cells += 1
        return low, high, n_cells

    def tile(self, index, cell, side_deg):
        """The :class:`Tile` of ``cell`` in ring ``index``."""
        low, high, n_cells = self.ring(index)
        width = 360.0 / n_cells
        return Tile(f"r{index:05d}c{cell:05d}", (cell + 0.5) * width, (low + high) / 2.0,
                    side_deg, (cell * width, width, low, high))

    def _rings(self, dec1, dec2):
        first = int(math.floor((dec1 + 90.0) / self.height))
        last = int(math.ceil((dec2 + 90.0) / self.height)) - 1
        return range(max(0, first), min(self.n_rings - 1, max(first, last)) + 1)

    def _cells_in_ra(self, n_cells, ra1, width):
        """Cells of a ring of ``n_cells`` that meet RA ``[ra1, ra1 + width)``."""
        if width >= 360.0:
            return list(range(n_cells))
        step = 360.0 / n_cells
        first = math.floor(ra1 / step)
        last = max(first, math.ceil((ra1 + width) / step) - 1)
        return sorted({k % n_cells for k in range(first, last + 1)})

    def box_cells(self, ra1, width, dec1, dec2):
        """``(ring, cell)`` pairs of the cells that meet an RA / Dec box."""
        return [(index, cell) for index in self._rings(dec1, dec2)
                for cell in self._cells_in_ra(self.ring(index)[2], ra1, width)]

    def cone_cells(self, ra0, dec0, radius):
        """``(ring, cell)`` pairs of the cells that meet a cone (cells whose centre lies within
        the radius plus the cell's half-diagonal)."""
        centre = SkyCoord(ra0 * u.deg, dec0 * u.deg)
        pairs = []
        for index in self._rings(max(-90.0, dec0 - radius), min(90.0, dec0 + radius)):
            low, high, n_cells = self.ring(index)
            if dec0 + radius >= 90.0 or dec0 - radius <= -90.0:
                cells = list(range(n_cells))
            else:
                half = math.degrees(math.asin(min(1.0, math.sin(math.radians(radius))
                                                  / math.cos(math.radians(dec0)))))
                cells = self._cells_in_ra(n_cells, ra0 - half, 2.0 * half)
            width = 360.0 / n_cells
            ra = (np.asarray(cells) + 0.5) * width
            reach = radius + 0.5 * math.hypot(width, self.height)  # RA width: its largest
            near = centre.separation(SkyCoord(ra * u.deg, np.full(len(ra), (low + high) / 2)
                                              * u.deg)).deg <= reach
            pairs += [(index, cell) for cell, keep in zip(cells, near) if keep]
        return pairs


def _projected_half_side(low, high, width):
    """Largest |x| or |y| (deg) of the corners and edge midpoints of a cell spanning Dec
    ``[low, high]`` and ``width`` degrees of RA, in the TAN projection about its centre."""
    dec0 = math.radians((low + high) / 2.0)
    dec = np.radians([low, low, high, high, (low + high) / 2.0, low, high])
    dra = np.radians(np.array([-0.5, 0.5, -0.5, 0.5, 0.5, 0.0, 0.0]) * width)
    cos_c = np.sin(dec0) * np.sin(dec) + np.cos(dec0) * np.cos(dec) * np.cos(dra)
    x = np.cos(dec) * np.sin(dra) / cos_c
    y = (np.cos(dec0) * np.sin(dec) - np.sin(dec0) * np.cos(dec) * np.cos(dra)) / cos_c
    return float(np.degrees(np.max(np.maximum(np.abs(x), np.abs(y)))))


def parse_region(text):
    """A REGION string (see the module doc) as a :class:`ScanRegion`.

    Raises
    ------
    InputError
        One line saying what is wrong with the REGION and how it is written.
    """
    kind, _, body = str(text).partition(":")
    kind = kind.strip().lower()
    if kind == "list":
        return ScanRegion(text, "list", tuple(v for pair in _read_centres(body.strip())
                                              for v in pair))
    numbers = _numbers(text, body, {"box": 4, "cone": 3}.get(kind))
    if kind == "box":
        ra1, ra2, dec1, dec2 = numbers
        _check_ra(text, ra1, ra2)
        _check_dec(text, dec1, dec2)
        if dec1 >= dec2:
            raise InputError(f"REGION '{text}': DEC1 {dec1:g} is not below DEC2 {dec2:g}; "
                             "write box:RA1,RA2,DEC1,DEC2 with DEC1 < DEC2")
        width = 360.0 if (ra1, ra2) == (0.0, 360.0) else (ra2 - ra1) % 360.0
        if width == 0.0:
            raise InputError(f"REGION '{text}': RA1 = RA2 leaves an empty box; give RA1 != RA2 "
                             "(box:0,360,... for all RA)")
        return ScanRegion(text, "box", (ra1 % 360.0, width, dec1, dec2))
    ra, dec, radius = numbers
    _check_ra(text, ra)
    _check_dec(text, dec)
    if not 0.0 < radius <= 180.0:
        raise InputError(f"REGION '{text}': radius {radius:g} deg is not in (0, 180]; give "
                         "cone:RA,DEC,RADIUS with a positive radius in degrees")
    return ScanRegion(text, "cone", (ra, dec, radius))


def _numbers(text, body, count):
    if count is None:
        raise InputError(f"REGION '{text}': unknown kind; write {SYNTAX}")
    parts = body.split(",")
    if len(parts) != count or not all(re.fullmatch(_NUMBER, part) for part in parts):
        form = "box:RA1,RA2,DEC1,DEC2" if count == 4 else "cone:RA,DEC,RADIUS"
        raise InputError(f"REGION '{text}': expected {count} numbers, {form} in degrees "
                         f"(e.g. {'box:150,151,2,3' if count == 4 else 'cone:150.5,2.5,0.3'})")
    return [float(part) for part in parts]


def _check_ra(text, *values):
    for value in values:
        if not 0.0 <= value <= 360.0:
            raise InputError(f"REGION '{text}': RA {value:g} is outside 0..360 deg")


def _check_dec(text, *values):
    for value in values:
        if not -90.0 <= value <= 90.0:
            raise InputError(f"REGION '{text}': Dec {value:g} is outside -90..90 deg")


def _read_centres(path_text):
    """``(ra, dec)`` pairs of a list file (see the module doc)."""
    path = Path(path_text)
    if not path_text or not path.is_file():
        raise InputError(f"REGION 'list:{path_text}': no such file; give a text file with one "
                         "'RA,Dec' in degrees a line")
    centres = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if not content:
            continue
        parts = re.split(r"\s*,\s*|\s+", content)
        if len(parts) != 2 or not all(re.fullmatch(_NUMBER, p) for p in parts):
            raise InputError(f"{path}:{number}: '{content}' is not 'RA,Dec' in degrees")
        ra, dec = float(parts[0]), float(parts[1])
        if not (0.0 <= ra < 360.0 and -90.0 <= dec <= 90.0):
            raise InputError(f"{path}:{number}: RA {ra:g}, Dec {dec:g} is not on the sky "
                             "(RA 0..360, Dec -90..90 deg)")
        centres.append((ra, dec))
    if not centres:
        raise InputError(f"{path}: no positions; write one 'RA,Dec' in degrees a line")
    return centres
