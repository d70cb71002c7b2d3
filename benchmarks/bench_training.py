"""Training speed: the student notebook's recipe against hwlib's, in one process, on the same data.

The baseline is the handout's code as a student writes it: float64 NumPy, the
handout's forward / backwards / compute_loss_and_acc with their caches and input
gradients, batches drawn once, the loss and accuracy of every batch, and for Q3 the
validation loss and accuracy after every epoch (Q3.1 plots them). hwlib does the same
work: the same epochs, batch sizes, per-epoch training and validation numbers.
A second reference, "bare float64", is only the baseline's matrix and elementwise
arithmetic (no loss, no validation, no input gradient of the first layer): no float64
code doing the recipe's updates can be much faster than it. A third, "f32 products",
runs only the float32 matrix products of hwlib's training: no code built from the
handout's layer functions in float32 can beat it, so student / f32 products is the
ceiling of hwlib's speed-up.

Usage: python benchmarks/bench_training.py [q3|q4]... [--repeat N] [--epochs N]
HW5_DATA picks the data, as for the book.
The runs alternate, --repeat times each (default 1), and the best time of each is kept.
--epochs shortens every training (default: the recipes', 50 for Q3.1, 100 for Q4).
"""

import argparse
import time
from dataclasses import replace

import hwlib  # noqa: F401  first: the BLAS kernels of the stored outputs (see hwlib)

# isort: split

import numpy as np

from hwlib import data, models, train

# The handout's functions, as the student's notebook has them (float64 throughout).


def student_init(in_size, out_size, params, name, rng):
    limit = np.sqrt(6 / (in_size + out_size))
    params["W" + name] = rng.uniform(-limit, limit, (in_size, out_size))
    params["b" + name] = np.zeros(out_size)


def student_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def student_sigmoid_deriv(post_act):
    return post_act * (1.0 - post_act)


def student_relu(x):
    return np.maximum(x, 0)


def student_relu_deriv(post_act):
    return (post_act > 0) * 1.0


def student_linear_deriv(post_act):
    return np.ones_like(post_act)


def student_softmax(x):
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def student_forward(X, params, name, activation):
    pre_act = X @ params["W" + name] + params["b" + name]
    post_act = activation(pre_act)
    params["cache_" + name] = (X, pre_act, post_act)
    return post_act


def student_backwards(delta, params, name, activation_deriv):
    X, pre_act, post_act = params["cache_" + name]
    delta_pre = delta * activation_deriv(post_act)
    params["grad_W" + name] = X.T @ delta_pre
    params["grad_b" + name] = np.sum(delta_pre, axis=0)
    return delta_pre @ params["W" + name].T


def student_loss_and_acc(y, probs):
    return -np.sum(y * np.log(probs)), np.mean(
        np.argmax(y, axis=1) == np.argmax(probs, axis=1)
    )


def student_batches(x, y, batch_size, rng):
    order = rng.permutation(len(x))
    return [
        (x[order[i : i + batch_size]], y[order[i : i + batch_size]])
        for i in range(0, len(x), batch_size)
    ]


def student_q3(x, y, xv, yv, epochs=50, batch_size=64, lr=0.002, seed=0):
    """The student notebook's Q3.1: batch 64, lr 0.002, batches drawn once, plain SGD."""
    rng = np.random.default_rng(seed)
    params = {}
    student_init(1024, 64, params, "layer1", rng)
    student_init(64, 36, params, "output", rng)
    batches = student_batches(x, y, batch_size, rng)
    history = []
    for _ in range(epochs):
        total_loss = total_acc = 0
        for xb, yb in batches:
            h1 = student_forward(xb, params, "layer1", student_sigmoid)
            probs = student_forward(h1, params, "output", student_softmax)
            loss, acc = student_loss_and_acc(yb, probs)
            total_loss += loss
            total_acc += acc
            delta = student_backwards(
                probs - yb, params, "output", student_linear_deriv
            )
            student_backwards(delta, params, "layer1", student_sigmoid_deriv)
            for k in ("Wlayer1", "blayer1", "Woutput", "boutput"):
                params[k] -= lr * params["grad_" + k]
        probs = student_forward(
            student_forward(xv, params, "layer1", student_sigmoid),
            params,
            "output",
            student_softmax,
        )
        history.append(
            (
                total_loss / len(x),
                total_acc / len(batches),
                *student_loss_and_acc(yv, probs),
            )
        )
    return params, history


