"""Q5: find handwritten characters in a photo, group them into lines and words, and read
them."""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from skimage.color import rgb2gray
from skimage.filters import threshold_otsu
from skimage.measure import label, regionprops
from skimage.transform import rescale, resize

from .data import CLASSES, load_nist36, working_scale
from .train import CROP_BLUR, classifier_probs

MIN_CONTRAST = 0.12  # ink must be at least this much darker than the paper around it


def to_gray(image):
    """Any RGB, RGBA or grey image (uint8 or float) as float grey in [0, 1]."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if (
        image.ndim not in (2, 3)
        or (image.ndim == 3 and image.shape[2] != 3)
        or min(image.shape[:2]) < 1
    ):
        raise ValueError(
            f"image must be H x W grey or H x W x 3/4 colour, not shape {image.shape}"
        )
    if image.dtype == np.uint8:
        image = image / 255.0
    image = image.astype(np.float64)
    return rgb2gray(image) if image.ndim == 3 else image


def findLetters(image):
    """Bounding boxes of the handwritten characters in image, and the binary ink image.

    Returns (bboxes, bw): bboxes is a list of [y1, x1, y2, x2] in the input's pixel
    coordinates (top-left inclusive, bottom-right exclusive); bw is the binary image at
    the input's size, 1.0 for ink (white characters on black). Steps: grey, working
    resolution, paper brightness estimated and divided out (uneven lighting), denoise,
    threshold (Otsu, but never below MIN_CONTRAST), close small gaps in strokes, label
    connected components, and drop those that are small next to the typical character.
    """
    gray = to_gray(image)
    scale = working_scale(gray.shape)  # read_image may have decoded it near this
    small = rescale(gray, scale, anti_aliasing=True) if scale < 1 else gray
    ink = ink_map(small)
    level = max(threshold_otsu(ink), MIN_CONTRAST) if ink.max() > ink.min() else np.inf
    mask = ndimage.binary_closing(ink > level, structure=np.ones((3, 3)))
    labels = label(mask, connectivity=2)
    regions = [r for r in regionprops(labels) if r.area >= 4]
    if not regions:
        return [], np.zeros(gray.shape)
    extents = np.array(
        [max(r.bbox[2] - r.bbox[0], r.bbox[3] - r.bbox[1]) for r in regions]
    )
    typical = np.median(extents[extents >= 0.5 * extents.max()])
    keep = [r for r, e in zip(regions, extents) if e >= 0.4 * typical]
    kept = np.isin(labels, [r.label for r in keep])
    bw = (
        resize(kept.astype(float), gray.shape, order=0)
        if scale < 1
        else kept.astype(float)
    )
    bboxes = merge_pieces([r.bbox for r in keep], typical)
    return [[int(v / scale) for v in box] for box in bboxes], bw


def merge_pieces(boxes, typical):
    """Merge boxes that are pieces of one character, such as the bar and stem of a T.

    Two boxes are pieces of one character when they are less than a quarter of a
    typical character apart in y, and overlap in x by more than half the narrower one's
    width, or at all if one of them is less than half a typical character tall (a bar
    or a hook that the pen left apart from the rest, such as the top of a 5). A merged
    box is checked again against all the others, since it may now meet more; a box
    that meets none is final. That is quadratic in the number of boxes.
    """
    boxes = [list(b) for b in boxes]
    i = 0
    while i < len(boxes):
        j = next(
            (
                j
                for j, other in enumerate(boxes)
                if j != i and one_character(boxes[i], other, typical)
            ),
            None,
        )
        if j is None:
            i += 1
            continue
        a, b = boxes[i], boxes.pop(j)
        i -= j < i  # box i moved up one place
        boxes[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
    return boxes


def one_character(a, b, typical):
    """Whether boxes a and b ([y1, x1, y2, x2]) are pieces of one character (see
    merge_pieces)."""
    overlap_x = min(a[3], b[3]) - max(a[1], b[1])
    gap_y = max(a[0], b[0]) - min(a[2], b[2])
    narrower = min(a[3] - a[1], b[3] - b[1])
    flat = min(a[2] - a[0], b[2] - b[0]) < 0.5 * typical
    overlapping = overlap_x > (0 if flat else 0.5 * narrower)
    return overlapping and gap_y < 0.25 * typical


def ink_map(gray):
    """How much darker than its surrounding paper each pixel is, in [0, 1]."""
    # The paper's brightness varies slowly: a grey closing removes the thin strokes,
    # and a wide blur smooths what is left.
    size = max(gray.shape) // 40 * 2 + 1
    paper = ndimage.grey_closing(ndimage.uniform_filter(gray, 3), size=(size, size))
    paper = ndimage.gaussian_filter(paper, size / 2)
    ink = 1 - ndimage.gaussian_filter(gray, 1.0) / np.maximum(paper, 1e-3)
    return np.clip(ink, 0, 1)


def group_lines(bboxes):
    """Group boxes into lines of text, top to bottom, each sorted left to right.

    Each box is linked to its nearest neighbour to the right whose vertical extent
    overlaps its own by at least half the smaller height; the chains of links are
    the lines. Being relative to the boxes themselves, this needs no pixel threshold,
    follows lines that slope, and copes with characters of different heights.
    """
    boxes = np.asarray(bboxes, dtype=float).reshape(-1, 4)
    parent = list(range(len(boxes)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    heights = boxes[:, 2] - boxes[:, 0]
    for i, (y1, x1, y2, x2) in enumerate(boxes):
        overlap = np.minimum(y2, boxes[:, 2]) - np.maximum(y1, boxes[:, 0])
        right = (boxes[:, 1] + boxes[:, 3] > x1 + x2) & (
            overlap >= 0.5 * np.minimum(heights[i], heights)
        )
        right[i] = False
        if right.any():
            j = np.flatnonzero(right)[np.argmin(boxes[right, 1])]
            parent[root(i)] = root(j)
    lines = {}
    for i in range(len(boxes)):
        lines.setdefault(root(i), []).append(i)
    lines = [sorted(idx, key=lambda i: boxes[i, 1]) for idx in lines.values()]
    return sorted(lines, key=lambda idx: np.median(boxes[idx, 0] + boxes[idx, 2]))


def absorb_strays(lines):
    """Lines of boxes (group_lines' lines, as boxes), with no line that is only a stray:
    one piece less than half the page's median character height tall.

    A stray that overlaps the column of a character less than a median height away
    (the detached stroke of a 4, say) joins that character's box, the nearest in y;
    else one that lies within another line's vertical span (a dot) is dropped.
    """
    heights = [b[2] - b[0] for line in lines for b in line]
    if not heights:
        return lines
    typical = np.median(heights)
    lines = [[list(b) for b in line] for line in lines]

    def is_stray(line):
        return len(line) == 1 and line[0][2] - line[0][0] < 0.5 * typical

    kept = [line for line in lines if not is_stray(line)]
    for ((y1, x1, y2, x2),) in filter(is_stray, lines):
        column = [
            b
            for line in kept
            for b in line
            if min(x2, b[3]) > max(x1, b[1]) and max(b[0] - y2, y1 - b[2]) < typical
        ]
        within = any(
            min(b[0] for b in line) <= (y1 + y2) / 2 <= max(b[2] for b in line)
            for line in kept
        )
        if column:
            b = min(column, key=lambda b: max(b[0] - y2, y1 - b[2]))
            b[:] = [min(b[0], y1), min(b[1], x1), max(b[2], y2), max(b[3], x2)]
        elif not within:
            kept.append([[y1, x1, y2, x2]])
    return sorted(kept, key=lambda line: np.median([b[0] + b[2] for b in line]))


def word_breaks(lines):
    """For each line of merged boxes, a list of booleans: a space before box k+1?

    The gaps between neighbouring boxes, divided by the page's median character height,
    fall into two groups, letter gaps and word gaps, which a 1-D two-means split
    separates. If the two groups are not clearly apart, no gap is a space.
    """
    heights = [b[2] - b[0] for line in lines for b in line]
    if not heights:
        return []
    h = np.median(heights)
    gaps = [
        np.array([(b[1] - a[3]) / h for a, b in zip(line, line[1:])]) for line in lines
    ]
    every = np.concatenate(gaps + [np.zeros(0)])
    threshold = np.inf
    if len(every) >= 2:
        cut = np.median(every)
        for _ in range(20):
            small, large = every[every <= cut], every[every > cut]
            if len(large) == 0 or len(small) == 0:
                break
            cut = (small.mean() + large.mean()) / 2
        if (
            len(large)
            and len(small)
            and large.mean() > max(2 * max(small.mean(), 0.1), 0.6)
        ):
            threshold = cut
    return [list(g > threshold) for g in gaps]


@dataclass
class CropStyle:
    """How training images frame a character: its largest extent and its stroke width,
    in pixels of the 32x32 box."""

    extent: float = 26.0
    stroke: float = 3.6
    blur: float = CROP_BLUR

    @classmethod
    def from_training(cls, x):
        """Measure the median framing of the NIST36-format images x (N x 1024)."""
        ink = x.reshape(-1, 32, 32)[:500] < 0.5
        extents, strokes = [], []
        for im in ink:
            rows, cols = np.flatnonzero(im.any(axis=1)), np.flatnonzero(im.any(axis=0))
            if len(rows):
                extents.append(max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1)
                strokes.append(im.sum() / max(thin(im).sum(), 1))
        return cls(float(np.median(extents)), float(np.median(strokes)))

    @classmethod
    def default(cls, source=None):
        """The framing of the source's training images, which the networks learned."""
        return cls.from_training(load_nist36("train", source)[0])


# A pixel's 8 neighbours as (dy, dx), clockwise from the one above.
RING = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]


