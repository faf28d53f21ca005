"""Survey access through astroquery against answers in the services' real formats, served in-process.

``requests.Session.request`` (which astroquery's ``_request`` and the WFAU client's
``requests.get`` both end in) is replaced by :class:`FakeWeb`, which answers VizieR with
VOTables, SkyView with its form / result pages and FITS files, and the UKIDSS WSA with its
result pages, FITS cut-outs and VOTable files, all built here. Any other address fails the way
a machine without network does, so no test can reach the network.
"""
import dataclasses
import io
import time
import types
import urllib.parse
import warnings

import astropy.units as u
import numpy as np
import pytest
import requests
from astropy.io import fits
from astropy.io.votable import from_table, writeto
from astropy.io.votable.exceptions import VOWarning
from astropy.table import MaskedColumn, Table
from astropy.wcs import WCS

from data_prep.surveys import skyview, ukidss, vizier
from data_prep.deepcee_data.cluster_sources import cluster_source
from data_prep.base.errors import InputError
from data_prep.stellarvae_data.kband_fields import load_kband_field
from data_prep.base.errors import NoCoverageError
from data_prep.base.fits_reader import read_fits_image
from data_prep.surveys.service import RetryPolicy, is_offline
from helpers import tan_wcs

FAST = RetryPolicy(attempts=4, first_delay_s=0.001, factor=2.0, timeout_s=5)


class FakeWeb:
    """In-process stand-in for the internet: URL substring -> answers (used in order, the last
    repeated). An answer is ``(status, bytes)``, an exception to raise, or a function
    ``(method, url, params, data) -> (status, bytes)``."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        self.payloads = []

    def route(self, fragment, *answers):
        self.routes[fragment] = list(answers)

    def count(self, fragment):
        return sum(fragment in url for _, url in self.requests)

    def request(self, session, method, url, params=None, data=None, **kwargs):
        if params:
            url = url + ("&" if "?" in url else "?") + urllib.parse.urlencode(params, doseq=True)
        self.requests.append((method, url))
        self.payloads.append(data)
        for fragment, answers in self.routes.items():
            if fragment in url:
                answer = answers.pop(0) if len(answers) > 1 else answers[0]
                if isinstance(answer, Exception):
                    raise answer
                if callable(answer):
                    answer = answer(method, url, params, data)
                status, body = answer
                response = requests.Response()
                response.status_code, response._content, response.url = status, body, url
                response.request = requests.Request(method, url).prepare()
                response.encoding = "utf-8"
                return response
        raise requests.ConnectionError(
            f"HTTPSConnectionPool: Max retries exceeded with url: {url} (Caused by "
            "NameResolutionError: Failed to resolve host ([Errno -3] Temporary failure in name "
            "resolution))")


@pytest.fixture
def web(monkeypatch):
    fake = FakeWeb()
    monkeypatch.setattr(requests.Session, "request",
                        lambda session, method, url, **kwargs: fake.request(session, method, url,
                                                                            **kwargs))
    import astroquery.wfau.core as wfau_core  # its page polling waits 1 s between looks
    monkeypatch.setattr(wfau_core, "time", types.SimpleNamespace(sleep=lambda s: None))
    return fake


def votable_bytes(table, name):
    """A VOTable document like VizieR's: one RESOURCE, one TABLE named after the catalogue."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VOWarning)  # "RL*" gets the ID "RL_", as at VizieR
        document = from_table(table)
    document.resources[0].tables[0].name = name
    buffer = io.BytesIO()
    writeto(document, buffer)
    return buffer.getvalue()


def fits_bytes(ra, dec, size_px, scale_arcsec, fill=None, extension=False, seed=0):
    """A SkyView / WSA-like FITS image: float32, TAN WCS (in an extension for WSA)."""
    wcs = tan_wcs(ra, dec, scale_arcsec, size=size_px)
    data = np.random.default_rng(seed).normal(1.0, 0.1, (size_px, size_px)).astype(np.float32)
    if fill is not None:
        data[:] = fill
    if extension:
        hdul = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data, header=wcs.to_header())])
    else:
        hdul = fits.HDUList([fits.PrimaryHDU(data, header=wcs.to_header())])
    buffer = io.BytesIO()
    hdul.writeto(buffer)
    return buffer.getvalue()


# ---- VizieR ----------------------------------------------------------------------------

