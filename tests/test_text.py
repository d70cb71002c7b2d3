"""Q5's reader: detection, lines, words, crops and scoring, on images with known answers."""

import numpy as np
import pytest
from PIL import Image, ImageDraw

from hwlib import data, pages, text
from hwlib.text import (
    absorb_strays,
    decode_word,
    edit_distance,
    findLetters,
    group_lines,
    merge_pieces,
    one_character,
    prepare_crop,
    same_spaces,
    word_breaks,
)
from hwlib.train import init_classifier


def page_with_blocks(blocks, shape=(300, 500), ink=40, paper=230):
    """A grey page with dark filled rectangles [y1, x1, y2, x2]: each one 'character'."""
    img = Image.new("L", shape[::-1], paper)
    draw = ImageDraw.Draw(img)
    for y1, x1, y2, x2 in blocks:
        draw.rectangle([x1, y1, x2 - 1, y2 - 1], fill=ink)
    return np.asarray(img)


def test_blank_pages_have_no_letters():
    for image in [
        np.full((200, 300, 3), 255, np.uint8),
        np.full((50, 60), 0.8),
        np.random.default_rng(0).normal(0.8, 0.01, size=(200, 300)).clip(0, 1),
    ]:
        boxes, bw = findLetters(image)
        assert boxes == []
        assert bw.shape == image.shape[:2] and not bw.any()


def test_reading_a_blank_page_gives_no_text():
    params = init_classifier(1024, 64, 36, seed=0)
    reading = text.read_text(
        np.full((300, 400, 3), 240, np.uint8), params, text.CropStyle()
    )
    assert reading.lines == [] and reading.boxes == [] and reading.crops == []


def test_finds_each_character_and_drops_specks():
    blocks = [
        [50, 40, 90, 60],
        [50, 80, 90, 105],
        [52, 130, 88, 150],
        [150, 40, 190, 62],
    ]
    image = page_with_blocks(blocks + [[86, 112, 89, 115]])  # a dot after a character
    boxes, bw = findLetters(image)
    assert sorted(boxes) == sorted(blocks)
    assert bw.dtype == float and set(np.unique(bw)) == {0.0, 1.0}
    assert bw[60, 50] == 1.0 and bw[10, 10] == 0.0  # white ink on black


def test_merge_pieces_joins_the_pieces_of_a_character_and_no_neighbours():
    bar, stem = [10, 10, 14, 40], [15, 23, 50, 27]  # a T drawn in two strokes
    hook = [2, 62, 8, 72]  # the top of a 5, apart from its body
    five = [10, 58, 50, 80]
    neighbour = [10, 85, 50, 110]  # the next character, 5 pixels on
    boxes = merge_pieces([bar, neighbour, stem, five, hook], typical=40)
    assert sorted(boxes) == [[2, 58, 50, 80], [10, 10, 50, 40], neighbour]
    # A long flat bar that overlaps its body by 6 pixels only (a 5 in the built-in set)
    body, wide_bar = [422, 214, 458, 241], [418, 235, 429, 263]
    assert merge_pieces([body, wide_bar], typical=40) == [[418, 214, 458, 263]]


@pytest.mark.parametrize("seed", range(5))
def test_merge_pieces_ends_with_no_two_pieces_of_one_character(seed):
    rng = np.random.default_rng(seed)
    y, x = rng.integers(0, 200, (2, 40))
    h, w = rng.integers(3, 40, (2, 40))
    pieces = np.stack([y, x, y + h, x + w], axis=1).tolist()
    boxes = merge_pieces(pieces, typical=30)
    inside = [
        [
            k
            for k, b in enumerate(boxes)
            if all(np.less_equal(b[:2], p[:2])) and all(np.less_equal(p[2:], b[2:]))
        ]
        for p in pieces
    ]
    assert all(len(k) >= 1 for k in inside)  # every piece is in a box
    for k, b in enumerate(boxes):  # each box is the union of its pieces
        mine = np.array([p for p, ks in zip(pieces, inside) if k in ks])
        assert b == [*mine[:, :2].min(axis=0), *mine[:, 2:].max(axis=0)]
    for i, a in enumerate(boxes):
        assert not any(one_character(a, b, 30) for b in boxes[i + 1 :])


def test_accepts_any_image_type():
    gray = page_with_blocks([[50, 40, 90, 60], [50, 80, 90, 105]])
    rgb = np.stack([gray] * 3, axis=2)
    rgba = np.concatenate([rgb, np.full(gray.shape + (1,), 255, np.uint8)], axis=2)
    expected = findLetters(gray)[0]
    assert len(expected) == 2
    for image in [
        rgb,
        rgba,
        gray / 255.0,
        rgb.astype(np.float32) / 255,
        gray[..., None],
    ]:
        assert findLetters(image)[0] == expected
    with pytest.raises(ValueError, match="shape"):
        findLetters(np.zeros((4, 4, 2)))


