"""Trusting a StellarVAE answer: significance, the star-profile radius, the working pixel scale,
the presets, and the selection function (injection-recovery) on tiny grids."""
import json

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from scipy.spatial import cKDTree

from data_prep.sim.star_clusters import half_number_radius, radius_for_half_number
from data_prep.stellarvae_data.patches import resample_to_scale
from helpers import tan_wcs
from stellarvae import injection_recovery as ir
from stellarvae.cli import main
from stellarvae.heat_map import background_level, peak_region
from stellarvae.measure import Footprint
from stellarvae.pipeline import PRESETS, PipelineOptions, preset_options
from stellarvae.significance import SIGNIFICANCE_THRESHOLD, is_significant, overdensity
from stellarvae.star_profile import blend_separation, fit_plummer

N = 400  # px, 1"/px


def plummer_stars(rng, n_field, n_cluster, a_px, centre=(230.0, 170.0), n=N):
    """Uniform field stars plus an untruncated Plummer cluster (half-number radius a_px)."""
    field = rng.uniform(-0.5, n - 0.5, (n_field, 2))
    q = rng.uniform(0, 1, n_cluster)
    r = a_px * np.sqrt(q / (1 - q))
    angle = rng.uniform(0, 2 * np.pi, n_cluster)
    cluster = np.column_stack([centre[0] + r * np.cos(angle), centre[1] + r * np.sin(angle)])
    cluster = cluster[(cluster >= -0.5).all(axis=1) & (cluster < n - 0.5).all(axis=1)]
    return np.concatenate([field, cluster]).T


def blended(rng, x, y, separation_px):
    """A catalogue's list of the sources (x, y): of two closer than ``separation_px`` only the
    brighter (a random rank here) is kept."""
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(separation_px, output_type="ndarray")
    rank = rng.permutation(len(x))
    fainter = np.where(rank[pairs[:, 0]] > rank[pairs[:, 1]], pairs[:, 0], pairs[:, 1])
    keep = np.ones(len(x), bool)
    keep[fainter] = False
    return x[keep], y[keep]


def footprint(n=N, scale=1.0):
    return Footprint.of_image(np.zeros((n, n), np.float32), tan_wcs(92.0, 20.6, scale, size=n))


def test_significance_is_high_on_an_obvious_cluster_and_low_on_an_empty_field():
    rng = np.random.default_rng(1)
    x, y = plummer_stars(rng, 1500, 200, 30.0)
    cluster = overdensity(x, y, footprint(), 230.0, 170.0, 30.0)
    assert cluster["significance_sigma"] > SIGNIFICANCE_THRESHOLD + 2
    assert cluster["n_in"] > 2 * cluster["n_expected"]
    # the field's density is measured in the annulus from 2 to 3 radii: 1500 stars over 400^2 px
    assert cluster["field_density_arcmin2"] == pytest.approx(1500 / (400 / 60) ** 2, rel=0.25)
    x, y = plummer_stars(rng, 1500, 0, 30.0)
    empty = [overdensity(x, y, footprint(), cx, cy, 30.0)["significance_sigma"]
             for cx, cy in rng.uniform(100, 300, (20, 2))]
    assert max(empty) < SIGNIFICANCE_THRESHOLD and abs(np.median(empty)) < 1.5
    assert is_significant(cluster) and cluster["contrast"] > 1.0


def test_a_shallow_but_large_over_density_is_not_significant():
    """A 20 % excess over a large area (a window in patchy extinction, in a deep catalogue)
    passes 5 sigma but not the contrast threshold."""
    rng = np.random.default_rng(6)
    x, y = rng.uniform(-0.5, N - 0.5, (2, 30000))
    inside = np.hypot(x - 200, y - 200) < 60
    extra = rng.uniform(0, 1, inside.sum()) < 0.2
    x, y = np.concatenate([x, x[inside][extra]]), np.concatenate([y, y[inside][extra]])
    test = overdensity(x, y, footprint(), 200.0, 200.0, 60.0)
    assert test["significance_sigma"] > SIGNIFICANCE_THRESHOLD
    assert test["contrast"] == pytest.approx(0.2, abs=0.08) and not is_significant(test)


