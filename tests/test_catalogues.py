"""Catalogue selections: Deep-CEE §2.2 cuts with their row report, the unseen redMaPPer region
(§3.2), and the StellarVAE §II-C star filters, on small tables built here."""
import numpy as np
import pytest
from astropy.table import MaskedColumn, Table

from data_prep.surveys import catalogues
from data_prep.base.errors import InputError


def _wen(rows):
    """A raw Wen table (VizieR column names) from (WHL, ra, dec, zph, N200, Other) rows."""
    whl, ra, dec, zph, n200, other = map(list, zip(*rows))
    n = len(rows)
    return Table({"WHL": whl, "RAJ2000": np.array(ra, float), "DEJ2000": np.array(dec, float),
                  "zph": np.array(zph, float),
                  "zsp": MaskedColumn(np.full(n, 0.5), mask=np.ones(n, bool)),
                  "rmag": np.full(n, 16.0), "r200": np.full(n, 1.0),
                  "RL*": np.linspace(20, 80, n), "N200": np.array(n200, int), "Other": other})


# Each row fails exactly the cut named in its id (or passes all).
ROWS = [
    ("J0001", 10.0, 5.0, 0.15, 30, "A1001"),                  # passes
    ("J0002", 20.0, 6.0, 0.12, 20, "Abell 1002"),             # passes (N200 = 20 kept)
    ("J0003", 30.0, 7.0, 0.19, 25, "MaxBCG J030.0+07.0"),     # no Abell
    ("J0004", 40.0, 8.0, 0.15, 25, ""),                       # no Abell
    ("J0005", 50.0, 9.0, 0.10, 25, "A1005"),                  # z = 0.1 (strict cut)
    ("J0006", 60.0, 9.5, 0.25, 25, "A1006"),                  # z too high
    ("J0007", 70.0, 10.0, 0.15, 19, "A1007"),                 # N200 < 20
    ("J0008", 80.0, -1.0, 0.15, 40, "A1008"),                 # Dec < 0
    ("J0009", 90.0, 11.0, 0.16, 40, "ZwCl 1234, A1009"),      # passes (Abell among others)
]


def test_paper_sample_reports_rows_left_after_each_cut():
    sample, report = catalogues.paper_sample(_wen(ROWS))
    assert report == [("all rows", 9), ("Abell counterpart in Other", 7),
                      ("0.1 < zph < 0.2", 5), ("N200 >= 20", 4), ("Dec > 0 deg", 3)]
    assert list(sample["name"]) == ["WHL J0001", "WHL J0002", "WHL J0009"]
    assert list(sample["abell"]) == ["A1001", "A1002", "A1009"]
    assert sample.colnames[:7] == ["name", "ra", "dec", "z", "bcg_rmag", "richness", "n200"]
    assert sample["ra"].unit == "deg" and sample["bcg_rmag"].unit == "mag"
    np.testing.assert_allclose(sample["z"], [0.15, 0.12, 0.16])  # zph, not the masked zsp


def test_paper_sample_masked_values_fail_their_cut_and_id_spelling_is_accepted():
    raw = _wen(ROWS)
    raw["zph"] = MaskedColumn(raw["zph"], mask=[True] + [False] * 8)
    raw.rename_column("RL*", "RL_")  # the ID VizieR gives the field when names are not used
    sample, report = catalogues.paper_sample(raw)
    assert report[2] == ("0.1 < zph < 0.2", 4)
    assert "WHL J0001" not in list(sample["name"])
    assert "RL*" not in raw.colnames  # the caller's table keeps its own names


def test_paper_sample_missing_column_is_one_line_input_error():
    raw = _wen(ROWS)
    raw.remove_column("N200")
    with pytest.raises(InputError, match="no column 'N200'"):
        catalogues.paper_sample(raw)


@pytest.mark.parametrize("text, name", [
    ("A1234", "A1234"), ("Abell 2142", "A2142"), ("ACO S1063", "AS1063"), ("A 85; ZwCl", "A85"),
    ("ZwCl 1234, A1009", "A1009"), ("MaxBCG J123.4+56.7", ""), ("AWM7", ""), ("RXC J1234", ""),
    ("", ""), ("A01234", "A1234")])
def test_abell_name(text, name):
    assert catalogues.abell_name(text) == name