AUTOENCODER_LAYERS = [
    ("layer1", student_relu, student_relu_deriv),
    ("hidden", student_relu, student_relu_deriv),
    ("hidden2", student_relu, student_relu_deriv),
    ("output", student_sigmoid, student_sigmoid_deriv),
]


def student_q4(x, epochs=100, batch_size=36, lr=3e-5, seed=0):
    """The student notebook's Q4: the handout's defaults and momentum loop."""
    rng = np.random.default_rng(seed)
    params = {}
    sizes = [1024, 32, 32, 32, 1024]
    for (name, _, _), n_in, n_out in zip(AUTOENCODER_LAYERS, sizes[:-1], sizes[1:]):
        student_init(n_in, n_out, params, name, rng)
    names = [k for k in params]
    for k in names:
        params["M_" + k] = np.zeros_like(params[k])
    batches = student_batches(x, x, batch_size, rng)
    losses = []
    for epoch in range(epochs):
        total_loss = 0
        for xb, _ in batches:
            out = xb
            for name, activation, _ in AUTOENCODER_LAYERS:
                out = student_forward(out, params, name, activation)
            total_loss += np.sum((xb - out) ** 2)
            delta = 2 * (out - xb)
            for name, _, activation_deriv in reversed(AUTOENCODER_LAYERS):
                delta = student_backwards(delta, params, name, activation_deriv)
            for k in names:
                params["M_" + k] = 0.9 * params["M_" + k] - lr * params["grad_" + k]
                params[k] += params["M_" + k]
        losses.append(total_loss / len(x))
        if (epoch + 1) % 20 == 0:
            lr *= 0.9
    return params


def student_reconstruct(params, x):
    for name, activation, _ in AUTOENCODER_LAYERS:
        x = student_forward(x, params, name, activation)
    return x


# The bare float64 arithmetic of the same recipes: a floor for float64 code.


def bare_q3(x, y, epochs=50, batch_size=64, lr=0.002, seed=0):
    """student_q3's arithmetic alone; returns the trained (W1, b1, W2, b2)."""
    rng = np.random.default_rng(seed)
    a1, a2 = np.sqrt(6 / (1024 + 64)), np.sqrt(6 / (64 + 36))
    W1, b1 = rng.uniform(-a1, a1, (1024, 64)), np.zeros(64)
    W2, b2 = rng.uniform(-a2, a2, (64, 36)), np.zeros(36)
    batches = student_batches(x, y, batch_size, rng)
    for _ in range(epochs):
        for xb, yb in batches:
            h = student_sigmoid(xb @ W1 + b1)
            d2 = student_softmax(h @ W2 + b2) - yb
            d1 = (d2 @ W2.T) * h * (1 - h)
            W2 -= lr * (h.T @ d2)
            b2 -= lr * d2.sum(0)
            W1 -= lr * (xb.T @ d1)
            b1 -= lr * d1.sum(0)
    return W1, b1, W2, b2


def bare_q4(x, epochs=100, batch_size=36, lr=3e-5, seed=0):
    """student_q4's arithmetic alone; returns the trained weights and biases."""
    rng = np.random.default_rng(seed)
    sizes = [1024, 32, 32, 32, 1024]
    Ws = [
        rng.uniform(-np.sqrt(6 / (i + o)), np.sqrt(6 / (i + o)), (i, o))
        for i, o in zip(sizes[:-1], sizes[1:])
    ]
    bs = [np.zeros(o) for o in sizes[1:]]
    MW, Mb = [np.zeros_like(W) for W in Ws], [np.zeros_like(b) for b in bs]
    batches = [xb for xb, _ in student_batches(x, x, batch_size, rng)]
    for epoch in range(epochs):
        for xb in batches:
            acts = [xb]
            for k in range(4):
                acts.append(
                    (student_sigmoid if k == 3 else student_relu)(
                        acts[-1] @ Ws[k] + bs[k]
                    )
                )
            delta = 2 * (acts[-1] - xb)
            for k in reversed(range(4)):
                out = acts[k + 1]
                d = delta * (out * (1 - out) if k == 3 else (out > 0))
                if k:
                    delta = d @ Ws[k].T
                MW[k] = 0.9 * MW[k] - lr * (acts[k].T @ d)
                Ws[k] += MW[k]
                Mb[k] = 0.9 * Mb[k] - lr * d.sum(0)
                bs[k] += Mb[k]
        if (epoch + 1) % 20 == 0:
            lr *= 0.9
    return Ws, bs


# Only the float32 matrix products that hwlib's training does, same shapes, same count:
# a floor for any float32 NumPy code built from the handout's layer functions.


