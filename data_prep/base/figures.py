"""PNG figures for people to look at, written one way: matplotlib without a display (Agg), a
fixed resolution, no software or date stamp (the same figure gives the same bytes), written
atomically."""
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from data_prep.base.files import write_bytes  # noqa: E402


def new_figure(width_in=6.0, height_in=5.0):
    """``(figure, axes)``: one matplotlib panel of ``width_in`` x ``height_in`` inches."""
    return plt.subplots(figsize=(width_in, height_in))


def save_png(figure, path, dpi=110):
    """Write ``figure`` to ``path`` as PNG (``dpi`` dots per inch, tight box) and close it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight",
                   metadata={"Software": None})
    plt.close(figure)
    write_bytes(path, buffer.getvalue())
