"""Table I fields: IRAS names -> ICRS, spellings, unknown names, path-safe names."""
import astropy.units as u
import pytest
from astropy.coordinates import FK4, SkyCoord

from data_prep.base.errors import InputError
from stellarvae.fields import TABLE_I, resolve_field, safe_name, table_i_fields


def test_iras06055_is_its_b1950_position_converted_to_icrs():
    field = resolve_field("IRAS06055")
    b1950 = SkyCoord("06h05m30s", "+20d39m00s", frame=FK4(equinox="B1950"))
    expected = b1950.transform_to("icrs")
    got = SkyCoord(field.ra_deg * u.deg, field.dec_deg * u.deg, frame="icrs")
    assert got.separation(expected).arcsec < 1.0
    # precession moves it by far more than 1": the conversion really happened
    assert got.separation(SkyCoord(b1950.ra, b1950.dec, frame="icrs")).arcsec > 600


@pytest.mark.parametrize("text", ["IRAS06055", "IRAS 06055+2039", "iras_06055+2039",
                                  "06055+2039", "06055", " iras 06055 "])
def test_spellings_resolve_to_the_same_field(text):
    field = resolve_field(text)
    assert field.name == "IRAS06055" and field.label == "IRAS 06055+2039"
    assert (field.ref_radius_arcsec, field.ref_members) == (89.0, 119)
    assert field.paper_radius_arcsec == 77.13 and field.paper_iou_percent == 85.95


def test_all_eight_fields_carry_reference_and_paper_values():
    fields = table_i_fields()
    assert table_i_fields() is fields and isinstance(fields, tuple)    # made once, read-only
    assert [f.label[5:] for f in fields] == list(TABLE_I)
    assert all(f.has_reference and f.ref_members > 0 for f in fields)
    assert resolve_field("IRAS 06061+2151").ref_radius_arcsec == 145.0


def test_unknown_field_lists_the_known_ones():
    with pytest.raises(InputError) as error:
        resolve_field("IRAS99999")
    message = str(error.value)
    assert "\n" not in message and "IRAS99999" in message
    assert all(f.name in message for f in table_i_fields())


def test_ra_dec_targets():
    field = resolve_field("91.5, +20.25")
    assert (field.ra_deg, field.dec_deg) == (91.5, 20.25) and not field.has_reference
    assert "/" not in field.name
    with pytest.raises(InputError):
        resolve_field("400,10")


@pytest.mark.parametrize("text", ["../../etc", "/etc/passwd", "a/../../b", ".hidden", "a...b"])
def test_names_cannot_become_paths(tmp_path, text):
    name = safe_name(text)
    assert "/" not in name and ".." not in name and not name.startswith(".")
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()


def test_names_with_nothing_left_are_refused_and_bad_fields_never_reach_a_path():
    for text in ("..", "...", "  "):
        with pytest.raises(InputError):
            safe_name(text)
    with pytest.raises(InputError):
        resolve_field("../../etc")
