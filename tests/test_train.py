"""The pieces of hwlib.train's classifier loop, each against what it must do."""

import math

import numpy as np
import pytest

from hwlib import conv, data, train
from hwlib.train import Recipe, epoch_batches, learning_rate


def test_the_rate_is_constant_or_falls_along_a_half_cosine():
    flat = Recipe(hidden=4, epochs=10, batch_size=2, lr=0.2)
    assert [learning_rate(flat, e) for e in (0, 5, 9)] == [0.2, 0.2, 0.2]
    cosine = Recipe(hidden=4, epochs=10, batch_size=2, lr=0.2, anneal=True)
    assert learning_rate(cosine, 0) == 0.2
    assert learning_rate(cosine, 5) == pytest.approx(0.1)  # half way: half the rate
    assert learning_rate(cosine, 9) == pytest.approx(
        0.1 * (1 + math.cos(0.9 * math.pi))
    )
    rates = [learning_rate(cosine, e) for e in range(10)]
    assert all(a > b for a, b in zip(rates, rates[1:]))


def labelled_images(n=20, side=32, seed=0):
    """n random images, image i of class i (so a label names its image)."""
    x = np.random.default_rng(seed).random((n, side * side)).astype(np.float32)
    return x, np.eye(n, dtype=np.float32)


def rows_of(batches):
    xs = np.vstack([xb for xb, _ in batches])
    return xs, np.vstack([yb for _, yb in batches]).argmax(axis=1)


@pytest.mark.parametrize("reshuffle", [False, True])
def test_the_handouts_batches_cover_every_image_once_per_epoch(reshuffle):
    x, y = labelled_images()
    recipe = Recipe(hidden=4, epochs=3, batch_size=6, lr=0.1, reshuffle=reshuffle)
    batches_of = epoch_batches(x, y, recipe, np.random.default_rng(0))
    epochs = [batches_of(e) for e in range(3)]
    for batches in epochs:
        xs, labels = rows_of(batches)
        assert sorted(labels) == list(range(len(x)))
        np.testing.assert_array_equal(xs, x[labels])
        assert [len(xb) for xb, _ in batches] == [6, 6, 6, 2]
    same = rows_of(epochs[0])[1].tolist() == rows_of(epochs[1])[1].tolist()
    assert same != reshuffle  # drawn once, or anew every epoch


def test_shifted_images_keep_their_labels_and_move_by_at_most_shift():
    x, y = labelled_images()
    recipe = Recipe(hidden=4, epochs=2, batch_size=8, lr=0.1, shift=2)
    batches_of = epoch_batches(x, y, recipe, np.random.default_rng(1))
    padded = train.pad_images(x, 2)
    offsets = set()
    for epoch in range(2):
        xs, labels = rows_of(batches_of(epoch))
        assert sorted(labels) == list(range(len(x)))
        for row, label in zip(xs, labels):
            image = row.reshape(32, 32)
            found = [
                (dy, dx)
                for dy in range(5)
                for dx in range(5)
                if np.array_equal(padded[label, dy : dy + 32, dx : dx + 32], image)
            ]
            assert found, label  # its own image, moved within the margin
            offsets.update(found)
    assert len(offsets) > 1


def test_copies_are_drawn_with_their_labels_and_paper_at_zero_shifts_the_inputs():
    x, y = labelled_images(n=30)
    recipe = Recipe(
        hidden=4, epochs=1, batch_size=10, lr=0.1, copies=2, paper_at_zero=True
    )
    xs, labels = rows_of(epoch_batches(x, y, recipe, np.random.default_rng(2))(0))
    assert len(xs) == len(x) and xs.max() <= 0 and xs.min() >= -1  # x - 1
    # Drawn from the originals and two copies: an image that is an original carries
    # that original's label, and the others are copies.
    originals = {row.tobytes(): i for i, row in enumerate(x - np.float32(1))}
    found = [originals.get(row.tobytes()) for row in xs]
    assert [i for i in found if i is not None] == [
        label for i, label in zip(found, labels) if i is not None
    ]
    assert 0 < sum(i is not None for i in found) < len(x)


