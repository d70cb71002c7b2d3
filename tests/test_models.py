"""The trained networks: the bars that Q3-Q5 must clear on the built-in set, and the cache."""

from dataclasses import replace

import numpy as np
import pytest

from hwlib import data, models, text, train


@pytest.mark.full
def test_q3_network_reaches_80_percent_on_real_handwriting(builtin):
    params, history = models.nist36_classifier(builtin)
    assert len(history["valid_acc"]) == 50
    valid_acc = train.evaluate_classifier(params, *data.load_nist36("valid", builtin))[
        1
    ]
    test_acc = train.evaluate_classifier(params, *data.load_nist36("test", builtin))[1]
    assert valid_acc >= 0.79, valid_acc
    assert test_acc >= 0.78, test_acc


@pytest.mark.full
def test_q4_autoencoder_reconstructs_real_handwriting(builtin):
    params, losses = models.autoencoder(source=builtin)
    assert losses[-1] < 0.5 * losses[1]
    xv, _ = data.load_nist36("valid", builtin)
    psnr = train.psnr_per_image(xv, train.reconstruct(params, xv)).mean()
    assert psnr >= 16.5, psnr


@pytest.mark.full
def test_the_reading_network_reaches_88_percent(builtin):
    # Measured over training seeds 0-4: 88.9 %, 89.1 %, 89.3 %, 89.4 % and 89.5 % on the
    # test split.
    params, history = models.reader_classifier(builtin)
    assert len(history["valid_acc"]) == models.READER_RECIPE.epochs
    assert (
        train.evaluate_classifier(params, *data.load_nist36("test", builtin))[1] >= 0.88
    )


@pytest.mark.full
def test_the_convolutional_network_reaches_89_5_percent_and_beats_the_reading_network(
    builtin,
):
    # Measured over training seeds 0-4: 91.9 %, 90.9 %, 91.6 %, 91.1 % and 90.7 % on the
    # test split, against the reading network's 88.9 %, 89.1 %, 89.3 %, 89.4 % and 89.5 %.
    params, history = models.cnn_classifier(builtin)
    assert len(history["valid_acc"]) == models.CNN_RECIPE.epochs
    test = data.load_nist36("test", builtin)
    acc = train.evaluate_classifier(params, *test)[1]
    assert acc >= 0.895, acc
    assert (
        acc > train.evaluate_classifier(models.reader_classifier(builtin)[0], *test)[1]
    )


@pytest.mark.full
@pytest.mark.parametrize(
    "network, bar", [("q3.1", 0.70), ("reader", 0.80), ("cnn", 0.82)]
)
def test_q5_reads_the_composed_photos(builtin, network, bar):
    # Measured over training seeds 0-4, the lowest page: 72.2 % (Q3.1), 85.2 % (reader),
    # 87.0 % (cnn).
    params, _ = models.READERS[network](builtin)
    photos = data.load_photos(builtin)
    read = text.read_photos(photos, params, text.CropStyle.default(builtin))
    for photo in photos:
        reading, (acc, lines_right, spaces) = read[photo.name]
        assert acc >= bar, (photo.name, reading.lines)
        assert lines_right, reading.lines
        if photo.spaces_meaningful:
            assert spaces == len(photo.lines), reading.lines


@pytest.mark.full
def test_the_cached_network_is_reused(builtin, monkeypatch):
    first, _ = models.nist36_classifier(builtin)
    calls = []
    monkeypatch.setattr(train, "train_classifier", lambda *a, **k: calls.append(1))
    again, _ = models.nist36_classifier(builtin)
    assert calls == []
    for k in first:
        np.testing.assert_array_equal(first[k], again[k])


def test_a_damaged_cache_file_is_rebuilt(isolated_cache):
    built = []

    def build():
        built.append(1)
        return {"W": np.arange(3.0)}

    path = isolated_cache / "net-key.npz"
    assert models.cached(path, build, allow_training=True)["W"].tolist() == [0, 1, 2]
    assert models.cached(path, build, allow_training=True)["W"].tolist() == [0, 1, 2]
    assert len(built) == 1
    path.write_bytes(b"truncated")
    assert models.cached(path, build, allow_training=True)["W"].tolist() == [0, 1, 2]
    assert len(built) == 2


def test_a_network_trained_with_other_blas_kernels_is_another_file(monkeypatch):
    """Other kernels train another network, so a cache from before the kernels changed
    is trained again, not loaded."""
    builtin = data.Source(data.BUILTIN)
    here = models.network_file("nist36", builtin)
    assert models.blas_kernels()  # known here: NumPy's OpenBLAS
    monkeypatch.setattr(models, "blas_kernels", lambda: "OtherKernels")
    assert models.network_file("nist36", builtin) != here


def test_with_training_off_a_missing_network_is_a_clear_error(
    isolated_cache, monkeypatch
):
    monkeypatch.setenv("HW5_TRAIN", "0")
    with pytest.raises(data.DataError, match="python -m hwlib train") as error:
        models.nist36_classifier(data.Source(data.BUILTIN))
    assert models.network_file("nist36", data.Source(data.BUILTIN)).name in str(
        error.value
    )
    assert not isolated_cache.exists()  # nothing trained, nothing written


def test_train_all_trains_the_missing_networks_in_parallel_as_one_process_would(
    isolated_cache, monkeypatch
):
    builtin = data.Source(data.BUILTIN)
    a = replace(models.NIST36_RECIPE, hidden=8, epochs=2)
    tiny = [
        ("tiny a", "nist36", a),
        ("tiny b", "nist36", replace(a, lr=0.01)),
        ("tiny a again", "nist36", a),
    ]
    monkeypatch.setattr(models, "book_networks", lambda: tiny)
    assert models.train_all(builtin, workers=2) == 2
    assert models.train_all(builtin, workers=2) == 0  # all cached now
    for _, _, recipe in tiny:
        assert models.network_file("nist36", builtin, recipe).is_file()
    # The workers' network is the one this process trains (one BLAS thread in both).
    saved, _ = models.nist36_classifier(builtin, tiny[1][2])
    models.network_file("nist36", builtin, tiny[1][2]).unlink()
    again, _ = models.nist36_classifier(builtin, tiny[1][2], allow_training=True)
    for k in saved:
        np.testing.assert_array_equal(saved[k], again[k])