def _redmapper(ra, dec, z):
    n = len(ra)
    return Table({"Name": [f"RMJ{i:04d}" for i in range(n)], "RAJ2000": np.array(ra, float),
                  "DEJ2000": np.array(dec, float), "zlambda": np.array(z, float),
                  "lambda": np.full(n, 30.0)})


def test_redmapper_unseen_picks_the_busiest_region_free_of_sample_clusters():
    rng = np.random.default_rng(3)
    # a dense redMaPPer group with a training cluster in it, and a smaller group without one
    busy = (rng.uniform(150, 152, 40), rng.uniform(30, 32, 40))
    free = (rng.uniform(200, 202, 25), rng.uniform(40, 42, 25))
    ra = np.concatenate([busy[0], free[0], [201.0, 201.5]])
    dec = np.concatenate([busy[1], free[1], [41.0, 41.5]])
    z = np.concatenate([np.full(65, 0.15), [0.25, 0.05]])  # the last two fail the z cut
    sample = Table({"ra": [151.0, 10.0], "dec": [31.0, 10.0]})
    clusters, region = catalogues.redmapper_unseen(_redmapper(ra, dec, z), sample)

    assert len(clusters) == 25 and region["n_inside"] == 25
    assert not catalogues.in_region(sample["ra"], sample["dec"], region).any()
    width = region["ra_max"] - region["ra_min"]
    area = width * (np.sin(np.radians(region["dec_max"])) - np.sin(np.radians(region["dec_min"]))) \
        * 180 / np.pi
    assert area == pytest.approx(105.0, rel=1e-9)
    assert np.isnan(clusters["bcg_rmag"]).all() and np.isnan(clusters["n200"]).all()
    assert clusters.meta["cut_report"] == [("all rows", 67), ("0.1 < zlambda < 0.2", 65),
                                           ("inside the 105.0 deg^2 unseen region", 25)]
    again, region_again = catalogues.redmapper_unseen(_redmapper(ra, dec, z), sample)
    assert region_again == region and list(again["name"]) == list(clusters["name"])


def test_unseen_region_impossible_is_input_error():
    grid_ra, grid_dec = np.meshgrid(np.arange(0, 360, 3.0), np.arange(-88, 89, 3.0))
    with pytest.raises(InputError, match="avoids every training/test cluster"):
        catalogues.choose_unseen_region([1.0], [1.0], grid_ra.ravel(), grid_dec.ravel(), 105.0)


def test_unseen_region_wraps_at_ra_zero():
    region = catalogues.choose_unseen_region([359.5, 0.5, 1.0], [20.0, 20.5, 21.0],
                                             [180.0], [0.0], area_deg2=105.0)
    assert region["n_inside"] == 3
    assert catalogues.in_region([359.5, 0.5, 1.0], [20.0, 20.5, 21.0], region).all()


def test_twomass_stars_keep_k_read_flag_1_to_6():
    raw = Table({"RAJ2000": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                 "DEJ2000": [0.0] * 6,
                 "Kmag": MaskedColumn([10.0, 11.0, 12.0, 13.0, 14.0, 15.0],
                                      mask=[False, False, False, False, False, True]),
                 "Rflg": ["222", "226", "220", "119", "002", "221"],
                 "Qflg": ["AAA"] * 6})
    stars = catalogues.twomass_stars(raw)
    assert list(stars["ra"]) == [1.0, 2.0, 5.0, 6.0]
    assert stars.colnames == ["ra", "dec", "kmag"]
    assert np.isnan(stars["kmag"][-1]) and stars["kmag"].unit == "mag"


def test_ukidss_stars_keep_merged_class_minus_1_and_minus_2_with_real_wsa_names():
    raw = Table({"RA": [1.0, 2.0, 3.0, 4.0, 5.0], "Dec": [0.0] * 5,
                 "mergedClass": np.array([-1, -2, 1, -3, 0], np.int16),
                 "K_1AperMag3": np.array([12.0, -9.9999949e8, 13.0, 14.0, 15.0], np.float32)})
    stars = catalogues.ukidss_stars(raw)
    assert list(stars["ra"]) == [1.0, 2.0]
    assert stars["kmag"][0] == 12.0 and np.isnan(stars["kmag"][1])