def test_significance_counts_only_the_covered_part_of_a_circle_at_the_edge():
    rng = np.random.default_rng(2)
    x, y = plummer_stars(rng, 4000, 0, 1.0)
    # a circle centred on the image's corner: a quarter of it is on the image
    corner = overdensity(x, y, footprint(), -0.5, -0.5, 80.0)
    assert corner["n_expected"] == pytest.approx(4000 * np.pi * 80 ** 2 / 4 / N ** 2, rel=0.15)
    assert abs(corner["significance_sigma"]) < 3
    assert np.isnan(overdensity(x[:0], y[:0], footprint(), 10, 10, 5.0)["significance_sigma"])


def test_plummer_fit_finds_the_half_number_radius_and_centre():
    rng = np.random.default_rng(3)
    x, y = plummer_stars(rng, 1500, 150, 40.0)
    fit = fit_plummer(x, y, footprint(), 200.0, 200.0, max_shift_px=60.0)
    assert fit.ok
    assert fit.a_px == pytest.approx(40.0, rel=0.25)
    assert np.hypot(fit.x - 230.0, fit.y - 170.0) < 8.0
    assert fit.n_cluster == pytest.approx(150, rel=0.3)


def test_plummer_fit_on_a_uniform_field_is_not_a_cluster():
    rng = np.random.default_rng(4)
    x, y = plummer_stars(rng, 1500, 0, 1.0)
    fit = fit_plummer(x, y, footprint(), 200.0, 200.0, max_shift_px=60.0)
    test = overdensity(x, y, footprint(), fit.x, fit.y, fit.a_px)
    assert not fit.ok or test["significance_sigma"] < SIGNIFICANCE_THRESHOLD


def test_blend_separation_is_measured_from_the_missing_close_pairs():
    rng = np.random.default_rng(7)
    x, y = plummer_stars(rng, 1500, 400, 30.0)
    assert blend_separation(*blended(rng, x, y, 3.0)) == pytest.approx(3.0, rel=0.05)
    assert blend_separation(x, y) < 0.5
    assert blend_separation(x[:5], y[:5]) == 0.0
    x, y = blended(rng, x, y, 3.0)
    twice = blend_separation(np.concatenate([x, x[:20]]), np.concatenate([y, y[:20]]))
    assert twice == pytest.approx(3.0, rel=0.05)  # duplicated rows do not hide the blending


def luminosity_function(rng, n, slope, bright=9.0, faint=15.0):
    """K magnitudes with dN/dK proportional to 10^(slope K) from ``bright`` to ``faint``."""
    low, high = 10 ** (slope * bright), 10 ** (slope * faint)
    return np.log10(low + rng.uniform(0, 1, n) * (high - low)) / slope


def test_the_star_fit_weighs_magnitudes_when_the_cluster_is_brighter_than_the_field():
    """A cluster whose luminosity function is flat (many bright members) in a steep field: with
    the two luminosity functions fitted, the magnitudes add evidence and the radius comes out
    closer to the truth than from positions alone."""
    error = {"positions": [], "magnitudes": []}
    for seed in range(6):
        rng = np.random.default_rng(seed)
        x, y = plummer_stars(rng, 5000, 120, 30.0)
        kmag = np.concatenate([luminosity_function(rng, 5000, 0.35),
                               luminosity_function(rng, len(x) - 5000, 0.05)])
        plain = fit_plummer(x, y, footprint(), 215.0, 185.0, 60.0)
        weighed = fit_plummer(x, y, footprint(), 215.0, 185.0, 60.0, kmag=kmag,
                              luminosity_bins=8)
        assert weighed.ok and weighed.log_likelihood_gain > plain.log_likelihood_gain + 10
        error["positions"].append(abs(np.log(plain.a_px / 30.0)))
        error["magnitudes"].append(abs(np.log(weighed.a_px / 30.0)))
    assert max(error["magnitudes"]) < 0.2
    assert np.median(error["magnitudes"]) < 0.8 * np.median(error["positions"])