def test_large_photos_are_processed_at_working_resolution_and_boxes_come_back_in_full_size():
    blocks = [[400, 300, 700, 500], [400, 700, 700, 900]]
    boxes, bw = findLetters(page_with_blocks(blocks, shape=(2400, 3200)))
    assert bw.shape == (2400, 3200)
    for got, want in zip(sorted(boxes), blocks):
        assert np.abs(np.subtract(got, want)).max() <= 4


def test_lines_that_slope_and_characters_of_different_heights():
    boxes = []
    for top in [100, 220]:
        for k in range(12):
            h = 40 if k % 3 else 60  # tall and short characters
            y = top + 4 * k  # the line slopes down by 44 px over its length
            boxes.append([y, 50 + 45 * k, y + h, 80 + 45 * k])
    order = np.random.default_rng(0).permutation(len(boxes))
    lines = group_lines([boxes[i] for i in order])
    assert [sorted(order[i] for i in line) for line in lines] == [
        list(range(12)),
        list(range(12, 24)),
    ]
    for line in lines:  # left to right
        xs = [boxes[order[i]][1] for i in line]
        assert xs == sorted(xs)


def composed_page(lines, seed=0):
    """A photo of lines written with the built-in test split's images."""
    x, y = data.builtin_nist36("test")
    labels = y.argmax(axis=1)
    rng = np.random.default_rng(seed)

    def next_image(char):
        k = rng.choice(np.flatnonzero(labels == data.CLASSES.index(char)))
        return 1.0 - x[k].reshape(32, 32).T

    return pages.compose_page(lines, next_image, rng)


def test_a_detached_stroke_joins_its_character_not_a_line_of_its_own():
    page = composed_page(["HELLO THERE", "GOOD DAY"]).copy()
    boxes = findLetters(page)[0]
    assert len(group_lines(boxes)) == 2
    h = int(np.median([b[2] - b[0] for b in boxes]))
    y1, x1, y2, x2 = max(boxes, key=lambda b: b[0])  # a character of the last line
    top, bottom = y2 + h * 35 // 100, y2 + h * 80 // 100
    page[top:bottom, x1 + 2 : x1 + 8] = 30  # a stroke below it, as a 4's can be

    boxes = findLetters(page)[0]
    pieces = [[boxes[i] for i in line] for line in group_lines(boxes)]
    assert len(pieces) == 3  # without absorb_strays, the stroke is a line
    lines = absorb_strays(pieces)
    assert [len(line) for line in lines] == [10, 7]
    grown = [b for b in lines[1] if b[1] <= x1 + 2 < b[3] and b[0] < y2]
    assert len(grown) == 1 and grown[0][2] >= bottom - 3


def test_a_stray_within_a_line_is_dropped_and_one_far_from_text_kept():
    line = [[100, 40 * k, 140, 40 * k + 30] for k in range(5)]
    dot = [[130, 400, 136, 406]]  # in the line's span, past its end, in no column
    far = [[300, 10, 315, 25]]  # far below: its own line
    assert absorb_strays([line, dot]) == [line]
    assert absorb_strays([line, far]) == [line, far]
    assert absorb_strays([]) == []


def test_word_breaks_follow_the_gaps_relative_to_the_page():
    def line(gaps, h=40):
        boxes, x = [], 0
        for g in gaps + [0]:
            boxes.append([0, x, h, x + 30])
            x += 30 + g
        return boxes

    wide_letters = line(
        [25, 30, 80, 22, 28, 90, 26]
    )  # letters far apart, words farther
    no_words = line([27, 24, 30, 26])
    assert word_breaks([wide_letters, no_words]) == [
        [False, False, True, False, False, True, False],
        [False] * 4,
    ]
    assert word_breaks([line([20, 21, 19, 22])]) == [[False] * 4]


