"""The training benchmark's references do what they claim, so that its ratios mean something."""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_training as bench  # noqa: E402

from hwlib import nn  # noqa: E402


def toy_nist(n=150, seed=0):
    rng = np.random.default_rng(seed)
    y = np.eye(36)[rng.integers(0, 36, size=n)]
    x = np.clip(rng.random((n, 1024)) + 0.3 * (y @ rng.random((36, 1024))), 0, 1)
    return x, y


def test_student_layers_compute_what_hwlib_computes():
    rng = np.random.default_rng(1)
    x, y = toy_nist(20)
    student, ours = {}, {}
    bench.student_init(1024, 64, student, "layer1", rng)
    bench.student_init(64, 36, student, "output", rng)
    ours.update({k: v.copy() for k, v in student.items()})
    probs = bench.student_forward(
        bench.student_forward(x, student, "layer1", bench.student_sigmoid),
        student,
        "output",
        bench.student_softmax,
    )
    delta = bench.student_backwards(
        probs - y, student, "output", bench.student_linear_deriv
    )
    bench.student_backwards(delta, student, "layer1", bench.student_sigmoid_deriv)
    ours_probs = nn.forward(
        nn.forward(x, ours, "layer1", nn.sigmoid), ours, "output", nn.softmax
    )
    delta = nn.backwards(ours_probs - y, ours, "output", nn.linear_deriv)
    nn.backwards(delta, ours, "layer1", nn.sigmoid_deriv)
    np.testing.assert_allclose(probs, ours_probs, rtol=1e-12)
    np.testing.assert_allclose(
        bench.student_loss_and_acc(y, probs),
        nn.compute_loss_and_acc(y, probs),
        rtol=1e-12,
    )
    for k in ("grad_Wlayer1", "grad_blayer1", "grad_Woutput", "grad_boutput"):
        np.testing.assert_allclose(student[k], ours[k], rtol=1e-10, atol=1e-14)


def test_bare_references_train_exactly_like_the_student_code():
    x, y = toy_nist()
    student, history = bench.student_q3(x, y, x, y, epochs=2, batch_size=32, lr=0.01)
    bare = bench.bare_q3(x, y, epochs=2, batch_size=32, lr=0.01)
    for k, w in zip(("Wlayer1", "blayer1", "Woutput", "boutput"), bare):
        np.testing.assert_allclose(w, student[k], rtol=1e-9, atol=1e-12)
    assert (
        len(history) == 2 and history[1][0] < history[0][0]
    )  # the loss fell: it trained

    student = bench.student_q4(x, epochs=2, batch_size=32, lr=1e-4)
    Ws, bs = bench.bare_q4(x, epochs=2, batch_size=32, lr=1e-4)
    for (name, _, _), W, b in zip(bench.AUTOENCODER_LAYERS, Ws, bs):
        np.testing.assert_allclose(W, student["W" + name], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(b, student["b" + name], rtol=1e-9, atol=1e-12)


def test_reader_benchmark_tells_page_errors_from_errors_of_the_images_alone():
    import bench_reader

    # Z: misread both ways; B and O: only on the page; 1, I and S: only alone; A: right
    # both ways.
    assert bench_reader.error_sources("AB1ZOIS", "A81SBIS", "ABIRO15") == (1, 2, 3)
    assert bench_reader.error_sources("AB", "AB", "AB") == (0, 0, 0)
    assert bench_reader.error_sources("ABC", "AC", "ABC") is None  # cannot be paired