def test_the_robust_preset_passes_the_catalogue_magnitudes_to_the_star_fit():
    from types import SimpleNamespace

    from stellarvae import pipeline

    rng = np.random.default_rng(8)
    x, y = plummer_stars(rng, 5000, 120, 30.0)
    kmag = np.concatenate([luminosity_function(rng, 5000, 0.35),
                           luminosity_function(rng, len(x) - 5000, 0.05)])
    wcs = tan_wcs(92.0, 20.6, 1.0, size=N)
    yy, xx = np.mgrid[0:N, 0:N]
    region = np.hypot(xx - 225.0, yy - 175.0) <= 25.0
    gain = {}
    for bins in (0, None):  # None: the preset's
        overrides = {} if bins is None else {"luminosity_bins": bins}
        options = preset_options("robust", radius_from="stars", blend_arcsec=0.0, **overrides)
        extra = pipeline._vae_detection(np.ones((N, N)), region, wcs, SimpleNamespace(wcs=wcs),
                                        x, y, kmag, footprint(), options)[1]
        gain[bins] = extra["plummer_fit"]["log_likelihood_gain"]
    assert PRESETS["robust"]["luminosity_bins"] > 0 and gain[None] > gain[0] + 10


def test_the_star_fit_without_magnitudes_is_the_positions_only_fit():
    rng = np.random.default_rng(7)
    x, y = plummer_stars(rng, 1500, 150, 30.0)
    plain = fit_plummer(x, y, footprint(), 220.0, 180.0, 60.0)
    assert fit_plummer(x, y, footprint(), 220.0, 180.0, 60.0, kmag=np.full(len(x), np.nan),
                       luminosity_bins=8) == plain
    few = np.where(np.arange(len(x)) < 70, 12.0, np.nan)  # fewer than 10 a bin: not used
    assert fit_plummer(x, y, footprint(), 220.0, 180.0, 60.0, kmag=few,
                       luminosity_bins=8) == plain
    assert fit_plummer(x, y, footprint(), 220.0, 180.0, 60.0,
                       kmag=luminosity_function(rng, len(x), 0.3)) == plain  # 0 bins
    hidden = np.ma.masked_array(luminosity_function(rng, len(x), 0.3), mask=True)
    assert fit_plummer(x, y, footprint(), 220.0, 180.0, 60.0, kmag=hidden,
                       luminosity_bins=8) == plain  # masked magnitudes are no magnitudes


@pytest.mark.parametrize("blend_arcsec", [None, 0.0])
def test_the_star_fit_sees_through_the_blending_of_a_crowded_core(blend_arcsec):
    """A catalogue that lists one source of every pair closer than 3" thins a crowded core:
    the plain Plummer fit then makes the cluster half as large again; the fit with the
    blending measured from the catalogue (the default) finds its radius."""
    from types import SimpleNamespace

    from stellarvae import pipeline

    rng = np.random.default_rng(0)
    x, y = blended(rng, *plummer_stars(rng, 1500, 400, 30.0), 3.0)
    wcs = tan_wcs(92.0, 20.6, 1.0, size=N)
    yy, xx = np.mgrid[0:N, 0:N]
    region = np.hypot(xx - 225.0, yy - 175.0) <= 20.0
    options = preset_options("robust", radius_from="stars", blend_arcsec=blend_arcsec)
    detection, extra = pipeline._vae_detection(np.ones((N, N)), region, wcs,
                                               SimpleNamespace(wcs=wcs), x, y,
                                               np.full(len(x), np.nan), footprint(), options)
    assert extra["radius_from"] == "stars"
    if blend_arcsec is None:
        assert extra["blend_arcsec"] == pytest.approx(3.0, rel=0.05)
        assert detection.radius_arcsec == pytest.approx(30.0, rel=0.15)
    else:
        assert extra["blend_arcsec"] == 0.0
        assert detection.radius_arcsec > 1.3 * 30.0


@pytest.mark.parametrize("radius_from, kept", [("stars", "fit"), ("stars-or-region", "region"),
                                               ("region", "region")])