def wen_table():
    """Raw Wen rows with VizieR names and units: 6 rows, 2 pass the paper's cuts."""
    table = Table({
        "WHL": ["J000001.0+050000", "J000002.0+060000", "J000003.0+070000",
                "J000004.0+080000", "J000005.0-010000", "J000006.0+090000"],
        "RAJ2000": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], "DEJ2000": [5.0, 6.0, 7.0, 8.0, -1.0, 9.0],
        "zph": [0.15, 0.12, 0.25, 0.15, 0.15, 0.15],
        "zsp": MaskedColumn([0.149, 0.0, 0.0, 0.0, 0.0, 0.0], mask=[0, 1, 1, 1, 1, 1]),
        "rmag": [15.0, 16.0, 16.5, 17.0, 15.5, 16.2], "r200": [1.2, 1.0, 0.9, 1.1, 1.3, 1.0],
        "RL*": [50.0, 30.0, 40.0, 25.0, 60.0, 35.0],
        "N200": np.array([40, 20, 30, 15, 50, 25], np.int16),
        "Other": ["A1", "A2 MaxBCG", "A3", "A4", "A5", "WHL09"]})
    for name in ("RAJ2000", "DEJ2000"):
        table[name].unit = u.deg
    table["rmag"].unit, table["r200"].unit = u.mag, u.Mpc
    return table


def test_vizier_table_is_fetched_once_then_read_from_the_cache(web, tmp_path):
    web.route("vizier.cds.unistra.fr/viz-bin/votable",
              (200, votable_bytes(wen_table(), vizier.WEN_TABLE)))
    first = vizier.wen_clusters(tmp_path, FAST)
    assert web.count("vizier") == 1
    assert "RL*" in first.colnames and len(first) == 6
    assert first["zsp"].mask[1]
    cached = list((tmp_path / "vizier").glob("J_ApJS_199_34_table1-*.vot"))
    assert len(cached) == 1
    again = vizier.wen_clusters(tmp_path, FAST)
    assert web.count("vizier") == 1  # no second request
    assert list(again["WHL"]) == list(first["WHL"])


def test_sdss_source_paper_sample_through_vizier(web, tmp_path):
    web.route("viz-bin/votable", (200, votable_bytes(wen_table(), vizier.WEN_TABLE)))
    sample, report = cluster_source("sdss", tmp_path, retry=FAST).paper_sample()
    assert report == [("all rows", 6), ("Abell counterpart in Other", 5),
                      ("0.1 < zph < 0.2", 4), ("N200 >= 20", 3), ("Dec > 0 deg", 2)]
    assert list(sample["name"]) == ["WHL J000001.0+050000", "WHL J000002.0+060000"]


def test_http_500_is_retried_with_back_off_then_succeeds(web, tmp_path):
    web.route("viz-bin/votable", (500, b"Internal Server Error"), (503, b"busy"),
              (200, votable_bytes(wen_table(), vizier.WEN_TABLE)))
    waits = []
    table = vizier.wen_clusters(tmp_path, dataclasses.replace(FAST, sleep=waits.append))
    assert len(table) == 6 and web.count("votable") == 3
    assert waits == [0.001, 0.002]


def test_timeouts_end_in_one_line_error_naming_the_service(web, tmp_path):
    web.route("viz-bin/votable", requests.ReadTimeout("Read timed out. (read timeout=5)"))
    waits = []
    with pytest.raises(InputError) as error:
        vizier.redmapper_clusters(tmp_path, dataclasses.replace(FAST, sleep=waits.append))
    message = str(error.value)
    assert message.startswith("VizieR (J/ApJ/785/104/table1) unreachable after 4 tries")
    assert "SOURCE=sim" in message and "\n" not in message
    assert waits == [0.001, 0.002, 0.004] and web.count("votable") == 4
    assert error.value.exit_status == 2
    assert not list((tmp_path / "vizier").glob("*.vot"))  # nothing half-written is kept


def test_offline_fails_at_once_without_retrying(web, tmp_path):
    waits = []
    start = time.monotonic()
    with pytest.raises(InputError, match=r"^VizieR \(J/ApJS/199/34/table1\) unreachable, no "
                                         r"network: .*; check the network, or use --source sim "
                                         r"\(SOURCE=sim with make\)$"):
        cluster_source("sdss", tmp_path, retry=RetryPolicy(sleep=waits.append)).paper_sample()
    assert time.monotonic() - start < 5 and waits == [] and web.count("votable") == 1


