"""The simulator's per-image look (``data_prep.sim.looks``): each property moves the rendered
image the way its documentation says; draws are seeded per cutout; the look files load and
bad ones are refused with one line; the builder draws stretch limits within the look's
ranges; without a look nothing changes."""
import json

import numpy as np
import pytest

from data_prep.base.errors import InputError
from data_prep.deepcee_data.builder import Settings
from data_prep.sim.galaxy_clusters import MockSky
from data_prep.sim.looks import LOOKS_DIR, Look, load_look
from data_prep.sim.sdss import sky_sigma_nmgy

QUIET = {"noise_scale": (0.05, 0.05)}
"""Nearly noise-free, so that a property's effect is not lost in the noise."""


def fixed(**values):
    """A Look with every given property fixed at its value."""
    return Look(**{key: (value, value) for key, value in values.items()})


def render(look, size_px=300, seed=3, band="r"):
    """One band of a cutout centred on the first BCG of the mock sky."""
    sky = MockSky(seed, look=look)
    row = sky.truth_table()[0]
    return sky.cutout(row["ra"], row["dec"], size_px=size_px)[band].data.astype(float)


def centre(image, half=6):
    middle = image.shape[0] // 2
    return image[middle - half:middle + half + 1, middle - half:middle + half + 1]


def test_without_a_look_the_sky_is_unchanged():
    np.testing.assert_array_equal(render(None), render(None))
    plain = render(None)
    assert not np.array_equal(render(fixed(seeing_fwhm_arcsec=2.0)), plain)


def test_the_draws_are_seeded_by_the_cutout_and_stay_in_range():
    look = load_look("varied")
    a, b = render(look), render(look)
    np.testing.assert_array_equal(a, b)
    sky = MockSky(3, look=look)
    rows = sky.truth_table()[:3]
    seeings = {sky.cutout(r["ra"], r["dec"], size_px=64)["r"].header["SEEING"] for r in rows}
    assert len(seeings) > 1 and all(1.0 <= s <= 1.8 for s in seeings)


def test_worse_seeing_and_broader_psf_wings_lower_the_bcg_peak():
    sharp = render(fixed(seeing_fwhm_arcsec=1.0, **{k: v[0] for k, v in QUIET.items()}))
    blurred = render(fixed(seeing_fwhm_arcsec=2.4, **{k: v[0] for k, v in QUIET.items()}))
    assert centre(blurred).max() < 0.8 * centre(sharp).max()
    winged = render(fixed(psf_beta=2.0, noise_scale=0.05))
    compact = render(fixed(psf_beta=6.0, noise_scale=0.05))
    assert centre(winged, 1).sum() < centre(compact, 1).sum()


def test_noise_scale_scales_the_sky_scatter():
    def scatter(image):
        return 1.4826 * np.median(np.abs(image - np.median(image)))
    assert scatter(render(fixed(noise_scale=2.0))) == pytest.approx(
        2.0 * scatter(render(fixed(noise_scale=1.0))), rel=0.15)


def test_sky_offset_and_gradient_add_a_plane_in_units_of_the_sky_noise():
    plain = render(fixed(noise_scale=1.0))
    offset = render(fixed(noise_scale=1.0, sky_offset_sigma=0.5))
    np.testing.assert_allclose(offset - plain, 0.5 * sky_sigma_nmgy("r", 0.396), rtol=1e-4)
    tilted = render(fixed(noise_scale=1.0, sky_gradient_sigma=1.0)) - plain
    assert np.ptp(tilted) == pytest.approx(sky_sigma_nmgy("r", 0.396), rel=0.5)
    assert abs(tilted.mean()) < 0.05 * sky_sigma_nmgy("r", 0.396)


@pytest.mark.parametrize("band", ["g", "r", "i"])
def test_each_band_has_its_own_gain(band):
    look = fixed(**{f"{band}_gain": 1.3})
    for other in "gri":
        ratio = render(look, band=other) / render(None, band=other)
        finite = np.isfinite(ratio) & (np.abs(render(None, band=other)) > 1e-3)
        assert np.allclose(ratio[finite], 1.3 if other == band else 1.0, rtol=1e-3)


def test_a_redder_red_sequence_dims_the_bcg_in_g_and_not_in_r():
    red = fixed(red_sequence_g_r_offset=0.3, noise_scale=0.05)
    plain = fixed(noise_scale=0.05)
    g_ratio = centre(render(red, band="g")).sum() / centre(render(plain, band="g")).sum()
    r_ratio = centre(render(red, band="r")).sum() / centre(render(plain, band="r")).sum()
    assert g_ratio == pytest.approx(10 ** (-0.4 * 0.3), rel=0.08)
    assert r_ratio == pytest.approx(1.0, rel=1e-3)


def test_larger_galaxies_spread_the_bcg_light():
    small = render(fixed(galaxy_size_scale=0.6, noise_scale=0.05))
    large = render(fixed(galaxy_size_scale=1.7, noise_scale=0.05))
    assert centre(large, 2).sum() < 0.9 * centre(small, 2).sum()


def test_a_higher_concentration_gathers_the_members_towards_the_centre():
    def inner_light(concentration):
        image = render(fixed(nfw_concentration=concentration, noise_scale=0.05), size_px=600)
        y, x = np.indices(image.shape) - 300
        ring = (np.hypot(x, y) > 15) & (np.hypot(x, y) < 120)  # members, not the BCG
        return image[ring].sum()
    assert inner_light(12.0) > inner_light(1.5)


def test_the_builder_draws_stretch_limits_within_the_looks_ranges():
    settings = Settings(look="harsh_stretch", seed=2)
    draws = {settings.stretch_limits("test", k) for k in range(6)}
    assert len(draws) == 6 and draws == {settings.stretch_limits("test", k) for k in range(6)}
    assert all(1.5 <= low <= 2.0 and 98.0 <= high <= 98.5 for low, high in draws)
    assert Settings().stretch_limits("test", 0) == (Settings().lower_sigma,
                                                    Settings().upper_percentile)


def test_every_look_file_loads_and_the_held_out_ones_lie_outside_the_training_ranges():
    varied = load_look("varied")
    held_out = [path.stem for path in LOOKS_DIR.glob("*.json") if path.stem != "varied"]
    assert len(held_out) >= 7
    for name in held_out:
        look, default = load_look(name), Look()
        changed = [key for key, value in vars(look).items() if value != getattr(default, key)]
        assert changed, name
        for key in changed:
            low, high = getattr(varied, key)
            assert getattr(look, key)[1] < low or getattr(look, key)[0] > high, (name, key)


@pytest.mark.parametrize("content, message", [
    ({"seeing": [1, 2]}, "unknown look properties seeing"),
    ({"noise_scale": [2, 1]}, "noise_scale \\[2, 1\\] must satisfy"),
    ({"g_gain": "bright"}, "g_gain must be a range"),
])
def test_a_bad_look_file_is_refused_in_one_line(tmp_path, content, message):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(content))
    with pytest.raises(InputError, match=message):
        load_look(path)
    with pytest.raises(InputError, match="no such look; use one of .*varied"):
        load_look("sunny")