def test_the_region_replaces_a_fit_that_is_not_significant_only_with_stars_or_region(
        monkeypatch, radius_from, kept):
    """A star fit that settles on a fluctuation beside the cluster (faked here) is kept by
    ``stars``; ``stars-or-region`` keeps the heat map's region, a significant over-density."""
    from types import SimpleNamespace

    from stellarvae import pipeline, star_profile

    rng = np.random.default_rng(6)
    x, y = plummer_stars(rng, 1500, 200, 30.0)
    wcs = tan_wcs(92.0, 20.6, 1.0, size=N)
    yy, xx = np.mgrid[0:N, 0:N]
    region = np.hypot(xx - 230.0, yy - 170.0) <= 30.0
    beside = star_profile.PlummerFit(80.0, 320.0, 6.0, 3.0, 1.0, True)
    monkeypatch.setattr(star_profile, "fit_plummer", lambda *args, **kwargs: beside)
    options = preset_options("robust", radius_from=radius_from)
    detection, extra = pipeline._vae_detection(np.ones((N, N)), region, wcs,
                                               SimpleNamespace(wcs=wcs), x, y,
                                               np.full(len(x), np.nan), footprint(), options)
    if kept == "fit":
        assert (detection.x_pix, detection.y_pix) == (80.0, 320.0)
        assert detection.radius_arcsec == pytest.approx(6.0)
        assert extra["radius_from"] == "stars"
    else:
        assert np.hypot(detection.x_pix - 230.0, detection.y_pix - 170.0) < 1.0
        assert detection.radius_arcsec == pytest.approx(30.0, rel=0.05)
        assert extra["radius_from"] == "region"
    if radius_from == "stars-or-region":
        assert (extra["star_fit_significant"], extra["region_significant"]) == (False, True)


def test_half_number_radius_of_the_simulated_plummer_profile():
    # truncated at c a: r_half^2 / (r_half^2 + a^2) = c^2 / (2 (1 + c^2))
    c = 4.0
    q = c ** 2 / (2 * (1 + c ** 2))
    assert half_number_radius("plummer", c, c) == pytest.approx(np.sqrt(q / (1 - q)), rel=1e-3)
    assert half_number_radius("plummer", radius_for_half_number("plummer", 70.0, c), c) == \
        pytest.approx(70.0, rel=1e-6)


def test_resampling_to_a_working_scale_keeps_the_sky_positions():
    wcs = tan_wcs(92.0, 20.6, 0.2, size=1000)
    image = np.zeros((1000, 1000), np.float32)
    image[410:420, 600:610] = 100.0     # one 10 x 10 block, exactly one working pixel
    image[0:6, 0:10] = np.nan          # more than half of block (0, 0) blank
    small, small_wcs, factor = resample_to_scale(image, wcs, 2.0)
    assert factor == 10 and small.shape == (100, 100)
    assert small[41, 60] == pytest.approx(100.0) and np.isnan(small[0, 0])
    sky = wcs.pixel_to_world(604.5, 414.5)
    x, y = small_wcs.world_to_pixel(sky)
    assert (float(x), float(y)) == pytest.approx((60.0, 41.0), abs=1e-6)
    same, same_wcs, one = resample_to_scale(image, tan_wcs(92.0, 20.6, 1.5, size=1000), 2.0)
    assert one == 1 and same is image or np.shares_memory(same, image)


def test_background_relative_region():
    rng = np.random.default_rng(5)
    heat = rng.normal(1.0, 0.1, (100, 100))
    heat[20:30, 60:70] += 2.0                          # a strong blob
    heat[70:74, 10:14] += 1.0                          # a weaker one
    region = peak_region(heat, level=background_level(heat, 3.0))
    assert region[25, 65] and not region[72, 12] and 100 <= region.sum() <= 110


def test_paper_preset_is_the_defaults_and_robust_changes_only_named_options():
    assert preset_options("paper") == PipelineOptions()
    robust = preset_options("robust")
    changed = {key for key, value in vars(robust).items()
               if value != getattr(PipelineOptions(), key)}
    assert changed <= set(PRESETS["robust"]) and {"work_scale_arcsec", "radius_from"} <= changed
    assert robust.min_significance == SIGNIFICANCE_THRESHOLD and robust.radius_from == "stars-or-region"
    assert preset_options("robust", heat_smoothing_arcsec=20.0).heat_smoothing_arcsec == 20.0