def thin(mask):
    """The one-pixel-wide skeleton of a binary mask, by Zhang and Suen's thinning.

    Each pass removes, in two half-steps that each look at the mask as it was, the
    border pixels whose removal keeps the shape connected: those with 2 to 6 ink
    neighbours, exactly one white-to-ink change around them, and (first half-step)
    not both a right and a bottom neighbour with a top or left one, or (second) the
    mirror of that. The book's drawing page (book/_static/try-networks.js) thins in
    the same way.
    """
    ink = np.pad(np.asarray(mask, dtype=bool), 1)
    rows, cols = ink.shape
    while True:
        removed = False
        for half in (0, 1):
            ring = [
                ink[1 + dy : rows - 1 + dy, 1 + dx : cols - 1 + dx] for dy, dx in RING
            ]
            n, _, e, _, s, _, w, _ = ring
            count = sum(r.astype(np.uint8) for r in ring)
            changes = sum(
                (~a & b).astype(np.uint8) for a, b in zip(ring, ring[1:] + ring[:1])
            )
            if half == 0:
                keep_shape = ~(n & e & s) & ~(e & s & w)
            else:
                keep_shape = ~(n & e & w) & ~(n & s & w)
            centre = ink[1:-1, 1:-1]
            remove = centre & (count >= 2) & (count <= 6) & (changes == 1) & keep_shape
            if remove.any():
                centre[remove] = False  # a view: ink itself changes
                removed = True
        if not removed:
            return ink[1:-1, 1:-1]


