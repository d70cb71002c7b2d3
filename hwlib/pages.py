"""Photos of handwritten pages composed from real handwriting: Q5's built-in default.

Each character of a text is a different real image of its class, taken from a
NIST36-format set (the built-in test split, which no network trains on). The images
are scaled to the page's letter height, set on a baseline with uneven letter and word
spacing, and the page is then photographed: paper tone, ink colour, uneven light, a
slight rotation, blur and noise.
"""

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter, zoom


def compose_photos(texts, x, y, classes, seed):
    """[(name, RGB uint8 image, lines, rows)] for texts {name: lines}, written with x,
    y; rows are the indices in x of the images written, one per character of lines, in
    reading order.

    x, y are NIST36-format rows and one-hot labels, classes the character of each
    label column (data.CLASSES). Every character on every page is a
    different image, drawn at random without replacement; a class whose images are used
    up starts again from a new random order of the same images (the four course texts
    need at most 33 of a class, and the built-in test split has 50).
    """
    rng = np.random.default_rng(seed)
    labels = np.asarray(y).argmax(axis=1)
    pools = {c: [] for c in classes}
    used = []  # the rows of x that the pages take, in order

    def next_image(char):
        if not pools[char]:
            pools[char] = list(
                rng.permutation(np.flatnonzero(labels == classes.index(char)))
            )
        used.append(int(pools[char].pop()))
        return 1.0 - np.asarray(x[used[-1]]).reshape(32, 32).T  # upright ink

    photos = []
    for name, lines in texts.items():
        start = len(used)
        image = compose_page(lines, next_image, rng, is_list=name.startswith("01"))
        photos.append((name, image, list(lines), used[start:]))
    return photos


def compose_page(lines, next_image, rng, is_list=False):
    """One photo of lines of text; next_image(char) gives a 32x32 upright ink image.

    A digit that starts a list line (after the first) gets a dot after it, as on the
    course photos; the dot is not part of the text.
    """
    height = rng.uniform(40, 60)  # letter height in pixels
    letter_gap = rng.uniform(0.2, 0.45) * height
    word_gap = rng.uniform(1.1, 1.5) * height
    placed, x_max, baseline = [], 0.0, 0.0  # (top, left, ink) of every glyph
    for row, line in enumerate(lines):
        x = rng.uniform(0.8, 1.6) * height
        baseline += rng.uniform(1.9, 2.3) * height
        for w, word in enumerate(line.split()):
            for char in word:
                ink = glyph(next_image(char), height * rng.uniform(0.9, 1.1))
                top = baseline + rng.normal(0, 0.04) * height - ink.shape[0]
                placed.append((top, x, ink))
                x += ink.shape[1] + letter_gap * rng.uniform(0.6, 1.4)
            if is_list and row and w == 0 and word.isdigit():
                dot = glyph(np.pad(np.ones((3, 3)), 1), 0.12 * height)
                placed.append((baseline - dot.shape[0], x - 0.6 * letter_gap, dot))
            x += word_gap * rng.uniform(0.85, 1.15) - letter_gap
        x_max = max(x_max, x)
    canvas = np.zeros(
        (int(baseline + 1.2 * height), int(x_max + rng.uniform(0.8, 1.6) * height))
    )
    for top, left, ink in placed:
        y, x = int(round(top)), int(round(left))
        region = canvas[y : y + ink.shape[0], x : x + ink.shape[1]]
        np.maximum(region, ink[: region.shape[0], : region.shape[1]], out=region)
    return photograph(canvas, rng)


def glyph(ink, height):
    """The ink of one character, cropped to its strokes and scaled to height."""
    rows, cols = (
        np.flatnonzero(ink.max(axis=1) > 0.2),
        np.flatnonzero(ink.max(axis=0) > 0.2),
    )
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = min(height / ink.shape[0], 1.4 * height / ink.shape[1])
    return np.clip(zoom(ink, scale, order=1), 0, 1)


def photograph(ink, rng):
    """A photo of paper with this ink (H x W in [0, 1]) on it: RGB uint8."""
    h, w = ink.shape
    angle = rng.normal(0, 1.0)
    ink = np.asarray(
        Image.fromarray(ink.astype(np.float32)).rotate(angle, resample=Image.BILINEAR)
    )
    ink = gaussian_filter(ink, rng.uniform(0.6, 1.2))
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    light = 0.85 + 0.12 * np.cos(
        rng.uniform(0, 2 * np.pi) + rng.uniform(1, 3) * (xx + rng.uniform(-1, 1) * yy)
    )
    paper = np.array([0.93, 0.92, 0.88]) + rng.normal(0, 0.02, size=3)
    pen = rng.choice([[0.1, 0.1, 0.12], [0.1, 0.15, 0.45], [0.3, 0.3, 0.33]])
    img = (paper * (1 - ink[..., None]) + pen * ink[..., None]) * light[..., None]
    img += rng.normal(0, 0.02, size=img.shape)
    return np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)
