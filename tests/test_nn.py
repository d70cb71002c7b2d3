"""The Q2 network core, checked against finite differences and hand-computed answers."""

import warnings

import numpy as np
import pytest

from hwlib.nn import (
    backwards,
    compute_loss_and_acc,
    forward,
    get_random_batches,
    gradient_check,
    initialize_weights,
    linear,
    linear_deriv,
    relu,
    relu_deriv,
    sigmoid,
    sigmoid_deriv,
    softmax,
)


def two_layer_net(rng, d=5, h=7, k=4):
    params = {}
    initialize_weights(d, h, params, "layer1", rng=rng)
    initialize_weights(h, k, params, "output", rng=rng)
    # Non-zero biases, so that their gradients are checked at a generic point.
    params["blayer1"] = rng.normal(size=h)
    params["boutput"] = rng.normal(size=k)
    return params


def test_gradient_check_sigmoid_softmax_cross_entropy():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 5))
    y = np.eye(4)[rng.integers(0, 4, size=6)]
    params = two_layer_net(rng)

    def loss_and_backward():
        h = forward(x, params, "layer1", sigmoid)
        probs = forward(h, params, "output", softmax)
        loss, _ = compute_loss_and_acc(y, probs)
        delta = backwards(probs - y, params, "output", linear_deriv)
        backwards(delta, params, "layer1", sigmoid_deriv)
        return loss

    errors = gradient_check(params, loss_and_backward)
    assert sorted(errors) == ["Wlayer1", "Woutput", "blayer1", "boutput"]
    assert max(errors.values()) < 1e-6, errors


def test_gradient_check_relu_sigmoid_squared_error():
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(6, 5))
    params = two_layer_net(rng, d=5, h=7, k=5)

    def loss_and_backward():
        h = forward(x, params, "layer1", relu)
        out = forward(h, params, "output", sigmoid)
        loss = np.sum((out - x) ** 2)
        delta = backwards(2 * (out - x), params, "output", sigmoid_deriv)
        backwards(delta, params, "layer1", relu_deriv)
        return loss

    errors = gradient_check(params, loss_and_backward)
    assert max(errors.values()) < 1e-6, errors


def test_gradient_check_detects_a_wrong_gradient():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 5))
    params = two_layer_net(rng, k=3)

    def loss_and_backward():
        out = forward(forward(x, params, "layer1", sigmoid), params, "output", linear)
        backwards(np.ones_like(out), params, "output", linear_deriv)
        params["grad_Woutput"] *= 1.01  # a 1 % error must not pass
        return out.sum()

    errors = gradient_check(params, loss_and_backward)
    assert errors["Woutput"] > 1e-3


def test_backwards_gradient_shapes_match_parameters():
    rng = np.random.default_rng(3)
    params = two_layer_net(rng)
    x = rng.normal(size=(9, 5))
    out = forward(forward(x, params, "layer1"), params, "output", softmax)
    grad_x = backwards(backwards(out, params, "output", linear_deriv), params, "layer1")
    assert grad_x.shape == x.shape
    for k in ["Wlayer1", "blayer1", "Woutput", "boutput"]:
        assert params["grad_" + k].shape == params[k].shape


def test_forward_caches_input_pre_and_post_activation():
    params = {"Wl": np.array([[1.0, -1.0]]), "bl": np.array([0.5, 0.0])}
    x = np.array([[2.0]])
    out = forward(x, params, "l", relu)
    X, pre, post = params["cache_l"]
    assert X is x
    np.testing.assert_allclose(pre, [[2.5, -2.0]])
    np.testing.assert_allclose(post, [[2.5, 0.0]])
    assert post is out


def test_sigmoid_saturates_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(s, [0.0, 0.5, 1.0])
    x = np.linspace(-8, 8, 33)
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-12)
    np.testing.assert_allclose(
        sigmoid_deriv(sigmoid(x)), np.exp(-x) / (1 + np.exp(-x)) ** 2, rtol=1e-9
    )


def test_softmax_rows_sum_to_one_and_are_translation_invariant():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 7))
    p = softmax(x)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(softmax(x + 1e4), p, atol=1e-12)
    np.testing.assert_allclose(softmax(x - 123.0), p, atol=1e-12)
    np.testing.assert_allclose(softmax(np.array([[0.0, np.log(3.0)]])), [[0.25, 0.75]])


def test_softmax_does_not_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = softmax(np.array([[1e4, 0.0, -1e4], [1000.0, 1000.0, 1000.0]]))
    np.testing.assert_allclose(p, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])


def test_xavier_variance_bounds_and_zero_bias():
    params = {}
    initialize_weights(600, 400, params, "big", rng=np.random.default_rng(5))
    W, b = params["Wbig"], params["bbig"]
    assert W.shape == (600, 400) and b.shape == (400,)
    target = 2 / (600 + 400)
    assert abs(W.var() - target) < 0.05 * target
    limit = np.sqrt(6 / 1000)
    assert np.all(np.abs(W) <= limit) and np.abs(W).max() > 0.99 * limit
    np.testing.assert_array_equal(b, 0)