def prepare_crop(mask, style):
    """One character's binary mask as a NIST36-style row: framed, thickened, dark on
    white, transposed."""
    stroke = mask.sum() / max(thin(mask).sum(), 1)  # in the mask's pixels
    grow = (style.stroke * max(mask.shape) / style.extent - stroke) / 2
    if grow > 0.5:  # thicken thin pen strokes by exactly grow pixels on each side
        mask = np.pad(mask, int(np.ceil(grow)))
        mask = ndimage.distance_transform_edt(~mask) <= grow
    scale = style.extent / max(mask.shape)
    small = resize(
        mask.astype(float),
        (max(round(mask.shape[0] * scale), 1), max(round(mask.shape[1] * scale), 1)),
        anti_aliasing=True,
    )
    canvas = np.zeros((32, 32))
    sh, sw = min(small.shape[0], 32), min(small.shape[1], 32)
    top, left = (32 - sh) // 2, (32 - sw) // 2
    canvas[top : top + sh, left : left + sw] = small[:sh, :sw]
    canvas = np.clip(ndimage.gaussian_filter(canvas, style.blur), 0, 1)
    return (1 - canvas).T.reshape(-1)


@dataclass
class Reading:
    """What read_text found: the text lines, and per line the boxes and the crops."""

    lines: list
    boxes: list
    crops: list


def read_text(image, params, style):
    """Read the handwriting in image with the classifier params; crops framed like
    style."""
    bboxes, bw = findLetters(image)
    lines = absorb_strays([[bboxes[i] for i in line] for line in group_lines(bboxes)])
    breaks = word_breaks(lines)
    text, crops = [], []
    for line, spaces in zip(lines, breaks):
        rows = np.stack(
            [prepare_crop(bw[y1:y2, x1:x2] > 0.5, style) for y1, x1, y2, x2 in line]
        )
        probs = classifier_probs(params, rows)
        starts = [0] + [k + 1 for k, space in enumerate(spaces) if space] + [len(rows)]
        words = [
            "".join(CLASSES[k] for k in decode_word(probs[a:b]))
            for a, b in zip(starts, starts[1:])
        ]
        text.append(" ".join(words))
        crops.append(rows)
    return Reading(text, lines, crops)


