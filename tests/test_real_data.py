"""The four course photos, read by the network trained on the built-in real handwriting.

These read the folder named by HW5_REAL_DATA and skip, saying why, without it.
"""

import json

import pytest

from hwlib import data, models, text


def test_course_photos_match_their_checksums_and_ground_truth(real_data):
    truth = json.loads((real_data / "images" / "ground_truth.json").read_text())
    assert truth == data.PHOTO_TEXT
    for name, digest in data.PHOTO_SHA256.items():
        assert data.sha256(real_data / "images" / name) == digest
    photos = data.load_photos(data.Source("course", real_data))
    assert [p.name for p in photos] == list(data.PHOTO_SHA256)
    assert all(p.lines == data.PHOTO_TEXT[p.name] for p in photos)
    assert photos[3].image.shape == (3024, 4032, 3)


@pytest.fixture(scope="module")
def builtin():
    return data.Source(data.BUILTIN)


def test_q5_reads_the_course_photos_with_the_q31_network(real_data, builtin):
    params, _ = models.nist36_classifier(source=builtin)
    style = text.CropStyle.from_training(data.load_nist36("train", builtin)[0])
    for photo in data.load_photos(data.Source("course", real_data)):
        reading = text.read_text(photo.image, params, style)
        assert text.char_accuracy(reading.lines, photo.lines) >= 0.85, (
            photo.name,
            reading.lines,
        )
        assert len(reading.lines) == len(photo.lines), photo.name
        spaces = [text.same_spaces(a, b) for a, b in zip(reading.lines, photo.lines)]
        if photo.spaces_meaningful:
            assert all(spaces), (photo.name, reading.lines)
