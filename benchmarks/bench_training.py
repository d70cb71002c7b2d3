"""Training speed: the student notebook's recipe against hwlib's, in one process, on the same data.

The baseline is written plainly, as the handout's code is: float64 NumPy, one batch at
a time, batches drawn once, plain SGD for Q3 and the handout's momentum loop for Q4.
Usage: HW5_DATA=<folder with nist36_*.mat> python benchmarks/bench_training.py [q3|q4]...
The two run alternately, --repeat times each (default 1), and the best time of each is kept.
"""
import argparse
import time

import numpy as np

from hwlib import data, models, train


def baseline_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def baseline_layer(X, W, b, act):
    pre = X @ W + b
    return pre, act(pre)


def baseline_softmax(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def baseline_q3(x, y, xv, yv, epochs=50, batch_size=64, lr=0.002, seed=0):
    """The student notebook's Q3.1: batch 64, lr 0.002, batches drawn once, plain SGD, float64."""
    rng = np.random.default_rng(seed)
    a1, a2 = np.sqrt(6 / (1024 + 64)), np.sqrt(6 / (64 + 36))
    W1, b1 = rng.uniform(-a1, a1, (1024, 64)), np.zeros(64)
    W2, b2 = rng.uniform(-a2, a2, (64, 36)), np.zeros(36)
    order = rng.permutation(len(x))
    batches = [(x[order[i:i + batch_size]], y[order[i:i + batch_size]]) for i in range(0, len(x), batch_size)]
    for _ in range(epochs):
        for xb, yb in batches:
            _, h = baseline_layer(xb, W1, b1, baseline_sigmoid)
            _, probs = baseline_layer(h, W2, b2, baseline_softmax)
            d2 = probs - yb
            gW2, gb2 = h.T @ d2, d2.sum(0)
            d1 = (d2 @ W2.T) * h * (1 - h)
            gW1, gb1 = xb.T @ d1, d1.sum(0)
            gx = d1 @ W1.T  # the handout's backwards always returns the input gradient
            W1 -= lr * gW1; b1 -= lr * gb1; W2 -= lr * gW2; b2 -= lr * gb2
    probs = baseline_layer(baseline_layer(xv, W1, b1, baseline_sigmoid)[1], W2, b2, baseline_softmax)[1]
    return float(np.mean(probs.argmax(1) == yv.argmax(1))), gx.shape


def baseline_q4(x, epochs=100, batch_size=36, lr=3e-5, seed=0):
    """The student notebook's Q4: the handout's defaults, float64, momentum 0.9."""
    rng = np.random.default_rng(seed)
    sizes = [1024, 32, 32, 32, 1024]
    Ws = [rng.uniform(-np.sqrt(6 / (i + o)), np.sqrt(6 / (i + o)), (i, o)) for i, o in zip(sizes[:-1], sizes[1:])]
    bs = [np.zeros(o) for o in sizes[1:]]
    MW = [np.zeros_like(W) for W in Ws]
    Mb = [np.zeros_like(b) for b in bs]
    order = rng.permutation(len(x))
    batches = [x[order[i:i + batch_size]] for i in range(0, len(x), batch_size)]
    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    for epoch in range(epochs):
        for xb in batches:
            acts = [xb]
            for k in range(4):
                acts.append((baseline_sigmoid if k == 3 else relu)(acts[-1] @ Ws[k] + bs[k]))
            delta = 2 * (acts[-1] - xb)
            for k in reversed(range(4)):
                out = acts[k + 1]
                d = delta * (out * (1 - out) if k == 3 else (out > 0))
                gW, gb = acts[k].T @ d, d.sum(0)
                delta = d @ Ws[k].T
                MW[k] = 0.9 * MW[k] - lr * gW; Ws[k] += MW[k]
                Mb[k] = 0.9 * Mb[k] - lr * gb; bs[k] += Mb[k]
        if (epoch + 1) % 20 == 0:
            lr *= 0.9
    return Ws, bs


def reconstruct_baseline(Ws, bs, x):
    out = x
    for k in range(4):
        out = out @ Ws[k] + bs[k]
        out = baseline_sigmoid(out) if k == 3 else np.maximum(out, 0)
    return out


def psnr(x, out):
    mse = np.mean((x - out) ** 2, axis=1)
    return float(np.mean(10 * np.log10(1 / mse)))


def best_times(baseline, ours, repeat):
    """Run baseline and ours alternately, repeat times each; the best time of each, and their last results."""
    times = {"baseline": [], "ours": []}
    results = {}
    for _ in range(repeat):
        for name, fn in (("baseline", baseline), ("ours", ours)):
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return min(times["baseline"]), results["baseline"], min(times["ours"]), results["ours"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="*", default=["q3", "q4"], help="q3, q4 or both")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(data.data_source().describe())
    x, y = data.load_nist36("train")
    xv, yv = data.load_nist36("valid")
    # The handout reads the data with scipy.io.loadmat, which returns Fortran-ordered
    # arrays; the baseline keeps that layout, as the student's code had it.
    xf, yf = np.asfortranarray(x), np.asfortranarray(y)
    if "q3" in args.which:
        t_base, (acc_base, _), t_ours, (params, _) = best_times(
            lambda: baseline_q3(xf, yf, xv, yv),
            lambda: train.train_classifier(x, y, log_every=0, **models.NIST36_RECIPE), args.repeat)
        acc_ours = train.evaluate_classifier(params, xv, yv)[1]
        print(f"Q3.1, 50 epochs: baseline {t_base:.2f} s (valid acc {acc_base:.4f}), "
              f"hwlib {t_ours:.2f} s (valid acc {acc_ours:.4f}): {t_base / t_ours:.2f}x faster")
    if "q4" in args.which:
        t_base, (Ws, bs), t_ours, (params, _) = best_times(
            lambda: baseline_q4(xf),
            lambda: train.train_autoencoder(x, log_every=0, **models.AUTOENCODER_RECIPE), args.repeat)
        psnr_base = psnr(xv, reconstruct_baseline(Ws, bs, xv))
        psnr_ours = psnr(xv, train.reconstruct(params, xv).astype(np.float64))
        print(f"Q4, 100 epochs: baseline {t_base:.2f} s (valid PSNR {psnr_base:.2f} dB), "
              f"hwlib {t_ours:.2f} s (valid PSNR {psnr_ours:.2f} dB): {t_base / t_ours:.2f}x faster")


if __name__ == "__main__":
    main()