def test_random_batches_partition_the_data():
    x = np.arange(23 * 2).reshape(23, 2).astype(float)
    y = np.eye(23)
    batches = get_random_batches(x, y, 5, rng=np.random.default_rng(6))
    assert [len(bx) for bx, _ in batches] == [5, 5, 5, 5, 3]
    seen = np.concatenate([by.argmax(axis=1) for _, by in batches])
    assert sorted(seen) == list(range(23))
    assert not np.array_equal(seen, np.arange(23))  # shuffled
    for bx, by in batches:  # rows of x stay with their labels
        np.testing.assert_array_equal(bx[:, 0], 2 * by.argmax(axis=1))


def test_loss_and_accuracy_on_a_hand_computed_example():
    y = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]])
    probs = np.array(
        [[0.5, 0.25, 0.25], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1]]
    )
    loss, acc = compute_loss_and_acc(y, probs)
    assert loss == pytest.approx(
        -(np.log(0.5) + np.log(0.8) + np.log(0.1) + np.log(0.2))
    )
    assert acc == pytest.approx(0.5)


def test_loss_is_finite_when_a_probability_underflows():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, acc = compute_loss_and_acc(
            np.array([[0, 1]]), softmax(np.array([[0.0, -1e4]]))
        )
    assert np.isfinite(loss) and loss > 700
    assert acc == 0.0


def test_the_input_gradient_that_backwards_returns_matches_central_differences():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 5))
    params = two_layer_net(rng)
    upstream = rng.normal(size=(4, 7))  # a random dJ/d(post_act): J = sum(upstream * h)

    def loss(x):
        return float(np.sum(upstream * forward(x, params, "layer1", sigmoid)))

    loss(x)
    analytic = backwards(upstream, params, "layer1", sigmoid_deriv)
    numeric = np.zeros_like(x)
    eps = 1e-6
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        numeric[i] = (loss(x + step) - loss(x - step)) / (2 * eps)
    assert np.linalg.norm(analytic - numeric) / np.linalg.norm(numeric) < 1e-7


def test_the_autoencoder_step_back_propagates_through_all_four_layers():
    from hwlib.train import autoencoder_step, init_autoencoder

    rng = np.random.default_rng(4)
    x = rng.uniform(size=(3, 16))
    params = {
        k: v.astype(np.float64) for k, v in init_autoencoder(16, 6, seed=0).items()
    }
    for name in [
        "layer1",
        "hidden",
        "hidden2",
        "output",
    ]:  # generic biases: no ReLU at 0
        params["b" + name] = rng.uniform(0.1, 0.3, size=params["b" + name].shape)
    errors = gradient_check(params, lambda: autoencoder_step(params, x))
    assert len(errors) == 8 and max(errors.values()) < 1e-6, errors


def test_the_deeper_reading_network_back_propagates_through_every_layer():
    from hwlib.train import classifier_step, init_classifier

    rng = np.random.default_rng(5)
    x = rng.uniform(size=(4, 10))
    y = np.eye(3)[rng.integers(0, 3, size=4)]
    params = {
        k: v.astype(np.float64) for k, v in init_classifier(10, [6, 5], 3, 0).items()
    }
    params["blayer1"] = rng.normal(size=6)
    errors = gradient_check(params, lambda: classifier_step(params, x, y)[0])
    assert sorted(errors) == [
        "Wlayer1",
        "Wlayer2",
        "Woutput",
        "blayer1",
        "blayer2",
        "boutput",
    ]
    assert max(errors.values()) < 1e-6, errors


def test_plain_sgd_step_worked_out_by_hand():
    from hwlib.train import sgd_update

    params = {"W": np.array([1.0, -2.0]), "grad_W": np.array([0.5, 1.0])}
    sgd_update(params, lr=0.1)
    np.testing.assert_allclose(params["W"], [0.95, -2.1])  # W - 0.1 * grad
    assert "grad_W" not in params and "M_W" not in params  # consumed, no momentum


def test_momentum_two_steps_worked_out_by_hand():
    from hwlib.train import momentum_update

    params = {"W": np.array([1.0, -2.0])}
    params["grad_W"] = np.array([0.5, 1.0])
    momentum_update(params, lr=0.1, momentum=0.9)
    # M = 0.9 * 0 - 0.1 * [0.5, 1] = [-0.05, -0.1]; W = [1, -2] + M = [0.95, -2.1]
    np.testing.assert_allclose(params["M_W"], [-0.05, -0.1])
    np.testing.assert_allclose(params["W"], [0.95, -2.1])
    params["grad_W"] = np.array([-1.0, 2.0])
    momentum_update(params, lr=0.1, momentum=0.9)
    # M = 0.9 * [-0.05, -0.1] - 0.1 * [-1, 2] = [0.055, -0.29]; W = [1.005, -2.39]
    np.testing.assert_allclose(params["M_W"], [0.055, -0.29])
    np.testing.assert_allclose(params["W"], [1.005, -2.39])
