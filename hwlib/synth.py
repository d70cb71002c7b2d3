"""The built-in synthetic default: NIST36-like characters and photos of handwritten pages.

Characters are pen strokes from the single-stroke Hershey vector fonts (sans and
roman simplex, slanted for italics), with per-sample affine jitter, wobbling strokes,
elastic distortion, pen width and blur. They are fitted into a 32x32 box like the
course images, dark ink on white paper (1.0), and stored transposed.
"""
import numpy as np
from HersheyFonts import HersheyFonts
from PIL import Image, ImageDraw
from scipy.ndimage import gaussian_filter

CLASSES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
FONTS = ("futural", "rowmans")  # Hershey sans simplex and roman simplex: single strokes
SUPERSAMPLE = 4


def _load_glyphs():
    glyphs = {}
    for name in FONTS:
        font = HersheyFonts()
        font.load_default_font(name)
        # Hershey coordinates: x to the right, y downwards, cap height from -12 to 9.
        glyphs[name] = {c: [np.array(s, dtype=float) for s in font.strokes_for_text(c)] for c in CLASSES}
    return glyphs


_GLYPHS = None


def glyph_strokes(char, rng):
    """One handwritten-looking instance of char: a list of (n, 2) point arrays, x right, y down.

    The cap height is about 1 and the baseline is at y = 0.
    """
    global _GLYPHS
    if _GLYPHS is None:
        _GLYPHS = _load_glyphs()
    strokes = _GLYPHS[FONTS[rng.integers(len(FONTS))]][char]
    angle = rng.normal(0, 0.08)
    slant = rng.choice([0.0, 0.25]) + rng.normal(0, 0.1)  # a quarter of italics' slant
    aspect = np.exp(rng.normal(0, 0.12))
    c, s = np.cos(angle), np.sin(angle)
    affine = np.array([[c, -s], [s, c]]) @ np.array([[aspect, -slant], [0.0, 1.0]]) / 21.0
    # Elastic distortion: a smooth random displacement field over the glyph.
    waves = rng.normal(0, 0.035, size=(2, 2)), rng.uniform(2, 5, size=(2, 2)), rng.uniform(0, 2 * np.pi, size=(2, 2))
    out = []
    for stroke in strokes:
        pts = _densify(stroke - [0, 9], step=1.0)
        pts = pts @ affine.T
        for axis in range(2):
            amp, freq, phase = (w[axis] for w in waves)
            pts[:, axis] += amp[0] * np.sin(freq[0] * pts[:, 1] + phase[0]) + amp[1] * np.sin(freq[1] * pts[:, 0] + phase[1])
        # Wobble: a slow random walk along the stroke, as an unsteady hand draws it.
        walk = np.cumsum(rng.normal(0, 0.012, size=pts.shape), axis=0)
        out.append(pts + gaussian_filter(walk, sigma=(2, 0), mode="nearest") - walk.mean(axis=0))
    return out


def _densify(stroke, step):
    """Points along the polyline, about step apart, so that distortions bend the strokes."""
    seg = np.diff(stroke, axis=0)
    n = np.maximum(np.ceil(np.hypot(*seg.T) / step).astype(int), 1)
    parts = [stroke[i] + seg[i] * np.linspace(0, 1, k, endpoint=False)[:, None] for i, k in enumerate(n)]
    return np.vstack(parts + [stroke[-1:]])


def draw_strokes(draw, strokes, width):
    """Draw strokes (in pixel coordinates) with a round pen of the given width."""
    r = width / 2
    for pts in strokes:
        draw.line([tuple(p) for p in pts], fill=255, width=max(int(round(width)), 1), joint="curve")
        for x, y in (pts[0], pts[-1]):
            draw.ellipse([x - r, y - r, x + r, y + r], fill=255)


def render_character(char, rng, size=32):
    """One size x size image of char: ink in [0, 1] (1 = ink), fitted and centred like NIST36."""
    strokes = glyph_strokes(char, rng)
    pts = np.vstack(strokes)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    extent = rng.uniform(0.62, 0.8) * size
    scale = extent / max(hi[1] - lo[1], 0.55 * (hi[0] - lo[0]), 1e-6)
    scale = min(scale, 0.85 * size / max(hi[0] - lo[0], 1e-6))
    centre = (lo + hi) / 2 + rng.normal(0, 0.02, size=2) * (hi - lo)
    big = size * SUPERSAMPLE
    pix = [((p - centre) * scale + size / 2) * SUPERSAMPLE for p in strokes]
    canvas = Image.new("L", (big, big), 0)
    draw_strokes(ImageDraw.Draw(canvas), pix, rng.uniform(2.2, 4.0) * SUPERSAMPLE)
    return np.asarray(canvas.reduce(SUPERSAMPLE), dtype=np.float32) / 255.0