def test_decode_word_reads_whole_words_as_letters_or_digits():
    def probs(*pairs):
        p = np.full((len(pairs), 36), 1e-3)
        for row, spec in zip(p, pairs):
            for char, value in spec.items():
                row[data.CLASSES.index(char)] = value
        return p / p.sum(axis=1, keepdims=True)

    word = probs({"T": 0.9}, {"0": 0.5, "O": 0.4}, {"D": 0.8})
    assert "".join(data.CLASSES[k] for k in decode_word(word)) == "TOD"
    number = probs({"1": 0.8}, {"Z": 0.5, "2": 0.4}, {"3": 0.9})
    assert "".join(data.CLASSES[k] for k in decode_word(number)) == "123"

    def read(*pairs):
        return "".join(data.CLASSES[k] for k in decode_word(probs(*pairs)))

    # Two look-alike glyphs, each a little likelier a digit: a word, not a number.
    assert read({"1": 0.55, "I": 0.44}, {"5": 0.5, "S": 0.45}) == "IS"
    assert read({"1": 0.9, "I": 0.05}, {"5": 0.9, "S": 0.05}) == "15"  # clearly digits
    # However sure the network is of a 0, the word decides a look-alike...
    assert read({"T": 0.9}, {"0": 0.97, "O": 0.02}) == "TO"
    assert read({"O": 0.6, "0": 0.35}, {"N": 0.9}) == "ON"
    # ... but not a glyph that no digit looks like.
    assert read({"2": 0.9}, {"2": 0.9}, {"1": 0.8}, {"B": 0.97, "8": 0.02}) == "221B"
    # A word of one character is a digit, A or I, even when another letter leads.
    for spec, read in [
        ({"G": 0.95, "6": 0.04}, "6"),
        ({"A": 0.6, "4": 0.3}, "A"),
        ({"I": 0.5, "1": 0.4}, "I"),
        ({"Z": 0.7, "2": 0.2}, "2"),
    ]:
        assert data.CLASSES[decode_word(probs(spec))[0]] == read, spec


def test_thinning_leaves_a_connected_one_pixel_line_inside_the_ink():
    from scipy import ndimage

    bar = np.zeros((20, 70), bool)
    bar[6:15, 5:65] = True  # 9 px thick, 60 px long
    skeleton = text.thin(bar)
    assert not (skeleton & ~bar).any()
    assert (skeleton[:, 12:58].sum(axis=0) == 1).all()  # one pixel per column
    assert 45 <= skeleton.sum() <= 60
    # Strokes of known width: the skeleton keeps the pieces, and the ink's area over
    # its length is the width.
    rng = np.random.default_rng(0)
    for width in [3, 5, 9]:
        strokes = Image.new("1", (120, 120))
        pen = ImageDraw.Draw(strokes)
        for _ in range(3):
            pen.line([tuple(rng.integers(10, 110, 2)) for _ in range(3)], 1, width)
        ink = np.array(strokes)
        skeleton = text.thin(ink)
        eight = np.ones((3, 3))
        assert ndimage.label(skeleton, eight)[1] == ndimage.label(ink, eight)[1]
        assert abs(ink.sum() / skeleton.sum() - width) < 0.4 * width  # ends, crossings


def test_prepared_crops_look_like_training_images():
    mask = np.ones((100, 4), bool)  # a box around a thin vertical bar, 4 px wide
    style = text.CropStyle(extent=26, stroke=3.6)
    row = prepare_crop(mask, style)
    assert row.shape == (1024,)
    img = row.reshape(32, 32).T  # upright again
    assert img[0].min() > 0.99 and img[:, 0].min() > 0.99  # paper margin
    ink = img < 0.5
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    assert 24 <= rows[-1] - rows[0] + 1 <= 28  # the extent of training images
    assert 2 <= cols[-1] - cols[0] + 1 <= 5  # stroke thickened to about 3.6 px
    assert (
        abs((rows[0] + rows[-1]) / 2 - 15.5) <= 1
        and abs((cols[0] + cols[-1]) / 2 - 15.5) <= 1
    )


def test_misreadings_follow_the_alignment():
    assert text.misreadings(["TO D0 LIST"], ["TO DO LIST"]) == [("O", "0")]
    assert text.misreadings(["HAUE", "NAP"], ["HAVE", "A NAP"]) == [
        ("V", "U"),
        ("A", ""),
    ]
    assert text.misreadings(["ABXC"], ["ABC"]) == [("", "X")]
    assert text.misreadings(["SAME"], ["SAME"]) == []


def test_edit_distance_and_scores():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("sitting", "kitten") == 3
    assert edit_distance("DCAP", "DEEP") == 2 and edit_distance("", "") == 0
    assert edit_distance("", "abc") == 3 and edit_distance("abc", "abc") == 0
    assert text.char_accuracy(["TO D0 LIST"], ["TO DO LIST"]) == pytest.approx(
        1 - 1 / 8
    )
    assert text.char_accuracy([], ["AB"]) == 0.0
    assert same_spaces("T0 D0 LIST", "TO DO LIST") and not same_spaces(
        "TODO LIST", "TO DO LIST"
    )
