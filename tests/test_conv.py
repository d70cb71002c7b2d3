"""The convolution and pooling layers, against scipy, hand-worked answers and central
differences."""

import numpy as np
from scipy.signal import correlate

from hwlib import conv
from hwlib.nn import gradient_check, linear, linear_deriv, sigmoid, sigmoid_deriv


def conv_layer(rng, size=3, c_in=2, c_out=3):
    params = {}
    conv.initialize_conv(size, c_in, c_out, params, "conv1", rng)
    params["bconv1"] = rng.normal(size=c_out)  # a generic point for the bias gradient
    return params


def input_gradient(layer_loss, x, eps=1e-6):
    """Central differences of layer_loss at x, one input value at a time."""
    numeric = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        numeric[i] = (layer_loss(x + step) - layer_loss(x - step)) / (2 * eps)
    return numeric


def test_convolution_is_scipys_valid_cross_correlation_summed_over_channels():
    rng = np.random.default_rng(0)
    params = conv_layer(rng)
    x = rng.normal(size=(2, 7, 6, 2))  # not square: rows and columns cannot swap
    out = conv.conv_forward(x, params, "conv1", linear)
    assert out.shape == (2, 5, 4, 3)
    W, b = params["Wconv1"], params["bconv1"]
    for n in range(2):
        for f in range(3):
            want = sum(
                correlate(x[n, :, :, c], W[:, :, c, f], "valid") for c in range(2)
            )
            np.testing.assert_allclose(out[n, :, :, f], want + b[f], atol=1e-12)


def test_max_pooling_worked_out_by_hand():
    x = np.array([[1, 5, 0, 2], [3, 4, 7, 7], [0, 0, -1, -2], [0, 9, -3, -4]], float)
    params = {}
    out = conv.pool_forward(x.reshape(1, 4, 4, 1), params, "pool1")
    np.testing.assert_array_equal(out[0, :, :, 0], [[5, 7], [9, -1]])
    grad = conv.pool_backwards(
        np.array([10.0, 20, 30, 40]).reshape(1, 2, 2, 1), params, "pool1"
    )
    # each gradient goes to its block's maximum (of the two 7s, the left one)
    want = [[0, 10, 0, 0], [0, 0, 20, 0], [0, 0, 40, 0], [0, 30, 0, 0]]
    np.testing.assert_array_equal(grad[0, :, :, 0], want)


def test_convolution_weight_and_bias_gradients_match_central_differences():
    rng = np.random.default_rng(1)
    params = conv_layer(rng)
    x = rng.normal(size=(3, 6, 5, 2))
    upstream = rng.normal(size=(3, 4, 3, 3))  # J = sum(upstream * conv(x))

    def loss_and_backward():
        out = conv.conv_forward(x, params, "conv1", sigmoid)
        conv.conv_backwards(upstream, params, "conv1", sigmoid_deriv)
        return float(np.sum(upstream * out))

    errors = gradient_check(params, loss_and_backward)
    assert set(errors) == {"Wconv1", "bconv1"}
    assert max(errors.values()) < 1e-7, errors


def test_convolution_input_gradient_matches_central_differences():
    rng = np.random.default_rng(2)
    params = conv_layer(rng, size=3, c_in=2, c_out=4)
    x = rng.normal(size=(2, 6, 5, 2))
    upstream = rng.normal(size=(2, 4, 3, 4))

    def loss(x):
        return float(np.sum(upstream * conv.conv_forward(x, params, "conv1", sigmoid)))

    loss(x)
    analytic = conv.conv_backwards(upstream, params, "conv1", sigmoid_deriv)
    numeric = input_gradient(loss, x)
    assert np.linalg.norm(analytic - numeric) / np.linalg.norm(numeric) < 1e-7
    assert conv.conv_backwards(upstream, params, "conv1", grad_input=False) is None


def test_pooling_input_gradient_matches_central_differences():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 6, 4, 3))  # distinct values: no ties within a block
    upstream = rng.normal(size=(2, 3, 2, 3))
    params = {}

    def loss(x):
        return float(np.sum(upstream * conv.pool_forward(x, params, "pool1")))

    loss(x)
    analytic = conv.pool_backwards(upstream, params, "pool1")
    numeric = input_gradient(loss, x)
    assert np.linalg.norm(analytic - numeric) / np.linalg.norm(numeric) < 1e-7


def test_the_convolutional_reader_back_propagates_through_every_layer():
    rng = np.random.default_rng(4)
    params = conv.init_cnn((2, 3), 4, 3, seed=0, dtype=np.float64)
    x = rng.random((2, 1024))
    y = np.eye(3)[[0, 2]]
    errors = gradient_check(params, lambda: conv.cnn_step(params, x, y)[0])
    assert set(errors) == {
        f"{p}{layer}" for p in "Wb" for layer in ("conv1", "conv2", "layer1", "output")
    }
    assert max(errors.values()) < 1e-6, errors
    for name in errors:  # every gradient carries signal: no layer is dead here
        assert np.abs(params["grad_" + name]).max() > 1e-6, name


def test_gradient_check_catches_a_wrong_convolution_gradient():
    rng = np.random.default_rng(5)
    params = conv_layer(rng)
    x = rng.normal(size=(2, 5, 5, 2))
    upstream = rng.normal(size=(2, 3, 3, 3))

    def loss_and_backward():
        out = conv.conv_forward(x, params, "conv1", linear)
        conv.conv_backwards(upstream, params, "conv1", linear_deriv)
        params["grad_Wconv1"] = params["grad_Wconv1"][::-1, ::-1].copy()  # unturned
        return float(np.sum(upstream * out))

    assert gradient_check(params, loss_and_backward)["Wconv1"] > 1e-2
