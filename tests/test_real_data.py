"""The four course photos, read by the network trained on the built-in real handwriting.

These read the folder named by HW5_REAL_DATA and skip, saying why, without it.
"""

import json

import pytest

from hwlib import data, models, text

# Builds, browsers, TeX or trained networks: not in make check.
pytestmark = pytest.mark.full


def test_course_photos_match_their_checksums_and_ground_truth(real_data):
    truth = json.loads((real_data / "images" / "ground_truth.json").read_text())
    assert truth == data.PHOTO_TEXT
    for name, digest in data.PHOTO_SHA256.items():
        assert data.sha256(real_data / "images" / name) == digest
    photos = data.load_photos(data.Source("course", real_data))
    assert [p.name for p in photos] == list(data.PHOTO_SHA256)
    assert all(p.lines == data.PHOTO_TEXT[p.name] for p in photos)
    full = data.read_image(real_data / "images" / "04_deep.jpg")
    assert full.shape == (3024, 4032, 3)
    # Q5 decodes them at the working size: half the size, straight from the JPEG data.
    assert photos[3].image.shape == (1512, 2016, 3)


def read_course_photos(real_data, params, builtin):
    """{name: (character accuracy, lines right, spaces right)} of the four course photos."""
    photos = data.load_photos(data.Source("course", real_data))
    read = text.read_photos(photos, params, text.CropStyle.default(builtin))
    scores = {}
    for photo in photos:
        reading, (acc, lines_right, spaces) = read[photo.name]
        scores[photo.name] = (
            acc,
            lines_right,
            spaces == len(photo.lines),
            reading.lines,
        )
    return scores


def assert_lines_and_spaces(scores):
    for name, (_, lines_right, spaces_right, lines) in scores.items():
        assert lines_right, (name, lines)
        if (
            name != "02_letters.jpg"
        ):  # a sheet of single characters: spaces mean nothing
            assert spaces_right, (name, lines)


def test_q5_reads_the_course_photos_with_the_q31_network(real_data, builtin):
    # Measured over training seeds 0-4: every photo 87.0 % or more.
    scores = read_course_photos(
        real_data, models.nist36_classifier(builtin)[0], builtin
    )
    assert all(acc >= 0.80 for acc, *_ in scores.values()), scores
    assert_lines_and_spaces(scores)


def test_q5_reads_the_course_photos_with_the_reading_network(real_data, builtin):
    # Measured over training seeds 0-4: every photo 95.7 % or more, mean 97.8 % or more.
    scores = read_course_photos(
        real_data, models.reader_classifier(builtin)[0], builtin
    )
    accuracies = [acc for acc, *_ in scores.values()]
    assert min(accuracies) >= 0.94 and sum(accuracies) / 4 >= 0.97, scores
    assert_lines_and_spaces(scores)


def test_q5_reads_the_course_photos_with_the_convolutional_network(real_data, builtin):
    # The default reader. Measured over training seeds 0-4: every photo 96.5 % or more
    # (97.2 % or more for seeds 0-2), mean 98.4 % or more.
    scores = read_course_photos(real_data, models.cnn_classifier(builtin)[0], builtin)
    accuracies = [acc for acc, *_ in scores.values()]
    assert min(accuracies) >= 0.95 and sum(accuracies) / 4 >= 0.975, scores
    assert_lines_and_spaces(scores)
