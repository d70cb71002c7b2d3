"""The book's results on the built-in synthetic data: the bars that Q2-Q5 must clear."""
import numpy as np
import pytest

from hwlib import data, models, text, train


@pytest.fixture(scope="module")
def synthetic():
    return data.Source("synthetic")


def test_q2_training_loop_reaches_the_handouts_targets():
    x, y = data.toy_data(seed=0)
    params, history = train.train_classifier(x, y, hidden=25, epochs=500, batch_size=5, lr=1e-3,
                                             reshuffle=False, seed=0, log_every=0)
    assert history["train_loss"][-1] * len(x) <= 35
    assert history["train_acc"][-1] >= 0.75


def test_q5_reads_the_synthetic_photos(synthetic):
    params, _ = models.nist36_classifier(source=synthetic)
    style = text.CropStyle.from_training(data.load_nist36("train", synthetic)[0])
    for photo in data.load_photos(synthetic):
        reading = text.read_text(photo.image, params, style)
        assert text.char_accuracy(reading.lines, photo.lines) >= 0.90, (photo.name, reading.lines)
        assert len(reading.lines) == len(photo.lines)
        if photo.spaces_meaningful:
            assert all(text.same_spaces(a, b) for a, b in zip(reading.lines, photo.lines)), reading.lines


def test_the_cached_network_is_reused(synthetic, monkeypatch):
    first, _ = models.nist36_classifier(source=synthetic)
    calls = []
    monkeypatch.setattr(train, "train_classifier", lambda *a, **k: calls.append(1))
    again, _ = models.nist36_classifier(source=synthetic)
    assert calls == []
    for k in first:
        np.testing.assert_array_equal(first[k], again[k])


def test_a_damaged_cache_file_is_rebuilt(isolated_cache):
    built = []

    def build():
        built.append(1)
        return {"W": np.arange(3.0)}
    assert models.cached("net", "key", build)["W"].tolist() == [0, 1, 2]
    assert models.cached("net", "key", build)["W"].tolist() == [0, 1, 2]
    assert len(built) == 1
    (isolated_cache / "net-key.npz").write_bytes(b"truncated")
    assert models.cached("net", "key", build)["W"].tolist() == [0, 1, 2]
    assert len(built) == 2


def test_psnr_per_image_matches_skimage_and_known_answers():
    from skimage.metrics import peak_signal_noise_ratio
    x = np.zeros((2, 4))
    out = np.array([[0.1] * 4, [0.01] * 4])  # per-image MSE 1e-2 and 1e-4
    np.testing.assert_allclose(train.psnr_per_image(x, out), [20.0, 40.0])
    rng = np.random.default_rng(0)
    x, out = rng.random((5, 1024)), rng.random((5, 1024)).astype(np.float32)
    expected = [peak_signal_noise_ratio(a, b.astype(np.float64), data_range=1.0) for a, b in zip(x, out)]
    np.testing.assert_allclose(train.psnr_per_image(x, out), expected, rtol=1e-12)