def test_offline_detection_reads_the_exception_chain():
    import socket
    try:
        try:
            raise socket.gaierror(-2, "Name or service not known")
        except socket.gaierror as cause:
            raise requests.ConnectionError("Max retries exceeded") from cause
    except requests.ConnectionError as error:
        assert is_offline(error)
    assert not is_offline(requests.ReadTimeout("Read timed out."))
    assert is_offline(requests.ConnectionError(ConnectionRefusedError(111, "Connection refused")))


def test_http_404_is_a_refusal_not_retried(web, tmp_path):
    web.route("viz-bin/votable", (404, b"Not Found"))
    with pytest.raises(InputError, match="VizieR .* refused the query: HTTPError"):
        vizier.wen_clusters(tmp_path, FAST)
    assert web.count("votable") == 1


def test_corrupt_cached_votable_is_fetched_again(web, tmp_path):
    web.route("viz-bin/votable", (200, votable_bytes(wen_table(), vizier.WEN_TABLE)))
    vizier.wen_clusters(tmp_path, FAST)
    (cached,) = (tmp_path / "vizier").glob("*.vot")
    cached.write_bytes(cached.read_bytes()[:300])
    assert len(vizier.wen_clusters(tmp_path, FAST)) == 6
    assert web.count("votable") == 2


# ---- SkyView ---------------------------------------------------------------------------

SKYVIEW_FORM = b"""<html><body>
<form method="get" action="../cgi/runquery.pl" name="form1">
<input type="text" name="Position" value="">
<select name="survey" id="Optical:SDSS" multiple><option>SDSSg</option><option>SDSSr</option>
<option>SDSSi</option><option>SDSSz</option></select>
<select name="survey" id="IR:2MASS" multiple><option>2MASS-J</option><option>2MASS-K</option>
</select>
<input type="text" name="pixels" value="300">
<input type="submit" value="Submit">
</form></body></html>"""


class FakeSkyView:
    """SkyView's pages: the form, a result page linking one FITS per survey, the FITS files."""

    def __init__(self, web, missing=(), fill=None):
        self.missing, self.fill = set(missing), fill
        web.route("basicform.pl", (200, SKYVIEW_FORM))
        web.route("runquery.pl", self.results)
        web.route("tempspace/fits/", self.image)

    def results(self, method, url, params, data):
        links = "".join(f'<a href="../../tempspace/fits/skv_{survey}.fits">FITS</a>'
                        for survey in params["survey"] if survey not in self.missing)
        return 200, f"<html><body><table>{links}</table></body></html>".encode()

    def image(self, method, url, params, data):
        survey = url.rsplit("skv_", 1)[1].split(".fits")[0]
        scale = 0.396 if survey.startswith("SDSS") else 1.0
        size = 64 if survey.startswith("SDSS") else 120
        return 200, fits_bytes(150.0, 30.0, size, scale, fill=self.fill)


def fresh_skyview():
    from astroquery.skyview import SkyViewClass
    return SkyViewClass()


def test_sdss_cutout_three_bands_cached_as_fits_with_wcs(web, tmp_path):
    FakeSkyView(web)
    client = fresh_skyview()
    cutout = skyview.sdss_cutout(150.0, 30.0, tmp_path, size_px=64, retry=FAST, skyview=client)
    assert sorted(cutout) == ["g", "i", "r"]
    for hdu in cutout.values():
        assert hdu.data.shape == (64, 64) and hdu.data.dtype == np.float32
        assert WCS(hdu.header).has_celestial
        np.testing.assert_allclose(abs(WCS(hdu.header).wcs.cdelt[0]) * 3600, 0.396)
    files = sorted(p.name for p in (tmp_path / "skyview").rglob("*.fits"))
    assert len(files) == 3 and all("64px_0.396as" in f for f in files)
    queries = web.count("runquery.pl")
    skyview.sdss_cutout(150.0, 30.0, tmp_path, size_px=64, retry=FAST, skyview=client)
    assert web.count("runquery.pl") == queries and web.count("tempspace") == 3


def test_skyview_is_asked_for_the_paper_geometry(web, tmp_path):
    FakeSkyView(web)
    skyview.sdss_cutout(150.0, 30.0, tmp_path, bands=("r",), retry=FAST, skyview=fresh_skyview())
    query = next(url for _, url in web.requests if "runquery.pl" in url)
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(query).query))
    assert params["pixels"] == "2000,2000" and params["projection"] == "Tan"
    side_deg = 2000 * 0.396 / 3600
    assert [float(v) for v in params["size"].split(",")] == pytest.approx([side_deg, side_deg])