@pytest.mark.parametrize("binarized", [0.0, 1.0])
def test_binarized_copies_are_the_ones_drawn(binarized):
    # Grey images, below binarize's level: an original stays grey everywhere, a copy
    # keeps its grey centre unless it is binarized, which makes the centre full ink.
    n = 100
    x, y = np.full((n, 1024), 0.5, np.float32), np.eye(n, dtype=np.float32)
    recipe = Recipe(
        hidden=4, epochs=1, batch_size=50, lr=0.1, copies=1, binarized=binarized
    )
    xs, _ = rows_of(epoch_batches(x, y, recipe, np.random.default_rng(0))(0))
    centres = np.round(xs.reshape(-1, 32, 32)[:, 16, 16], 6)
    assert set(centres) == ({0.0, 0.5} if binarized else {0.5})


@pytest.mark.parametrize("binarized", [0.0, 0.5, 1.0])
def test_the_copies_images_are_binarized_with_the_chance_asked(binarized, monkeypatch):
    x, y = labelled_images(n=200)
    sizes, real = [], train.binarize
    monkeypatch.setattr(train, "binarize", lambda x: sizes.append(len(x)) or real(x))
    recipe = Recipe(
        hidden=4, epochs=1, batch_size=50, lr=0.1, copies=3, binarized=binarized
    )
    epoch_batches(x, y, recipe, np.random.default_rng(0))
    if binarized:  # of the 600 copied images; the originals are left alone
        assert len(sizes) == 1 and abs(sizes[0] - binarized * 600) <= 60, sizes
    else:
        assert sizes == []


def test_distorted_copies_drawn_again_are_the_same_and_move_the_random_state_on():
    x, _ = labelled_images(n=12)
    fresh = np.random.default_rng(5)
    expected = [train.distort(x, fresh) for _ in range(2)]
    after = fresh.random()  # the draw that comes next
    for _ in range(2):  # drawn, then given again from what the process kept
        rng = np.random.default_rng(5)
        copies = train.distorted_copies(x, 2, rng)
        for copy, want in zip(copies, expected):
            np.testing.assert_array_equal(copy, want)
        assert rng.random() == after
    other = train.distorted_copies(x, 2, np.random.default_rng(6))
    assert not np.array_equal(other[0], expected[0])  # another state: other copies


def test_a_recipe_refuses_a_chance_outside_0_to_1_or_without_copies():
    with pytest.raises(ValueError, match="binarized is a chance, 0 to 1, not 1.5"):
        Recipe(hidden=4, epochs=1, batch_size=8, lr=0.1, copies=2, binarized=1.5)
    with pytest.raises(ValueError, match="binarized needs copies"):
        Recipe(hidden=4, epochs=1, batch_size=8, lr=0.1, binarized=0.5)


def test_binarize_makes_ink_below_the_level_full_closes_small_gaps_and_blurs():
    image = np.ones((32, 32), np.float32)
    image[8:24, 8:15] = 0.55  # grey ink, below the level of 0.6: full ink
    image[8:24, 16:23] = 0.55  # a one-pixel gap (column 15) between two strokes
    image[2:5, 26:29] = 0.7  # light grey, above the level: paper
    image[:, 0:3] = 0.2  # a stroke along the image's edges keeps its ink there
    image[29:, 10:20] = 0.2
    out = train.binarize(image.reshape(1, 1024)).reshape(32, 32)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[12:20, 10:21], 0.0, atol=1e-6)  # the gap closed
    assert np.all(out[2:5, 26:29] == 1.0) and np.all(out[8:24, 30:] == 1.0)
    assert 0.1 < out[8, 12] < 0.9 and 0.1 < out[16, 7] < 0.9  # blurred edges
    assert out[:, 0].max() < 0.1 and out[31, 11:19].max() < 0.1


@pytest.mark.parametrize("channels", [(), (2, 3)])
def test_fold_paper_gives_the_same_outputs_on_the_images_as_they_are(channels):
    x, _ = labelled_images(n=5)
    recipe = Recipe(3, 1, 5, 0.1, paper_at_zero=True, conv=channels)
    params = train.init_classifier(x.shape[1], 3, 5, seed=0, conv=channels)
    first = "bconv1" if channels else "blayer1"
    params[first] += 0.3
    before = train.classifier_probs(params, x - 1)
    after = train.classifier_probs(train.fold_paper(dict(params), recipe), x)
    np.testing.assert_allclose(after, before, rtol=1e-4)