@pytest.mark.parametrize("argv, words", [
    (["--preset", "fast"], "invalid choice"),
    (["--background-px", "9", "--background-arcsec", "10"], "give one"),
    (["--region-sigma", "-1"], ">= 0"),
    (["--blend-arcsec", "-2"], "--blend-arcsec -2.0: give a value >= 0"),
    (["--luminosity-bins", "-1"], "--luminosity-bins -1: give a value >= 0"),
    (["--preset", "robust", "--clip-percentile", "20"], "50 to 100"),
])
def test_bad_preset_options_exit_2_with_one_line(tmp_path, capsys, argv, words):
    image = tmp_path / "f.fits"
    fits.PrimaryHDU(np.ones((80, 80), np.float32),
                    header=tan_wcs(92.0, 20.6, 1.0, size=80).to_header()).writeto(image)
    assert main(["detect", str(image), "--out", str(tmp_path / "o"), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and err.count("\n") == 0 and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_field_specs_cells_and_member_counts():
    grid = ir.Grid(members=(60,), r_half_arcsec=(45.0, 90.0), density=(1.0,), nebulosity=(0.5,),
                   surveys=("2mass", "ukidss"), seeds=2, empty_seeds=3)
    specs = grid.fields()
    assert len(specs) == 1 * 2 * 1 * 1 * 2 * 2 + 1 * 1 * 2 * 3
    assert len({s.id for s in specs}) == len(specs)
    assert specs[0].id == "m60_r45_d1_n0.5_2mass_s0" and specs[0].cell == "m60_r45_d1_n0.5_2mass"
    assert specs[-1].empty and specs[-1].id == "empty_d1_n0.5_ukidss_s2"
    assert ir.members_at_survey(60, "2mass") == 60 < ir.members_at_survey(60, "ukidss")


def test_baselines_on_a_simulated_grid_field_are_scored_against_the_half_number_circle():
    spec = ir.FieldSpec(140, 40.0, 1.0, 0.3, "2mass", 0, size_arcmin=4.0)
    data = ir.simulate_field(spec)
    assert data.truth["radius_arcsec"][0] == pytest.approx(40.0, rel=1e-6)
    table = ir.evaluate_field(spec, methods=("star_counts", "knn_density"))
    assert list(table["method"]) == ["star_counts", "knn_density"]
    knn = table[table["method"] == "knn_density"][0]
    assert knn["claimed"] and knn["significant"] and knn["detected"]
    assert list(table["radius_from"]) == ["region", "region"]
    assert knn["offset_over_r_half"] < 0.5 and knn["iou"] > 0.3
    empty = ir.evaluate_field(ir.FieldSpec(0, 0.0, 1.0, 0.3, "2mass", 0, size_arcmin=4.0),
                              methods=("knn_density",))
    assert empty[0]["empty"] and np.isnan(empty[0]["iou"])


@pytest.mark.slow
def test_each_vae_row_says_whether_its_circle_is_the_star_fit_or_the_heat_map_region():
    spec = ir.FieldSpec(140, 40.0, 1.0, 0.3, "2mass", 0, size_arcmin=4.0)
    table = ir.evaluate_field(spec, methods=("vae_robust", "vae_robust_image"))
    assert dict(zip(table["method"], table["radius_from"])) == {"vae_robust": "stars",
                                                               "vae_robust_image": "region"}
    assert table["detected"].all()


def fake_results():
    """Per-field rows of two cells, one empty cell, two methods."""
    rows = []
    for method, ious, sig in (("vae_robust", (0.8, 0.7, 0.0), (9.0, 8.0, 2.0)),
                              ("knn_density", (0.5, 0.6, 0.1), (7.0, 6.0, 5.5))):
        for k, (iou, sigma) in enumerate(zip(ious, sig)):
            spec = ir.FieldSpec(60 if k < 2 else 0, 45.0 if k < 2 else 0.0, 1.0, 0.5, "2mass", k)
            rows += ir.score_rows(spec, {method: {
                "status": "significant" if sigma >= 5 else "no significant cluster"
                if method == "vae_robust" else "not significant",
                "significance_sigma": sigma, "contrast": 2.0, "offset_truth_arcsec": 10.0,
                "iou_truth": iou, "radius_arcsec": 40.0,
                "radius_from": "stars" if method == "vae_robust" else "region"}}, {})
    return Table(rows=rows)


def test_cell_table_and_summary_checks():
    results = fake_results()
    cells = ir.cell_table(results)
    robust = cells[(cells["cell"] == "m60_r45_d1_n0.5_2mass") & (cells["method"] == "vae_robust")][0]
    assert robust["detection_rate"] == 1.0 and robust["median_iou"] == pytest.approx(0.75)
    empty = cells[(cells["empty"]) & (cells["method"] == "knn_density")][0]
    assert empty["false_detection_rate"] == 1.0 and empty["claim_rate"] == 1.0
    headline = ir.summary(results, cells)
    assert headline["detectable_cells"] == ["m60_r45_d1_n0.5_2mass"]
    checks = headline["checks"]
    assert checks["robust_median_iou_at_least_0.7"]
    assert checks["cells_where_robust_is_below_the_best_baseline"] == []
    assert checks["robust_false_detection_rate"] == 0.0
    text = ir.markdown(cells, headline)
    assert "| vae_robust |" in text and "| knn_density |" in text


def test_iou_of_significant_claims_counts_an_insignificant_claim_as_nothing():
    results = fake_results()
    knn = (results["method"] == "knn_density") & (results["field"] == "m60_r45_d1_n0.5_2mass_s1")
    results["significant"][knn] = False                 # claimed, IoU 0.6, not significant
    cells = ir.cell_table(results)
    row = cells[(cells["cell"] == "m60_r45_d1_n0.5_2mass") & (cells["method"] == "knn_density")][0]
    assert row["median_iou"] == pytest.approx(0.55)
    assert row["median_iou_significant"] == pytest.approx(0.25)
    results["iou"][(results["method"] == "vae_robust") & (results["seed"] == 0)] = 0.2
    checks = ir.summary(results, ir.cell_table(results))["checks"]
    assert [c["cell"] for c in checks["cells_where_robust_is_below_the_best_baseline"]] == \
        ["m60_r45_d1_n0.5_2mass"]                      # 0.45 < 0.55
    assert checks["cells_where_robust_is_below_the_best_baseline_significant_claims_only"] == []


def test_the_radius_bias_and_scatter_of_a_cell_come_from_its_located_claims_only():
    rows = []
    radii = (45.0, 49.5, 40.5, 45.0, 300.0)            # r_half = 45"; the last is 3 r_half off
    for seed, radius in enumerate(radii):
        spec = ir.FieldSpec(60, 45.0, 1.0, 0.5, "2mass", seed)
        rows += ir.score_rows(spec, {"knn_density": {
            "status": "significant", "significance_sigma": 9.0, "contrast": 2.0,
            "offset_truth_arcsec": 135.0 if seed == 4 else 5.0, "iou_truth": 0.8,
            "radius_arcsec": radius, "radius_from": "region"}}, {})
    cells = ir.cell_table(Table(rows=rows))
    row = cells[0]
    assert row["median_radius_over_r_half"] == pytest.approx(1.0)
    # the four located claims: ln ratios 0, 0.095, -0.105, 0; MAD 0.048, x 1.4826
    assert row["radius_scatter"] == pytest.approx(0.0707, abs=1e-4)
    text = ir.markdown(cells, {"detectable_cells": [], "methods": {}})
    assert "| 1.00 | 0.071 |" in text                   # bias and scatter in the cell's row
    two = ir.cell_table(Table(rows=rows[:2]))[0]        # too few claims for a scatter
    assert two["median_radius_over_r_half"] == pytest.approx(1.05)
    assert np.isnan(two["radius_scatter"])


def test_a_cell_below_the_best_baseline_comes_with_its_field_by_field_comparison():
    rows = []
    for seed in range(6):
        spec = ir.FieldSpec(60, 45.0, 1.0, 0.5, "2mass", seed)
        for method, iou in (("vae_robust", 0.8 - 0.01 * seed), ("knn_density", 0.9),
                            ("star_counts", 0.95 if seed == 0 else 0.1)):
            rows += ir.score_rows(spec, {method: {
                "status": "significant", "significance_sigma": 9.0, "contrast": 2.0,
                "offset_truth_arcsec": 10.0, "iou_truth": iou, "radius_arcsec": 40.0,
                "radius_from": "stars" if method == "vae_robust" else "region"}}, {})
    results = Table(rows=rows)
    headline = ir.summary(results, ir.cell_table(results))
    [below] = headline["checks"]["cells_where_robust_is_below_the_best_baseline"]
    assert below["baseline"] == "knn_density"           # the best median, not the best field
    assert (below["fields"], below["robust_ahead"], below["robust_behind"]) == (6, 0, 6)
    assert below["median_difference"] == pytest.approx(-0.125)
    assert below["wilcoxon_p"] == pytest.approx(2 / 2 ** 6)  # all six behind: 2 of 64 signings
    assert "behind in 6 of 6" in ir.markdown(ir.cell_table(results), headline)
    judged = results.copy()                             # two robust claims not significant
    judged["significant"][(judged["method"] == "vae_robust") & (judged["seed"] < 2)] = False
    [below] = ir.summary(judged, ir.cell_table(judged))["checks"][
        "cells_where_robust_is_below_the_best_baseline_significant_claims_only"]
    assert below["median_difference"] == pytest.approx(-0.145)  # they count as IoU 0
    robust = results["method"] == "vae_robust"
    results["iou"][robust] = [0.98, 0.98, 0.89, 0.88, 0.87, 0.86]  # 2 far ahead, 4 just behind
    [below] = ir.summary(results, ir.cell_table(results))["checks"][
        "cells_where_robust_is_below_the_best_baseline"]
    assert (below["robust_ahead"], below["robust_behind"]) == (2, 4)
    assert below["wilcoxon_p"] > 0.5                    # rank sums 11 against 10: no difference


@pytest.mark.slow
def test_injection_recovery_runs_on_dask_writes_maps_and_skips_finished_fields(tmp_path, capsys):
    out = tmp_path / "sf"
    argv = ["injection-recovery", "--out", str(out), "--members", "140", "--r-half", "40",
            "--density", "1", "--nebulosity", "0.3", "--surveys", "2mass", "--seeds", "1",
            "--empty-seeds", "1", "--size-arcmin", "4", "--methods", "star_counts",
            "knn_density", "--scheduler", "local:1", "--no-progress",
            "--dashboard-address", "127.0.0.1:0"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "2 fields: 2 run now" in printed
    for name in ("fields.ecsv", "selection_function.ecsv", "selection_function.md",
                 "summary.json", "map_median_iou.png", "map_detection_rate.png",
                 "map_median_radius_over_r_half.png", "false_detections.png"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["fields_finished"] == 2 and "knn_density" in summary["methods"]
    assert main(argv) == 0
    assert "all 2 tiles finished before" in capsys.readouterr().out
    assert main(argv[:19] + ["--report-only"]) == 0     # the same grid, nothing run
    summary = json.loads((out / "summary.json").read_text())
    assert "--scheduler local:1" in summary["command"]  # the command that ran the fields
    assert "--report-only" not in summary["command"]


def write_sim_field(tmp_path, spec, image_hdu=0):
    """A grid field as a user would bring it: the image (primary HDU or HDU 1) and the raw
    survey table (2MASS PSC or UKIDSS GPS columns, with the rows the readers drop)."""
    from data_prep.sim.star_clusters import simulate_kband_field
    from data_prep.sim.difficulty import StarClusterDifficulty

    if spec.empty:
        difficulty = StarClusterDifficulty(field_density_scale=spec.density,
                                           nebulosity=spec.nebulosity, cluster_free=True)
    else:
        difficulty = StarClusterDifficulty(
            n_members=ir.members_at_survey(spec.members, spec.survey),
            radius_arcsec=radius_for_half_number("plummer", spec.r_half_arcsec,
                                                 ir.CONCENTRATION),
            profile="plummer", concentration=ir.CONCENTRATION,
            field_density_scale=spec.density, nebulosity=spec.nebulosity)
    hdu, raw, truth = simulate_kband_field(spec.ra, spec.dec, spec.size_arcmin, spec.survey,
                                           seed=spec.seed, difficulty=difficulty)
    image = tmp_path / f"{spec.survey}.fits"
    hdus = [hdu] if image_hdu == 0 else [fits.PrimaryHDU(),
                                         fits.ImageHDU(hdu.data, header=hdu.header)]
    fits.HDUList(hdus).writeto(image)
    catalog = tmp_path / f"{spec.survey}_stars.ecsv"
    raw.write(catalog)
    return image, catalog, truth


@pytest.mark.slow
@pytest.mark.parametrize("survey", ["2mass", "ukidss"])
def test_robust_preset_finds_the_cluster_at_2mass_and_ukidss_scale(tmp_path, capsys, survey):
    """One preset for both pixel scales (1"/px and 0.2"/px): the same sky, the same answer."""
    spec = ir.FieldSpec(140, 40.0, 1.0, 0.3, survey, 3, size_arcmin=4.0)
    image, catalog, truth = write_sim_field(tmp_path, spec, image_hdu=1)
    argv = ["detect", str(image), "--catalog", str(catalog), "--preset", "robust",
            "--no-baselines", "--out", str(tmp_path / "out")]
    assert main(argv) == 0
    assert "sigma" in capsys.readouterr().out
    summary = json.loads((tmp_path / "out" / survey / "detection.json").read_text())
    vae = summary["detections"][0]
    assert summary["vae"]["working_pixel_scale_arcsec"] == pytest.approx(2.0, rel=0.01)
    assert summary["vae"]["radius_from"] == "stars"
    assert vae["status"] == "significant" and vae["significance_sigma"] > 8
    from astropy.coordinates import SkyCoord
    centre = SkyCoord(vae["ra"], vae["dec"], unit="deg")
    true_centre = SkyCoord(truth["ra"][0], truth["dec"][0], unit="deg")
    assert centre.separation(true_centre).arcsec < 0.3 * 40.0
    assert 0.6 * 40.0 < vae["radius_arcsec"] < 1.6 * 40.0


@pytest.mark.slow
def test_an_empty_field_reports_no_significant_cluster_and_the_paper_method_a_region(
        tmp_path, capsys):
    spec = ir.FieldSpec(0, 0.0, 5.0, 1.0, "2mass", 1, size_arcmin=4.0)
    image, catalog, _ = write_sim_field(tmp_path, spec)
    assert len(Table.read(catalog)) > len(ir.simulate_field(spec).stars)  # bad rows dropped
    out = tmp_path / "robust"
    assert main(["detect", str(image), "--catalog", str(catalog), "--preset", "robust",
                 "--no-baselines", "--out", str(out)]) == 0
    assert "no significant cluster" in capsys.readouterr().out
    run_dir = out / "2mass"
    vae = json.loads((run_dir / "detection.json").read_text())["detections"][0]
    assert vae["status"] == "no significant cluster" and vae["ra"] is None
    table = Table.read(run_dir / "detection.ecsv")
    assert table["status"][0] == "no significant cluster" and np.isnan(table["ra"][0])
    with fits.open(run_dir / "heat_map.fits") as hdul:
        assert hdul["REGION"].data.sum() == 0
    assert "circle(" not in (run_dir / "detection.reg").read_text().split("truth")[0]
    # the paper's method (the default) keeps reporting its region, with the significance beside
    out = tmp_path / "paper"
    assert main(["detect", str(image), "--catalog", str(catalog), "--no-baselines",
                 "--max-epochs", "2", "--out", str(out)]) == 0
    capsys.readouterr()
    paper = Table.read(out / "2mass" / "detection.ecsv")[0]
    assert np.isfinite(paper["ra"]) and paper["status"] in ("significant", "not significant")
    assert np.isfinite(paper["significance_sigma"])
