"""The fully connected network of Q2, with the handout's names and signatures.

Every layer keeps its parameters in one dictionary: ``params['W' + name]`` and
``params['b' + name]``, the forward cache ``params['cache_' + name]`` and the
gradients ``params['grad_W' + name]`` and ``params['grad_b' + name]``.
The functions work in whatever float type the inputs have (float64 or float32).
"""

import numpy as np


def initialize_weights(in_size, out_size, params, name="", rng=None):
    """Xavier/Glorot uniform initialisation: Var[W] = 2 / (in_size + out_size).

    W is in_size x out_size, drawn from U(-a, a) with a = sqrt(6 / (in + out)),
    since a uniform U(-a, a) has variance a^2 / 3. b is a 1-D vector of zeros.

    Stores params['W' + name]: in_size x out_size, params['b' + name]: out_size.
    """
    rng = np.random.default_rng() if rng is None else rng
    limit = np.sqrt(6.0 / (in_size + out_size))
    params["W" + name] = rng.uniform(-limit, limit, size=(in_size, out_size))
    params["b" + name] = np.zeros(out_size)


def sigmoid(x):
    """Elementwise 1 / (1 + e^-x), written so that no exponent can overflow."""
    # sigma(x) = (1 + tanh(x / 2)) / 2 is exact, and tanh never overflows.
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def sigmoid_deriv(post_act):
    """d sigma / dx, as a function of sigma(x) itself."""
    return post_act * (1.0 - post_act)


def linear(x):
    """The identity: a layer with no activation."""
    return x


def linear_deriv(post_act):
    """Derivative of the identity."""
    return np.ones_like(post_act)


def relu(x):
    """Elementwise max(x, 0)."""
    return np.maximum(x, 0)


def relu_deriv(post_act):
    """Derivative of relu: 1 where the unit is active, else 0."""
    return (post_act > 0).astype(post_act.dtype)


def forward(X, params, name="", activation=sigmoid):
    """One layer: activation(X W + b). Caches (X, pre_act, post_act) for backwards.

    X: N x in. Returns post_act: N x out.
    """
    pre_act = X @ params["W" + name] + params["b" + name]
    post_act = activation(pre_act)
    params["cache_" + name] = (X, pre_act, post_act)
    return post_act


def softmax(x):
    """Row-wise softmax, shifted by each row's maximum so that no exponent overflows.

    x: N x classes. Returns N x classes, each row summing to 1.
    """
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def compute_loss_and_acc(y, probs):
    """Total cross-entropy -sum y * log(probs) over the data, and the accuracy.

    Probabilities are clipped at the smallest positive float, so that one that
    underflowed to 0 costs a large but finite loss instead of inf or nan.

    y: N x classes, one-hot. probs: N x classes. Returns (loss, accuracy), two floats.
    """
    tiny = np.finfo(probs.dtype).tiny
    loss = -np.sum(y * np.log(np.maximum(probs, tiny)))
    acc = np.mean(np.argmax(y, axis=1) == np.argmax(probs, axis=1))
    return float(loss), float(acc)


def backwards(delta, params, name="", activation_deriv=sigmoid_deriv, grad_input=True):
    """Back-propagate delta = dJ/d(post_act) through one layer.

    Stores params['grad_W' + name] = X^T d and params['grad_b' + name] = the column
    sums of d, where d = delta * activation_deriv(post_act); returns dJ/dX = d W^T.
    grad_input=False skips dJ/dX (returns None): the first layer's input is the data,
    whose gradient nobody uses, and it costs as much as the weight gradient.

    delta: N x out. Stores grad_W: in x out, grad_b: out. Returns dJ/dX: N x in.
    """
    X, _, post_act = params["cache_" + name]
    d = delta * activation_deriv(post_act)
    params["grad_W" + name] = X.T @ d
    params["grad_b" + name] = d.sum(axis=0)
    return d @ params["W" + name].T if grad_input else None


def get_random_batches(x, y, batch_size, rng=None):
    """Split (x, y) into a random partition of batches: every sample exactly once.

    The last batch keeps the remainder when batch_size does not divide len(x).

    x: N x in, y: N x classes. Returns a list of (x batch, y batch) pairs:
    batch_size x in and batch_size x classes.
    """
    rng = np.random.default_rng() if rng is None else rng
    order = rng.permutation(len(x))
    return [
        (x[idx], y[idx])
        for idx in np.array_split(order, range(batch_size, len(x), batch_size))
    ]


def gradient_check(params, loss_and_backward, eps=1e-6):
    """Compare back-propagated gradients with central differences, one parameter at a
    time.

    loss_and_backward() must run the forward pass, the loss and every backwards call
    (which store params['grad_' + k]) and return the loss. Returns, for each weight
    and bias k, the relative error |analytic - numeric| / (|analytic| + |numeric|),
    with |.| the Euclidean norm over the whole array.
    """
    loss_and_backward()
    names = [k for k in params if k[0] in "Wb" and "grad_" + k in params]
    analytic = {k: params["grad_" + k].copy() for k in names}
    errors = {}
    for k in names:
        p = params[k]
        numeric = np.zeros_like(p)
        for i in np.ndindex(p.shape):
            old = p[i]
            p[i] = old + eps
            up = loss_and_backward()
            p[i] = old - eps
            down = loss_and_backward()
            p[i] = old
            numeric[i] = (up - down) / (2 * eps)
        diff = np.linalg.norm(analytic[k] - numeric)
        errors[k] = float(
            diff / max(np.linalg.norm(analytic[k]) + np.linalg.norm(numeric), 1e-12)
        )
    return errors