def test_truncated_cached_fits_is_detected_and_downloaded_again(web, tmp_path):
    FakeSkyView(web)
    client = fresh_skyview()
    skyview.sdss_cutout(150.0, 30.0, tmp_path, size_px=64, bands=("g",), retry=FAST,
                        skyview=client)
    (path,) = (tmp_path / "skyview").rglob("*.fits")
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])
    cutout = skyview.sdss_cutout(150.0, 30.0, tmp_path, size_px=64, bands=("g",), retry=FAST,
                                 skyview=client)
    assert web.count("tempspace") == 2 and path.read_bytes() == whole
    assert cutout["g"].data.shape == (64, 64)


def test_truncated_download_is_a_clear_error_and_not_kept(web, tmp_path):
    FakeSkyView(web)
    web.route("tempspace/fits/", (200, fits_bytes(150.0, 30.0, 64, 0.396)[:5000]))
    with pytest.raises(InputError, match=r"^SkyView \(SDSSg .*\) sent a damaged file twice: .*"
                                         r"unreadable or truncated FITS"):
        skyview.sdss_cutout(150.0, 30.0, tmp_path, size_px=64, bands=("g",), retry=FAST,
                            skyview=fresh_skyview())
    assert web.count("tempspace") == 2
    assert not list((tmp_path / "skyview").rglob("*.fits"))


def test_truncated_download_is_fetched_again(web, tmp_path):
    FakeSkyView(web)
    good = fits_bytes(150.0, 30.0, 64, 0.396)
    web.route("tempspace/fits/", (200, good[:5000]), (200, good))
    cutout = skyview.sdss_cutout(150.0, 30.0, tmp_path, size_px=64, bands=("g",), retry=FAST,
                                 skyview=fresh_skyview())
    assert cutout["g"].data.shape == (64, 64) and web.count("tempspace") == 2


@pytest.mark.parametrize("fill", [np.nan, 0.0])
def test_image_outside_the_footprint_is_a_no_coverage_error(web, tmp_path, fill):
    FakeSkyView(web, fill=fill)
    client = fresh_skyview()
    for _ in range(2):  # the answer is kept: asking again reads the cache and says the same
        with pytest.raises(NoCoverageError, match="outside the survey footprint"):
            skyview.sdss_cutout(150.0, 30.0, tmp_path, size_px=64, bands=("r",), retry=FAST,
                                skyview=client)
    assert web.count("tempspace") == 1


def test_missing_band_is_a_clear_error(web, tmp_path):
    FakeSkyView(web, missing={"SDSSi"})
    with pytest.raises(InputError, match=r"SkyView \(SDSSi at RA .*\) .* no SDSSi image"):
        skyview.sdss_cutout(150.0, 30.0, tmp_path, size_px=64, retry=FAST,
                            skyview=fresh_skyview())
    with pytest.raises(InputError, match="SDSS band.* u not available"):
        skyview.sdss_cutout(150.0, 30.0, tmp_path, bands=("g", "u"), retry=FAST)


def test_skyview_500_then_success(web, tmp_path):
    FakeSkyView(web)
    good = fits_bytes(150.0, 30.0, 64, 0.396)
    web.route("tempspace/fits/", (500, b"error"), (200, good))
    cutout = skyview.sdss_cutout(150.0, 30.0, tmp_path, size_px=64, bands=("g",), retry=FAST,
                                 skyview=fresh_skyview())
    assert cutout["g"].data.shape == (64, 64) and web.count("tempspace") == 2


# ---- 2MASS (SkyView image + VizieR PSC) and UKIDSS ------------------------------------

def twomass_psc():
    table = Table({"RAJ2000": [150.0, 150.005, 150.01, 150.2], "DEJ2000": [30.0, 30.005, 29.99, 30.0],
                   "Kmag": [10.0, 11.0, 12.0, 13.0], "Rflg": ["222", "220", "116", "222"],
                   "Qflg": ["AAA", "AAU", "AAB", "AAA"]})
    table["RAJ2000"].unit = table["DEJ2000"].unit = u.deg
    table["Kmag"].unit = u.mag
    return table


def test_load_2mass_field_pixel_scale_from_wcs(web, tmp_path, monkeypatch):
    import astroquery.skyview
    monkeypatch.setattr(astroquery.skyview, "SkyView", fresh_skyview())
    FakeSkyView(web)
    web.route("viz-bin/votable", (200, votable_bytes(twomass_psc(), vizier.TWOMASS_PSC)))
    field = load_kband_field("2mass", 150.0, 30.0, 2.0, tmp_path, retry=FAST)
    assert field.image.shape == (120, 120) and field.pixel_scale_arcsec == pytest.approx(1.0)
    # K read flags 2 and 6 kept, 0 dropped; the star 0.2 deg away is off the image
    assert list(field.stars["kmag"]) == [10.0, 12.0]
    assert field.truth is None and field.image_path.parent == tmp_path / "skyview" / "2MASS-K"
    (payload,) = [p for (_, url), p in zip(web.requests, web.payloads) if "votable" in url]
    assert "-source=II/246/out" in payload and "-c.bm=2.0x2.0" in payload