def test_the_convolutional_network_reads_many_rows_a_chunk_at_a_time():
    rows = train.CONV_ROWS + 45
    x = np.random.default_rng(6).random((rows, 1024))
    params = train.init_classifier(1024, 8, 36, seed=0, dtype=np.float64, conv=(2, 3))
    whole = conv.cnn_probs(dict(params), x)
    probs = train.classifier_probs(params, x)
    np.testing.assert_allclose(probs, whole, rtol=1e-10)
    _, windows, _ = params["cache_conv1"]  # the last chunk's: 45 images of 28 x 28
    assert windows.shape[0] == 45 * 28 * 28


def test_train_loop_takes_one_handout_step_per_batch():
    # Two epochs over fixed batches, against the handout's loop written out: forward,
    # cross-entropy, backward, then W -= lr * grad for every parameter.
    from hwlib import nn

    x, y = data.toy_data(seed=0)
    recipe = Recipe(hidden=5, epochs=2, batch_size=8, lr=0.01)
    params = train.init_classifier(x.shape[1], 5, y.shape[1], seed=0, dtype=np.float64)
    expected = {k: v.copy() for k, v in params.items()}
    batches = nn.get_random_batches(x, y, 8, rng=np.random.default_rng(0))
    epochs_asked = []
    history = train.train_loop(
        params, lambda epoch: epochs_asked.append(epoch) or batches, None, recipe
    )
    assert epochs_asked == [0, 1]
    losses, accuracies = [], []
    for _ in range(2):
        total = correct = 0.0
        for xb, yb in batches:
            h = nn.forward(xb, expected, "layer1", nn.sigmoid)
            probs = nn.forward(h, expected, "output", nn.softmax)
            loss, acc = nn.compute_loss_and_acc(yb, probs)
            total += loss
            correct += acc * len(xb)
            delta = nn.backwards(probs - yb, expected, "output", nn.linear_deriv)
            nn.backwards(delta, expected, "layer1", nn.sigmoid_deriv)
            for name in ("Wlayer1", "blayer1", "Woutput", "boutput"):
                expected[name] = expected[name] - 0.01 * expected.pop("grad_" + name)
        losses.append(total / len(x))
        accuracies.append(correct / len(x))
    for name in ("Wlayer1", "blayer1", "Woutput", "boutput"):
        np.testing.assert_allclose(params[name], expected[name], rtol=1e-12)
    np.testing.assert_allclose(history["train_loss"], losses, rtol=1e-12)
    np.testing.assert_allclose(history["train_acc"], accuracies, rtol=1e-12)
    assert history["valid_acc"] == []


def test_q2_training_loop_reaches_the_handouts_targets():
    x, y = data.toy_data(seed=0)
    recipe = train.Recipe(hidden=25, epochs=500, batch_size=5, lr=1e-3)
    params, history = train.train_classifier(x, y, None, recipe)
    assert history["train_loss"][-1] * len(x) <= 35
    assert history["train_acc"][-1] >= 0.75


def test_a_network_trained_with_paper_at_zero_takes_the_images_as_they_are(builtin):
    # During training the validation images are shifted by -1 like the training images;
    # afterwards the returned params must give the same results on the images unshifted.
    x, y = data.load_nist36("train", builtin)
    valid = data.load_nist36("valid", builtin)
    recipe = train.Recipe(
        hidden=16, epochs=2, batch_size=32, lr=0.005, paper_at_zero=True
    )
    params, history = train.train_classifier(x, y, valid, recipe)
    loss, acc = train.evaluate_classifier(params, *valid)
    assert history["valid_acc"][-1] > 0.3
    assert abs(acc - history["valid_acc"][-1]) <= 2 / len(valid[0])  # float32 ties
    assert loss == pytest.approx(history["valid_loss"][-1], rel=1e-5)
