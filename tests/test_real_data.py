"""Real handwriting (EMNIST in the NIST36 format) and the four course photos.

These read the folder named by HW5_REAL_DATA and skip, saying why, without it.
"""
import json

import numpy as np
import pytest

from hwlib import data, models, text, train
from test_data import assert_upright


@pytest.fixture(scope="module")
def emnist(real_data):
    return data.Source("course", real_data / "emnist36")


def test_the_loader_reads_real_handwriting_in_the_course_format(emnist):
    for split, per_class in [("train", 230), ("valid", 70), ("test", 50)]:
        x, y = data.load_nist36(split, emnist)
        assert x.shape == (36 * per_class, 1024) and y.shape == (36 * per_class, 36)
        np.testing.assert_array_equal(y.sum(axis=0), per_class)
        images = x.reshape(-1, 32, 32)
        assert images[:, 0, :].mean() > 0.95  # white paper at the border, dark ink
    assert_upright(x, y)


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
def classifier(emnist, tmp_path_factory):
    return models.nist36_classifier(source=emnist)


def test_q3_network_reaches_80_percent_on_real_handwriting(emnist, classifier):
    params, history = classifier
    assert len(history["valid_acc"]) == 50
    valid_acc = train.evaluate_classifier(params, *data.load_nist36("valid", emnist))[1]
    test_acc = train.evaluate_classifier(params, *data.load_nist36("test", emnist))[1]
    assert valid_acc >= 0.80, valid_acc
    assert test_acc >= 0.78, test_acc


def test_q5_reads_the_course_photos(real_data, emnist, classifier):
    params, _ = classifier
    style = text.CropStyle.from_training(data.load_nist36("train", emnist)[0])
    for photo in data.load_photos(data.Source("course", real_data)):
        reading = text.read_text(photo.image, params, style)
        assert text.char_accuracy(reading.lines, photo.lines) >= 0.90, (photo.name, reading.lines)
        assert len(reading.lines) == len(photo.lines), photo.name
        spaces = [text.same_spaces(a, b) for a, b in zip(reading.lines, photo.lines)]
        if photo.name in ("03_haiku.jpg", "04_deep.jpg"):
            assert all(spaces), (photo.name, reading.lines)
        elif photo.name == "01_list.jpg":
            assert sum(spaces) >= len(spaces) - 1, reading.lines


def test_q4_autoencoder_reconstructs_real_handwriting(emnist):
    params, losses = models.autoencoder(source=emnist)
    assert losses[-1] < 0.5 * losses[1]
    xv, _ = data.load_nist36("valid", emnist)
    psnr = train.psnr_per_image(xv, train.reconstruct(params, xv)).mean()
    assert psnr >= 17.0, psnr