WSA_IMAGE_PAGE = (b'<html><body>1 rows returned.<table><tr><td><a href="http://surveys.roe.ac.uk/'
                  b'wsa/cgi-bin/getImage.cgi?file=/disk05/wsa/w2007_st.fit&mfid=17&extNo=4&'
                  b'band=K&ra=83.6&dec=22.0">image</a></td></tr></table></body></html>')
WSA_SQL_PAGE = (b'<html><body>Connected to database<br>Using gpsSource ... query finished '
                b'<a href="http://surveys.roe.ac.uk/wsa/tmp/tmp_sql/results1_1.xml">VOTable</a>'
                b'<a href="http://surveys.roe.ac.uk:8080/ssa/launch.jsp?file=http://surveys.roe.'
                b'ac.uk/wsa/tmp/tmp_sql/results1_1.xml">launch</a></body></html>')


def gps_sources():
    """A WSA gpsSource VOTable's default columns (as the archive names them)."""
    return Table({"sourceID": np.array([1, 2, 3], np.int64), "RA": [83.6, 83.601, 83.602],
                  "Dec": [22.0, 22.001, 22.002], "mergedClass": np.array([-1, 1, -2], np.int16),
                  "K_1AperMag3": np.array([14.0, 15.0, -9.9999949e8], np.float32)})


def fake_wsa(web):
    web.route("wsa/GetImage", (200, WSA_IMAGE_PAGE))
    web.route("getFImage.cgi", (200, fits_bytes(83.6, 22.0, 150, 0.2, extension=True)))
    web.route("wsa/WSASQL", (200, WSA_SQL_PAGE))
    web.route("tmp_sql/results1_1.xml", (200, votable_bytes(gps_sources(), "Results")))


def test_load_ukidss_field(web, tmp_path):
    fake_wsa(web)
    field = load_kband_field("ukidss", 83.6, 22.0, 0.5, tmp_path, retry=FAST)
    assert field.image.shape == (150, 150)  # found in the extension HDU
    assert field.pixel_scale_arcsec == pytest.approx(0.2)
    assert list(field.stars["ra"]) == [83.6, 83.602] and np.isnan(field.stars["kmag"][1])
    requests_made = len(web.requests)
    load_kband_field("ukidss", 83.6, 22.0, 0.5, tmp_path, retry=FAST)
    assert len(web.requests) == requests_made  # all from the cache


def test_ukidss_service_error_page_is_a_one_line_error(web, tmp_path):
    fake_wsa(web)
    web.route("wsa/WSASQL", (200, b"<html>An Error occurred: bad SQL</html>"))
    with pytest.raises(InputError, match=r"^UKIDSS WSA \(gpsSource around .*\) refused the query"):
        ukidss.gps_sources(83.6, 22.0, 0.5, tmp_path, FAST)


def test_ukidss_no_image_is_a_clear_error(web, tmp_path):
    fake_wsa(web)
    web.route("wsa/GetImage", (200, b"<html><body>0 rows returned.</body></html>"))
    with pytest.raises(InputError, match="no GPS K image"):
        ukidss.k_image(83.6, 22.0, 0.5, tmp_path, FAST)


def test_read_fits_image_rejects_truncated_file(tmp_path):
    path = tmp_path / "cut.fits"
    path.write_bytes(fits_bytes(1.0, 2.0, 40, 1.0)[:4000])
    with pytest.raises(InputError, match="truncated"):
        read_fits_image(path)


def test_tfrecords_from_sdss_offline_exits_2_with_one_line(web, tmp_path, capsys):
    pytest.importorskip("data_prep.deepcee_data.builder")
    from deepcee.cli import main
    start = time.monotonic()
    status = main(["tfrecords", "--source", "sdss", "--out", str(tmp_path / "out"),
                   "--cache", str(tmp_path / "cache")])
    err = capsys.readouterr().err.strip()
    assert status == 2 and time.monotonic() - start < 30
    assert "\n" not in err and "VizieR" in err
    assert err.endswith("use --source sim (SOURCE=sim with make)")