def products_q3(x, xv, epochs=50, batch_size=64, hidden=64, classes=36):
    x = np.ascontiguousarray(x, dtype=np.float32)
    xv = np.ascontiguousarray(xv, dtype=np.float32)
    W1 = np.ones((x.shape[1], hidden), np.float32)
    W2 = np.ones((hidden, classes), np.float32)
    d2 = np.ones((batch_size, classes), np.float32)
    for _ in range(epochs):
        for i in range(0, len(x), batch_size):
            xb = x[i : i + batch_size]
            h = xb @ W1
            h @ W2
            h.T @ d2[: len(xb)]
            d1 = d2[: len(xb)] @ W2.T
            xb.T @ d1
        (xv @ W1) @ W2


def products_q4(x, epochs=100, batch_size=36, hidden=32):
    x = np.ascontiguousarray(x, dtype=np.float32)
    sizes = [x.shape[1], hidden, hidden, hidden, x.shape[1]]
    Ws = [np.ones((i, o), np.float32) for i, o in zip(sizes[:-1], sizes[1:])]
    for _ in range(epochs):
        for i in range(0, len(x), batch_size):
            acts = [x[i : i + batch_size]]
            for W in Ws:
                acts.append(acts[-1] @ W)
            delta = acts[-1]
            for k in reversed(range(4)):
                acts[k].T @ delta
                if k:
                    delta = delta @ Ws[k].T


def best_times(runs, repeat):
    """Run each of runs {name: fn} in turn, repeat rounds; the best time and last result of each."""
    times, results = {name: [] for name in runs}, {}
    for _ in range(repeat):
        for name, fn in runs.items():
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: min(t) for name, t in times.items()}, results


def report(title, times, quality):
    print(title)
    for name in times:
        print(f"  {name:12s} {times[name]:6.2f} s  {quality[name]}")
    print(
        f"  hwlib is {times['student'] / times['hwlib']:.2f}x faster than the student's code; "
        f"the float32 products alone would be {times['student'] / times['f32 products']:.2f}x"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="*", default=["q3", "q4"], help="q3, q4 or both")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--epochs", type=int)
    args = parser.parse_args()
    q3_epochs = args.epochs or models.NIST36_RECIPE.epochs
    q4_recipe = {**models.AUTOENCODER_RECIPE, "epochs": args.epochs or 100}
    print("Data:", data.data_source().describe())
    x, y = data.load_nist36("train")
    xv, yv = data.load_nist36("valid")
    # The handout reads the data with scipy.io.loadmat, which returns Fortran-ordered
    # arrays; the baselines keep that layout, as the student's code had it.
    xf, yf = np.asfortranarray(x), np.asfortranarray(y)
    if "q3" in args.which:
        times, results = best_times(
            {
                "student": lambda: student_q3(xf, yf, xv, yv, q3_epochs),
                "bare f64": lambda: bare_q3(xf, yf, q3_epochs),
                "f32 products": lambda: products_q3(x, xv, q3_epochs),
                "hwlib": lambda: train.train_classifier(
                    x, y, (xv, yv), replace(models.NIST36_RECIPE, epochs=q3_epochs)
                ),
            },
            args.repeat,
        )
        report(
            f"Q3.1, {q3_epochs} epochs, per-epoch validation:",
            times,
            {
                "student": f"valid acc {results['student'][1][-1][3]:.3f}",
                "bare f64": "(no loss, no validation)",
                "f32 products": "(matrix products only)",
                "hwlib": f"valid acc {results['hwlib'][1]['valid_acc'][-1]:.3f}",
            },
        )
    if "q4" in args.which:
        times, results = best_times(
            {
                "student": lambda: student_q4(xf, q4_recipe["epochs"]),
                "bare f64": lambda: bare_q4(xf, q4_recipe["epochs"]),
                "f32 products": lambda: products_q4(x, q4_recipe["epochs"]),
                "hwlib": lambda: train.train_autoencoder(x, log_every=0, **q4_recipe)[
                    0
                ],
            },
            args.repeat,
        )

        def psnr(out):
            return train.psnr_per_image(xv, out).mean()

        report(
            f"Q4, {q4_recipe['epochs']} epochs:",
            times,
            {
                "student": f"valid PSNR {psnr(student_reconstruct(results['student'], xv)):.2f} dB",
                "bare f64": "(no loss)",
                "f32 products": "(matrix products only)",
                "hwlib": f"valid PSNR {psnr(train.reconstruct(results['hwlib'], xv)):.2f} dB",
            },
        )


if __name__ == "__main__":
    main()
