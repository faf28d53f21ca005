"""Grid anchors of the region proposal network (Deep-CEE §2.1.2; OD API ``GridAnchorGenerator``).

At every feature-map cell (every ``stride`` pixels of the resized image) one box is placed for
each (scale, aspect ratio) pair: height = scale / sqrt(ratio) x base height, width =
scale x sqrt(ratio) x base width, centred at ``row x stride + offset``. With the paper's scales
0.25, 0.5, 1, 2, ratios 0.5, 1, 2 and base 256 px there are 12 anchors per cell.

The anchor grid depends only on the (fixed) resized image size, so it is computed once with
NumPy and enters the graph as a constant: static shapes, nothing to trace per step.
"""
import numpy as np


def grid_anchors(grid_shape, scales, aspect_ratios, base_size=(256.0, 256.0),
                 stride=(16, 16), offset=(0, 0)):
    """Anchor boxes of a single feature map, in OD API order.

    Parameters
    ----------
    grid_shape : (int, int)
        Feature-map height and width (cells).
    scales, aspect_ratios : sequence of float
        Anchor scales (1.0 = ``base_size``) and aspect ratios (width / height).
    base_size : (float, float)
        Height and width of a scale-1, ratio-1 anchor (pixels).
    stride, offset : (int, int)
        Distance between anchor centres and the centre of the first anchor, (y, x) in pixels.

    Returns
    -------
    numpy.ndarray
        float32 [grid_h * grid_w * len(scales) * len(aspect_ratios), 4] corners
        ``ymin, xmin, ymax, xmax`` in pixels of the resized image. The order is row, column,
        then aspect ratio, then scale (scale varies fastest), as ``GridAnchorGenerator`` makes it
        and as the RPN's 1x1 convolutions lay out their channels.
    """
    ratio_grid, scale_grid = np.meshgrid(np.asarray(aspect_ratios, np.float64),
                                         np.asarray(scales, np.float64), indexing="ij")
    ratio_sqrt = np.sqrt(ratio_grid.ravel())
    heights = scale_grid.ravel() / ratio_sqrt * base_size[0]
    widths = scale_grid.ravel() * ratio_sqrt * base_size[1]
    y_centres = np.arange(grid_shape[0]) * stride[0] + offset[0]
    x_centres = np.arange(grid_shape[1]) * stride[1] + offset[1]
    yc = y_centres[:, None, None]
    xc = x_centres[None, :, None]
    half_h = heights[None, None, :] / 2.0
    half_w = widths[None, None, :] / 2.0
    corners = np.broadcast_arrays(yc - half_h, xc - half_w, yc + half_h, xc + half_w)
    return np.stack(corners, axis=-1).reshape(-1, 4).astype(np.float32)


def inside_window(boxes, height, width):
    """Which boxes lie entirely inside the image (OD API ``prune_outside_window``).

    Faster R-CNN drops anchors that cross the image border during training (Ren et al. 2015
    §3.1.3; Deep-CEE §2.1.2).

    Parameters
    ----------
    boxes : numpy.ndarray
        [N, 4] corners in pixels.
    height, width : float
        Image size in pixels.

    Returns
    -------
    numpy.ndarray
        bool [N]: ymin >= 0, xmin >= 0, ymax <= height and xmax <= width.
    """
    return ((boxes[:, 0] >= 0) & (boxes[:, 1] >= 0)
            & (boxes[:, 2] <= height) & (boxes[:, 3] <= width))


def clip_to_window(boxes, height, width):
    """Clip boxes to the image (OD API ``clip_to_window``), as anchors are at inference.

    Parameters
    ----------
    boxes : numpy.ndarray
        [N, 4] corners in pixels.
    height, width : float
        Image size in pixels.

    Returns
    -------
    numpy.ndarray
        float32 [N, 4] corners limited to [0, height] x [0, width].
    """
    limits = np.array([height, width, height, width], np.float32)
    return np.clip(boxes, 0.0, limits).astype(np.float32)