# A word of one character is a digit or one of the one-letter English words.
ONE_CHARACTER_WORDS = np.array([c.isdigit() or c in "AI" for c in CLASSES])
# The letters and digits that NIST's writers draw alike: only the word decides them.
LOOKALIKES = {"O": "0", "I": "1", "S": "5", "Z": "2"}
LOOK_ALIKE = np.array([c in LOOKALIKES or c in LOOKALIKES.values() for c in CLASSES])
# A word of several characters is letters unless its glyphs make digits this many times
# likelier: "IS", whose both glyphs could be digits, is read as a word, not as 15.
LETTER_ODDS = 3.0


def decode_word(probs, sure=0.9):
    """The classes of one word's characters, read as letters or digits.

    The whole word decides its kind: the product over its characters of the letters'
    total probability, against that of the digits', with odds of LETTER_ODDS for
    letters in a word of several characters. Each character takes its most probable
    class of that kind, unless the network is sure (probability above sure) of a class
    of the other kind that is not one of the LOOKALIKES (221B keeps its B; TO is not
    read T0, however sure the network is of the 0). A word of one character can only be
    a digit, A or I: the other letters are ruled out first (6 is not read as G).
    """
    if len(probs) == 1:
        probs = probs * ONE_CHARACTER_WORDS
        odds = 1.0
    else:
        odds = LETTER_ODDS
    letters = np.log(probs[:, :26].sum(axis=1) + 1e-12).sum() + np.log(odds)
    digits = np.log(probs[:, 26:].sum(axis=1) + 1e-12).sum()
    kind = (
        probs[:, :26].argmax(axis=1)
        if letters >= digits
        else 26 + probs[:, 26:].argmax(axis=1)
    )
    best = probs.argmax(axis=1)
    return np.where((probs.max(axis=1) > sure) & ~LOOK_ALIKE[best], best, kind)


def align(want, got):
    """The character errors of got against want, along a Levenshtein alignment of the
    two strings: (true, read) pairs, with "" for a missed or an extra character."""
    cost = np.zeros((len(want) + 1, len(got) + 1), dtype=int)
    cost[:, 0], cost[0, :] = np.arange(len(want) + 1), np.arange(len(got) + 1)
    for i in range(1, len(want) + 1):
        for j in range(1, len(got) + 1):
            cost[i, j] = min(
                cost[i - 1, j] + 1,
                cost[i, j - 1] + 1,
                cost[i - 1, j - 1] + (want[i - 1] != got[j - 1]),
            )
    errors, i, j = [], len(want), len(got)
    while i or j:
        if i and j and cost[i, j] == cost[i - 1, j - 1] + (want[i - 1] != got[j - 1]):
            if want[i - 1] != got[j - 1]:
                errors.append((want[i - 1], got[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i, j] == cost[i - 1, j] + 1:
            errors.append((want[i - 1], ""))
            i -= 1
        else:
            errors.append(("", got[j - 1]))
            j -= 1
    return errors[::-1]


def edit_distance(a, b):
    """Levenshtein distance between strings a and b: the errors of their alignment."""
    return len(align(a, b))


def misreadings(lines, truth):
    """The character errors of a reading, spaces ignored (see align)."""
    got, want = "".join(lines).replace(" ", ""), "".join(truth).replace(" ", "")
    return align(want, got)


def char_accuracy(lines, truth):
    """1 - edit distance / length, over all lines joined, with spaces ignored."""
    got, want = "".join(lines).replace(" ", ""), "".join(truth).replace(" ", "")
    return 1 - edit_distance(got, want) / max(len(want), 1)


def read_photos(photos, params, style):
    """{photo name: (its Reading, its score)} for data.Photo pages, read with params;
    the score (see score) is None where the true lines are not known."""
    results = {}
    for photo in photos:
        reading = read_text(photo.image, params, style)
        known = photo.lines is not None
        results[photo.name] = (
            reading,
            score(reading.lines, photo.lines) if known else None,
        )
    return results


def score(lines, truth):
    """(character accuracy, whether the number of lines is right, how many lines have
    their words of the right lengths) of a reading against the true lines."""
    lines_right = len(lines) == len(truth)
    spaces = sum(same_spaces(a, b) for a, b in zip(lines, truth)) if lines_right else 0
    return char_accuracy(lines, truth), lines_right, spaces


def same_spaces(line, truth):
    """True if line splits into words of the same lengths as truth (letters may
    differ)."""
    return [len(w) for w in line.split()] == [len(w) for w in truth.split()]
