"""The eight IRAS fields of StellarVAE Table I, other targets given as 'RA,Dec', and safe names.

IRAS point-source names encode their B1950 position: ``06055+2039`` is RA 06h05.5m,
Dec +20d39'. :func:`iras_position` converts that FK4 (B1950) position to ICRS with astropy.
Each field carries the reference radius and member count of Tej et al. (2006) and the paper's
own results, both as printed in Table I of Karmakar, Mishra & Tej (2018). For IRAS 06055+2039
the paper's text gives different reference values (85", 98 members) from its Table I
(89", 119 members); the table's values are used, as FACTS.md says to take the first.

:func:`listing_lines` is what the ``stellarvae fields`` verb prints.
"""
import functools
import re
from dataclasses import dataclass

import astropy.units as u
from astropy.coordinates import FK4, SkyCoord

from data_prep.base.errors import InputError

# name: (reference radius arcsec, reference members, paper radius arcsec, paper members, IoU %)
TABLE_I = {
    "06055+2039": (89.0, 119, 77.13, 98, 85.95),
    "05274+3345": (103.0, 48, 89.86, 56, 79.68),
    "05345+3157": (126.0, 95, 101.63, 98, 83.27),
    "05358+3543": (130.0, 53, 116.74, 71, 74.32),
    "05490+2658": (122.0, 95, 98.46, 93, 82.24),
    "05553+1631": (104.0, 80, 123.59, 96, 71.43),
    "06056+2131": (132.0, 132, 104.79, 101, 78.23),
    "06061+2151": (145.0, 105, 116.05, 102, 69.98),
}


@dataclass(frozen=True)
class Field:
    """A target field: a name, an ICRS centre and, for Table I fields, reference values.

    Attributes
    ----------
    name : str
        Path-safe name (``IRAS06055`` or ``RA091.1234_DEC+20.5000``).
    label : str
        Human-readable name (``IRAS 06055+2039``).
    ra_deg, dec_deg : float
        ICRS centre in degrees.
    ref_radius_arcsec, ref_members : float or None
        Tej et al. (2006) radius (arcsec) and member count, as quoted in Table I.
    paper_radius_arcsec, paper_members, paper_iou_percent : float or None
        The StellarVAE paper's own results in Table I.
    """

    name: str
    label: str
    ra_deg: float
    dec_deg: float
    ref_radius_arcsec: float = None
    ref_members: int = None
    paper_radius_arcsec: float = None
    paper_members: int = None
    paper_iou_percent: float = None

    @property
    def has_reference(self):
        """True for the Table I fields."""
        return self.ref_radius_arcsec is not None


def iras_position(iras_name):
    """ICRS position of an IRAS source from its name (B1950 FK4 -> ICRS).

    Parameters
    ----------
    iras_name : str
        ``HHMMm+DDMM`` as in ``06055+2039`` (RA 06h05.5m, Dec +20d39', B1950).

    Returns
    -------
    astropy.coordinates.SkyCoord
        ICRS position.
    """
    match = re.fullmatch(r"(\d{2})(\d{2})(\d)([+-])(\d{2})(\d{2})", iras_name)
    if not match:
        raise InputError(f"'{iras_name}' is not an IRAS name like 06055+2039")
    hh, mm, tenth, sign, dd, dm = match.groups()
    ra = (int(hh) + (int(mm) + int(tenth) / 10.0) / 60.0) * 15.0
    dec = (1 if sign == "+" else -1) * (int(dd) + int(dm) / 60.0)
    b1950 = SkyCoord(ra * u.deg, dec * u.deg, frame=FK4(equinox="B1950"))
    return b1950.icrs


@functools.cache
def table_i_fields():
    """The eight fields of Table I, in the paper's order (a tuple, made once)."""
    fields = []
    for iras_name, (ref_r, ref_n, our_r, our_n, iou) in TABLE_I.items():
        centre = iras_position(iras_name)
        fields.append(Field(name=f"IRAS{iras_name[:5]}", label=f"IRAS {iras_name}",
                            ra_deg=float(centre.ra.deg), dec_deg=float(centre.dec.deg),
                            ref_radius_arcsec=ref_r, ref_members=ref_n,
                            paper_radius_arcsec=our_r, paper_members=our_n,
                            paper_iou_percent=iou))
    return tuple(fields)


def _spelling_key(text):
    """Upper-case with spaces, underscores and 'IRAS' removed: '06055+2039' style or '06055'."""
    key = re.sub(r"[\s_]", "", text.upper())
    return key[4:] if key.startswith("IRAS") else key


def safe_name(text):
    """A name safe as one path component: letters, digits, '+', '-', '.', '_' only.

    Anything else (slashes, spaces, '..') becomes '_'; leading dots are removed, so the
    result can never climb out of its parent directory.
    """
    cleaned = re.sub(r"[^A-Za-z0-9+\-._]", "_", text.strip()).lstrip(".")
    cleaned = cleaned.replace("..", "_")
    if not cleaned:
        raise InputError(f"'{text}' gives an empty name: use letters and digits")
    return cleaned[:80]


def parse_ra_dec(text):
    """Parse 'RA,Dec' in degrees (e.g. '91.9,20.6') into a :class:`Field`; None if not that form."""
    match = re.fullmatch(r"\s*([+-]?\d+(?:\.\d*)?)\s*,\s*([+-]?\d+(?:\.\d*)?)\s*", text)
    if not match:
        return None
    ra, dec = float(match.group(1)), float(match.group(2))
    if not (0.0 <= ra < 360.0 and -90.0 <= dec <= 90.0):
        raise InputError(f"field '{text}': RA must be in [0, 360) and Dec in [-90, 90] degrees")
    return Field(name=safe_name(f"RA{ra:08.4f}_DEC{dec:+08.4f}"), label=f"RA,Dec {ra:.4f},{dec:+.4f}",
                 ra_deg=ra, dec_deg=dec)


def resolve_field(text):
    """The field a user means: a Table I name in any spelling, or 'RA,Dec' in degrees.

    Accepted spellings of a Table I field include ``IRAS06055``, ``IRAS 06055+2039``,
    ``iras_06055+2039``, ``06055+2039`` and ``06055``.

    Raises
    ------
    InputError
        For anything else, listing the known fields.
    """
    key = _spelling_key(text)
    for field in table_i_fields():
        full = field.label[5:]
        if key in (full, full[:5]):
            return field
    field = parse_ra_dec(text)
    if field is not None:
        return field
    known = ", ".join(field.name for field in table_i_fields())
    raise InputError(f"unknown field '{text}': use one of {known}, or 'RA,Dec' in degrees")


def listing_lines():
    """The Table I fields as text: name, ICRS centre and reference values, one line each."""
    header = ("field", "IRAS name", "RA (deg)", "Dec (deg)", 'ref r(")', "ref N", "paper r",
              "paper N", "IoU %")
    lines = ["{:10s} {:17s} {:>10s} {:>10s} {:>8s} {:>6s} {:>8s} {:>8s} {:>6s}".format(*header)]
    lines += [f"{f.name:10s} {f.label:17s} {f.ra_deg:10.5f} {f.dec_deg:+10.5f} "
              f"{f.ref_radius_arcsec:8.1f} {f.ref_members:6d} {f.paper_radius_arcsec:8.2f} "
              f"{f.paper_members:8d} {f.paper_iou_percent:6.2f}" for f in table_i_fields()]
    lines.append("any other target: --field 'RA,Dec' in ICRS degrees")
    return lines
