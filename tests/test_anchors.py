"""Grid anchors (OD API GridAnchorGenerator semantics) and the border rules, against
hand-computed corners."""
import numpy as np
import pytest

from deepcee.model.anchors import clip_to_window, grid_anchors, inside_window


def test_tiny_grid_count_order_and_corners():
    # scales 0.5, 1; ratios 1, 4 (sqrt 2): (h, w) = (128,128), (256,256), (64,256), (128,512)
    anchors = grid_anchors((2, 3), scales=(0.5, 1.0), aspect_ratios=(1.0, 4.0))
    assert anchors.shape == (2 * 3 * 4, 4) and anchors.dtype == np.float32
    # cell (0, 0), centre (0, 0): ratio-major, scale fastest
    np.testing.assert_allclose(anchors[:4], [[-64, -64, 64, 64], [-128, -128, 128, 128],
                                             [-32, -128, 32, 128], [-64, -256, 64, 256]])
    # row 1, column 2 -> centre (16, 32); last anchor 128 x 512
    np.testing.assert_allclose(anchors[(1 * 3 + 2) * 4 + 3], [-48, -224, 80, 288])
    # row-major cells: anchor 4 is cell (0, 1), centre (0, 16)
    np.testing.assert_allclose(anchors[4], [-64, -48, 64, 80])


def test_base_size_stride_and_offset():
    anchors = grid_anchors((2, 2), scales=(1.0,), aspect_ratios=(1.0,), base_size=(10.0, 20.0),
                           stride=(8, 4), offset=(3, 1))
    np.testing.assert_allclose(anchors, [[-2, -9, 8, 11], [-2, -5, 8, 15],
                                         [6, -9, 16, 11], [6, -5, 16, 15]])


def test_paper_anchor_set_per_position():
    anchors = grid_anchors((1, 1), (0.25, 0.5, 1.0, 2.0), (0.5, 1.0, 2.0))
    heights = anchors[:, 2] - anchors[:, 0]
    widths = anchors[:, 3] - anchors[:, 1]
    assert len(anchors) == 12
    np.testing.assert_allclose(widths / heights, np.repeat([0.5, 1.0, 2.0], 4), rtol=1e-6)
    np.testing.assert_allclose(np.sqrt(heights * widths), np.tile([64, 128, 256, 512], 3),
                               rtol=1e-6)


def test_border_crossing_anchors_are_found():
    # 32 x 32 anchors every 16 px on a 64 x 64 image: centres 0, 16, 32, 48; only 16..48 fit
    anchors = grid_anchors((4, 4), (1.0,), (1.0,), base_size=(32.0, 32.0))
    inside = inside_window(anchors, 64, 64)
    assert inside.sum() == 9
    assert not inside.reshape(4, 4)[0].any() and not inside.reshape(4, 4)[:, 0].any()
    assert inside_window(np.array([[0, 0, 64, 64.0]]), 64, 64)[0]
    assert not inside_window(np.array([[0, 0, 64.5, 64]]), 64, 64)[0]


def test_clip_to_window():
    clipped = clip_to_window(np.array([[-10, 5, 70, 30], [10, -3, 20, 90.0]]), 64, 80)
    np.testing.assert_allclose(clipped, [[0, 5, 64, 30], [10, 0, 20, 80]])


def test_paper_grid_anchors_worked_by_hand():
    """The paper's 1000 px image gives a 63 x 63 feature grid (1000 -> 500 -> 250 -> 125 -> 63
    through four 'SAME' stride-2 layers). OD API GridAnchorGenerator: centre of cell (row i,
    column j) at (16 i, 16 j) (anchor_offset 0); height = scale / sqrt(ratio) x 256, width =
    scale x sqrt(ratio) x 256; 12 per cell, ratio-major, scale fastest."""
    anchors = grid_anchors((63, 63), (0.25, 0.5, 1.0, 2.0), (0.5, 1.0, 2.0))
    assert anchors.shape == (63 * 63 * 12, 4) == (47628, 4)
    # cell (0, 0), ratio 0.5, scale 0.25: 64 sqrt(2) = 90.51 high, 32 sqrt(2) = 45.25 wide
    np.testing.assert_allclose(anchors[0], [-45.254834, -22.627417, 45.254834, 22.627417],
                               rtol=1e-6)
    # cell (1, 2) (index 1 x 63 + 2 = 65), ratio 1, scale 1 (4 + 2 = 6): 256 x 256 at (16, 32)
    np.testing.assert_allclose(anchors[65 * 12 + 6], [-112, -96, 144, 160])
    # the last cell (62, 62) at (992, 992), ratio 2, scale 2: 256 sqrt(2) = 362.04 high and
    # 512 sqrt(2) = 724.08 wide
    np.testing.assert_allclose(anchors[-1], [992 - 181.019336, 992 - 362.038672,
                                             992 + 181.019336, 992 + 362.038672], rtol=1e-6)


@pytest.mark.parametrize("size, cells", [(100, 7), (256, 16)])
def test_feature_network_grid_has_one_cell_per_16_px_rounded_up(size, cells):
    """The grid the anchors are laid on is the feature network's: 100 -> 50 -> 25 -> 13 -> 7,
    256 -> 128 -> 64 -> 32 -> 16 (stride-2 'SAME' layers round up)."""
    import tensorflow as tf
    from deepcee.model.inception_v2 import InceptionV2FeatureNetwork

    features = InceptionV2FeatureNetwork(seed=0)(tf.zeros([1, size, size, 3]))
    assert tuple(features.shape[1:3]) == (cells, cells)
