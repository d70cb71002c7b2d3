"""Figures shared by the notebooks and the command line."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from .data import CLASSES, atomic_path


def upright(row):
    """A stored NIST36 row (transposed before flattening) as an upright 32x32 image."""
    return np.asarray(row).reshape(32, 32).T


def image_grid(
    rows,
    titles=None,
    columns=8,
    size=1.0,
    cmap="gray",
    vmin=None,
    vmax=None,
    suptitle=None,
    colorbar=False,
):
    """Show NIST36-format rows (N x 1024) as upright 32x32 images in a grid.

    Without vmin and vmax, each image is scaled to its own range; with them, all share
    one scale, which colorbar=True shows.
    """
    n = len(rows)
    r = int(np.ceil(n / columns))
    fig, axes = plt.subplots(
        r,
        columns,
        figsize=(columns * size, r * size * (1.25 if titles else 1)),
        squeeze=False,
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            shown = ax.imshow(upright(rows[i]), cmap=cmap, vmin=vmin, vmax=vmax)
            if titles:
                ax.set_title(titles[i], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    if colorbar:
        fig.colorbar(shown, ax=axes, shrink=0.8, pad=0.01)
    return fig


def curves(histories, keys=("acc", "loss")):
    """Training and validation curves per epoch: a row per named history, a column per
    key."""
    fig, axes = plt.subplots(
        len(histories),
        len(keys),
        figsize=(4.5 * len(keys), 2.8 * len(histories)),
        squeeze=False,
    )
    for row, (name, h) in zip(axes, histories.items()):
        for ax, key in zip(row, keys):
            epochs = np.arange(1, len(h["train_" + key]) + 1)
            ax.plot(epochs, h["train_" + key], label="training")
            ax.plot(epochs, h["valid_" + key], label="validation")
            ax.set_title(
                f"{name}: {'accuracy' if key == 'acc' else 'average cross-entropy'}",
                fontsize=10,
            )
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def conv_filters(W, columns=6, size=1.0):
    """A convolution layer's filters W (k x k x 1 x F), each drawn upright like the
    images it reads (stored rows are transposed), on one colour scale symmetric about 0
    (red positive, blue negative), which a colour bar gives."""
    F = W.shape[3]
    rows = int(np.ceil(F / columns))
    fig, axes = plt.subplots(
        rows, columns, figsize=(columns * size, rows * size), squeeze=False
    )
    limit = np.abs(W).max()
    for f, ax in enumerate(axes.flat):
        ax.axis("off")
        if f < F:
            shown = ax.imshow(W[:, :, 0, f].T, cmap="RdBu_r", vmin=-limit, vmax=limit)
            ax.set_title(f"filter {f + 1}", fontsize=8)
    fig.colorbar(shown, ax=axes, shrink=0.8, pad=0.02, label="weight")
    return fig


def confusion_matrix(true, predicted, classes=36):
    """counts[i, j]: how many samples of true class i were predicted as class j."""
    counts = np.zeros((classes, classes), dtype=int)
    np.add.at(counts, (true, predicted), 1)
    return counts


def plot_confusion(counts):
    """The confusion matrix with A-Z, 0-9 on both axes: rows true, columns predicted;
    every cell that is not 0 prints its count, and a colour bar gives the scale."""
    fig, ax = plt.subplots(figsize=(9, 8))
    shown = ax.imshow(counts, cmap="Blues")
    fig.colorbar(shown, ax=ax, shrink=0.8, pad=0.02, label="images")
    for i, j in zip(*np.nonzero(counts)):
        dark = counts[i, j] > 0.6 * counts.max()
        ax.text(
            j,
            i,
            counts[i, j],
            ha="center",
            va="center",
            fontsize=5,
            color="white" if dark else "black",
        )
    ticks = np.arange(len(CLASSES))
    ax.set_xticks(ticks, list(CLASSES), fontsize=7)
    ax.set_yticks(ticks, list(CLASSES), fontsize=7)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    fig.tight_layout()
    return fig


def photo_axes(shapes, width=11):
    """A figure with one axes per image of these shapes (H, W, ...), in their order:
    an image at least 2.5 times as wide as tall gets a row of its own, the others share
    rows two by two, so that none is drawn as a thin strip. Returns (fig, axes)."""
    rows, pair = [], []
    for k, (h, w) in enumerate(shape[:2] for shape in shapes):
        if w >= 2.5 * h:
            rows.append(([str(k), str(k)], h / w))
        else:
            pair.append((str(k), h / w))
            if len(pair) == 2:
                rows.append(([pair[0][0], pair[1][0]], max(pair[0][1], pair[1][1]) / 2))
                pair = []
    if pair:
        rows.append(([pair[0][0], "."], pair[0][1] / 2))
    heights = [ratio for _, ratio in rows]
    fig, axes = plt.subplot_mosaic(
        [names for names, _ in rows],
        figsize=(width, width * sum(heights) + 0.4 * len(rows)),
        height_ratios=heights,
    )
    return fig, [axes[str(k)] for k in range(len(shapes))]


def draw_boxes(ax, image, boxes, color="red"):
    """Show image on ax with rectangles for boxes given as [y1, x1, y2, x2]."""
    ax.imshow(image, cmap="gray")
    for y1, x1, y2, x2 in boxes:
        ax.add_patch(
            Rectangle(
                (x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=color, linewidth=1
            )
        )
    ax.axis("off")


def save_boxes(image, lines, path):
    """Save image with the boxes of every line drawn on it as a PNG (no metadata from
    the input), atomically."""
    fig, ax = plt.subplots(figsize=(10, 10 * image.shape[0] / image.shape[1]))
    draw_boxes(ax, image, [b for line in lines for b in line])
    fig.tight_layout()
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=100, metadata={"Software": None})
    finally:
        plt.close(fig)