def make_nist36(per_class, seed):
    """(x, y) in the NIST36 format: N x 1024 (transposed, ink dark on 1.0), N x 36 one-hot."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(CLASSES)), per_class)
    rng.shuffle(labels)
    ink = np.stack([render_character(CLASSES[k], rng) for k in labels])
    blur = rng.choice([0.4, 0.7, 1.0], size=len(ink))
    for sigma in np.unique(blur):
        ink[blur == sigma] = gaussian_filter(ink[blur == sigma], sigma=(0, sigma, sigma))
    ink = np.clip(ink / np.maximum(ink.max(axis=(1, 2), keepdims=True), 1e-6) * 1.1, 0, 1)
    x = (1.0 - ink).transpose(0, 2, 1).reshape(len(labels), -1)
    return x, np.eye(len(CLASSES), dtype=np.uint8)[labels]


def make_photos(texts, seed):
    """Photographs of handwritten pages: [(name, RGB uint8 image, lines)] for texts {name: lines}.

    Each page has its own letter height, pen and paper; letters vary in size, baseline
    and spacing, words are separated by wider gaps, and the photo adds uneven lighting,
    noise, a slight rotation and blur. A digit that starts a line of a list gets a dot
    after it, as on the course photos (the dot is not part of the text).
    """
    rng = np.random.default_rng(seed + 1000)
    return [(name, _photo(lines, rng, is_list=name.startswith("01")), list(lines)) for name, lines in texts.items()]


def _photo(lines, rng, is_list):
    height = rng.uniform(40, 60)  # cap height in pixels
    letter_gap = rng.uniform(0.35, 0.6) * height
    word_gap = rng.uniform(1.3, 1.7) * height
    pen = rng.uniform(0.06, 0.1) * height
    strokes, x_max, baseline = [], 0.0, 0.0
    for row, line in enumerate(lines):
        x = rng.uniform(0.8, 1.6) * height
        baseline += rng.uniform(2.1, 2.5) * height
        for w, word in enumerate(line.split()):
            for i, char in enumerate(word):
                size = height * rng.uniform(0.88, 1.12)
                glyph = [p * size + [x, baseline + rng.normal(0, 0.05) * height] for p in glyph_strokes(char, rng)]
                lo = min(g[:, 0].min() for g in glyph)
                glyph = [g - [lo - x, 0] for g in glyph]
                x = max(g[:, 0].max() for g in glyph) + letter_gap * rng.uniform(0.75, 1.3)
                strokes += glyph
                if is_list and row and w == 0 and word.isdigit():
                    dot = np.array([[x - 0.3 * letter_gap, baseline - 0.05 * height]])
                    strokes.append(np.vstack([dot, dot + 0.5]))
            x += word_gap * rng.uniform(0.85, 1.15) - letter_gap
        x_max = max(x_max, x)
    w = int(x_max + rng.uniform(0.8, 1.6) * height)
    h = int(baseline + 1.5 * height)
    canvas = Image.new("L", (w, h), 0)
    draw_strokes(ImageDraw.Draw(canvas), strokes, pen)
    canvas = canvas.rotate(rng.normal(0, 1.0), resample=Image.BILINEAR, fillcolor=0)
    ink = gaussian_filter(np.asarray(canvas, dtype=np.float32) / 255.0, rng.uniform(0.6, 1.2))
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    light = 0.85 + 0.12 * np.cos(rng.uniform(0, 2 * np.pi) + rng.uniform(1, 3) * (xx + rng.uniform(-1, 1) * yy))
    paper = np.array([0.93, 0.92, 0.88]) + rng.normal(0, 0.02, size=3)
    pen_colour = rng.choice([[0.1, 0.1, 0.12], [0.1, 0.15, 0.45], [0.35, 0.35, 0.37]])
    img = (paper * (1 - ink[..., None]) + pen_colour * ink[..., None]) * light[..., None]
    img += rng.normal(0, 0.02, size=img.shape)
    return np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)
