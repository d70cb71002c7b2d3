"""Convolution and max pooling, in the handout's style, for the convolutional network.

Images are N x H x W x C arrays (channels last). Like the dense layers of hwlib.nn, a
layer keeps its parameters in ``params['W' + name]`` and ``params['b' + name]``, its
forward cache in ``params['cache_' + name]`` and its gradients in
``params['grad_W' + name]`` and ``params['grad_b' + name]``. Convolution is a matrix
product over the image's windows (im2col, with sliding_window_view), pooling a maximum
over strided views: no Python loop runs over pixels.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .nn import (
    backwards,
    compute_loss_and_acc,
    forward,
    initialize_weights,
    linear_deriv,
    relu,
    relu_deriv,
    softmax,
)


def initialize_conv(size, in_channels, out_channels, params, name, rng):
    """Xavier/Glorot uniform initialisation of a size x size convolution, whose fan-in
    and fan-out are size * size * in_channels and size * size * out_channels.

    Stores params['W' + name]: size x size x in_channels x out_channels and
    params['b' + name]: out_channels, zeros.
    """
    fan_in, fan_out = size * size * in_channels, size * size * out_channels
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    shape = (size, size, in_channels, out_channels)
    params["W" + name] = rng.uniform(-limit, limit, size=shape)
    params["b" + name] = np.zeros(out_channels)


def patches(X, size):
    """im2col: every size x size window of X as a row of size * size * C values.

    X: N x H x W x C. Returns (N * H' * W') x (size * size * C), with H' = H - size + 1
    and W' = W - size + 1, rows in the order of the output pixels.
    """
    windows = sliding_window_view(X, (size, size), axis=(1, 2))  # N H' W' C k k
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(-1, size * size * X.shape[3])


def conv_forward(X, params, name, activation=relu):
    """One convolution layer: activation(X * W + b), stride 1, no padding ('valid').

    X: N x H x W x C, W: k x k x C x F. Returns N x (H - k + 1) x (W - k + 1) x F.
    Caches (the input's shape, its patches, post_act) for conv_backwards.
    """
    W, b = params["W" + name], params["b" + name]
    k, F = W.shape[0], W.shape[3]
    N, H, Wd = X.shape[:3]
    cols = patches(X, k)
    pre_act = (cols @ W.reshape(-1, F) + b).reshape(N, H - k + 1, Wd - k + 1, F)
    post_act = activation(pre_act)
    params["cache_" + name] = (X.shape, cols, post_act)
    return post_act


def conv_backwards(delta, params, name, activation_deriv=relu_deriv, grad_input=True):
    """Back-propagate delta = dJ/d(post_act) through one convolution layer.

    With d = delta * activation_deriv(post_act), stores grad_W = patches^T d (each
    weight meets every window it was applied to) and grad_b = the sum of d over images
    and pixels. Returns dJ/dX: the pixel at offset (i, j) of a window gets that window's
    d W[i, j]^T, summed over the windows that cover it (col2im: one matrix product per
    kernel offset, never a loop over pixels); None with grad_input=False.

    delta: N x H' x W' x F. Stores grad_W: k x k x C x F and grad_b: F. Returns dJ/dX:
    N x H x W x C.
    """
    shape, cols, post_act = params["cache_" + name]
    W = params["W" + name]
    k, F = W.shape[0], W.shape[3]
    d = delta * activation_deriv(post_act)
    flat = d.reshape(-1, F)
    params["grad_W" + name] = (cols.T @ flat).reshape(W.shape)
    params["grad_b" + name] = flat.sum(axis=0)
    if not grad_input:
        return None
    N, H_out, W_out = d.shape[:3]
    grad = np.zeros(shape, dtype=d.dtype)
    for i in range(k):
        for j in range(k):
            window_grad = (flat @ W[i, j].T).reshape(N, H_out, W_out, -1)
            grad[:, i : i + H_out, j : j + W_out] += window_grad
    return grad


# The four pixels of each 2 x 2 block, as (row, column) offsets within the block.
BLOCK = [(0, 0), (0, 1), (1, 0), (1, 1)]


def pool_forward(X, params, name):
    """2 x 2 max pooling with stride 2: the maximum of each block's four pixels, each
    taken as a strided view of X (a loop over the four offsets, not over pixels).
    Caches (X, output) for pool_backwards.

    X: N x H x W x C, H and W even. Returns N x H/2 x W/2 x C.
    """
    a, b, c, d = (X[:, i::2, j::2] for i, j in BLOCK)
    out = np.maximum(np.maximum(a, b), np.maximum(c, d))
    params["cache_" + name] = (X, out)
    return out


def pool_backwards(delta, params, name):
    """Back-propagate delta = dJ/d(output) through max pooling: each output's gradient
    goes to the pixel that gave its maximum (the first of the block, where several
    tie), 0 to the other three.

    delta: N x H/2 x W/2 x C. Returns dJ/dX: N x H x W x C.
    """
    X, out = params["cache_" + name]
    grad = np.zeros_like(X)
    taken = np.zeros(out.shape, dtype=bool)
    for i, j in BLOCK:
        wins = (X[:, i::2, j::2] == out) & ~taken
        grad[:, i::2, j::2] = delta * wins
        taken |= wins
    return grad


def init_cnn(channels, hidden, classes, seed, dtype=np.float32):
    """The convolutional network: for each entry of channels a 5x5 convolution (relu,
    conv1, conv2, ...) and 2x2 max pooling (pool1, pool2, ...), then a dense relu layer
    of hidden units (layer1) and the softmax output, all Xavier-initialised.

    Takes 32x32 images: (32 - 4) / 2 = 14 pixels a side after one stage, 5 after two.
    """
    rng = np.random.default_rng(seed)
    params, side, in_channels = {}, 32, 1
    for i, out_channels in enumerate(channels, 1):
        initialize_conv(5, in_channels, out_channels, params, f"conv{i}", rng)
        side, in_channels = (side - 4) // 2, out_channels
    initialize_weights(side * side * in_channels, hidden, params, "layer1", rng=rng)
    initialize_weights(hidden, classes, params, "output", rng=rng)
    return {k: v.astype(dtype) for k, v in params.items()}


def stages(params):
    """The numbers of the convolution stages: 1, 2, ... (conv1 and pool1, ...)."""
    return range(1, sum(k.startswith("Wconv") for k in params) + 1)


def cnn_probs(params, x):
    """Forward pass of the convolutional network on NIST36 rows x (N x 1024, each image
    transposed as stored; the network learns them that way). Returns N x classes."""
    h = x.reshape(len(x), 32, 32, 1)
    for i in stages(params):
        h = pool_forward(conv_forward(h, params, f"conv{i}"), params, f"pool{i}")
    h = forward(h.reshape(len(x), -1), params, "layer1", relu)
    return forward(h, params, "output", softmax)


def cnn_step(params, xb, yb):
    """Forward, loss and backward on one batch; stores the gradients.

    xb: N x 1024, yb: N x classes one-hot. Returns (loss, accuracy) of the batch.
    """
    probs = cnn_probs(params, xb)
    loss, acc = compute_loss_and_acc(yb, probs)
    delta = backwards(probs - yb, params, "output", linear_deriv)
    delta = backwards(delta, params, "layer1", relu_deriv)
    for i in reversed(stages(params)):
        pooled = params[f"cache_pool{i}"][1]
        delta = pool_backwards(delta.reshape(pooled.shape), params, f"pool{i}")
        delta = conv_backwards(delta, params, f"conv{i}", grad_input=i > 1)
    return loss, acc
