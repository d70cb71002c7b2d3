"""Training loops for Q2-Q4, built only from the handout's functions in hwlib.nn."""

import hashlib
import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .conv import cnn_probs, cnn_step, init_cnn
from .nn import (
    backwards,
    compute_loss_and_acc,
    forward,
    get_random_batches,
    initialize_weights,
    linear_deriv,
    relu,
    relu_deriv,
    sigmoid,
    sigmoid_deriv,
    softmax,
)


def sgd_update(params, lr):
    """Q2's step for every parameter that has a gradient: W = W - lr * grad, in place;
    consumes the gradients."""
    for key in [k for k in params if k.startswith("grad_")]:
        step = params.pop(key)
        step *= lr
        params[key[len("grad_") :]] -= step


def momentum_update(params, lr, momentum):
    """Q4.2.1's step for every parameter that has a gradient: M = momentum * M - lr *
    grad, then W = W + M, in place, with one accumulator per parameter in
    params['M_' + name], which starts at 0; consumes the gradients."""
    for key in [k for k in params if k.startswith("grad_")]:
        name = key[len("grad_") :]
        step = params.pop(key)
        step *= lr
        if not isinstance(params.get("M_" + name), np.ndarray):
            params["M_" + name] = np.zeros_like(step)  # a Counter reads 0 here
        M = params["M_" + name]
        M *= momentum
        M -= step
        params[name] += M


def init_classifier(in_size, hidden, classes, seed, dtype=np.float32, conv=()):
    """The Q2/Q3 network in_size -> hidden (sigmoid) -> classes (softmax), Xavier's.

    hidden is one width (Q3.1: layer1, output), or a list of widths for several sigmoid
    layers (layer1, layer2, ..., output). With conv, the channels of convolution
    stages, it is the convolutional reader of hwlib.conv instead (in_size 1024).
    """
    if conv:
        return init_cnn(conv, hidden, classes, seed, dtype)
    rng = np.random.default_rng(seed)
    params = {}
    sizes = [in_size, *np.atleast_1d(hidden).tolist(), classes]
    names = [f"layer{i}" for i in range(1, len(sizes) - 1)] + ["output"]
    for name, n_in, n_out in zip(names, sizes[:-1], sizes[1:]):
        initialize_weights(n_in, n_out, params, name, rng=rng)
    return {k: v.astype(dtype) for k, v in params.items()}


def hidden_layers(params):
    """The classifier's sigmoid layers, from the input on: layer1, layer2, ..."""
    names = [k[1:] for k in params if k.startswith("Wlayer")]
    return sorted(names, key=lambda name: int(name[len("layer") :]))


# The convolutional network reads this many rows at a time: its windows (conv.patches)
# and activations take about 400 KB per image: 1 GB for the validation split at once.
CONV_ROWS = 256


def classifier_probs(params, x):
    """Forward pass of the classifier: the class probabilities of every row of x,
    computed in the weights' dtype (the convolutional network CONV_ROWS rows at a
    time)."""
    x = x.astype(params["Wlayer1"].dtype, copy=False)
    if "Wconv1" in params:
        starts = range(0, len(x), CONV_ROWS)
        return np.vstack([cnn_probs(params, x[i : i + CONV_ROWS]) for i in starts])
    for name in hidden_layers(params):
        x = forward(x, params, name, sigmoid)
    return forward(x, params, "output", softmax)


def classifier_step(params, xb, yb):
    """Forward, loss and backward on one batch; stores the gradients.

    xb: N x in, yb: N x classes one-hot. Returns (loss, accuracy) of the batch.
    """
    if "Wconv1" in params:
        return cnn_step(params, xb, yb)
    probs = classifier_probs(params, xb)
    loss, acc = compute_loss_and_acc(yb, probs)
    delta = backwards(probs - yb, params, "output", linear_deriv)
    for name in reversed(hidden_layers(params)):
        delta = backwards(
            delta, params, name, sigmoid_deriv, grad_input=name != "layer1"
        )
    return loss, acc


def evaluate_classifier(params, x, y):
    """Average cross-entropy per sample, and accuracy, of the classifier on (x, y)."""
    probs = classifier_probs(params, x)
    loss, acc = compute_loss_and_acc(y, probs)
    return loss / len(x), acc


@dataclass(frozen=True)
class Recipe:
    """How train_classifier trains a classifier (models has the book's recipes). The
    defaults are the handout's loop: plain SGD on batches drawn once."""

    hidden: int | tuple  # one width, or a tuple of widths for several sigmoid layers
    epochs: int
    batch_size: int
    lr: float  # multiplies the gradient of the loss summed over a batch
    momentum: float = 0.0  # 0: sgd_update, else momentum_update
    reshuffle: bool = False  # new random batches every epoch
    anneal: bool = False  # the rate falls along a half cosine, from lr to about 0
    shift: int = 0  # every epoch, each image moved by up to shift pixels in x and y
    copies: int = 0  # distorted copies of the training set (see distort)
    binarized: float = 0.0  # each copied image's chance to go through binarize
    paper_at_zero: bool = False  # train on x - 1: only the ink drives the first layer
    conv: tuple = ()  # channels of 5x5 convolution stages: the convolutional reader
    seed: int = 0

    def __post_init__(self):
        if not 0 <= self.binarized <= 1:
            raise ValueError(f"binarized is a chance, 0 to 1, not {self.binarized}")
        if self.binarized and not self.copies:
            raise ValueError("binarized needs copies: only copied images are binarized")


def train_classifier(x, y, valid, recipe, log_every=0, progress=None):
    """A classifier trained on (x, y) as recipe says; returns (params, history).

    valid is (xv, yv) or None. Sets up the network and its batches (epoch_batches),
    runs train_loop, and with paper_at_zero trains on x - 1 and folds the shift back
    into the first layer (fold_paper), so that the result takes the images as they are.
    train_loop says what history holds, and what log_every and progress do.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    y = np.ascontiguousarray(y, dtype=np.float32)
    params = init_classifier(
        x.shape[1], recipe.hidden, y.shape[1], recipe.seed, conv=recipe.conv
    )
    batches_of = epoch_batches(x, y, recipe, np.random.default_rng(recipe.seed + 1))
    if valid is not None:  # as the network sees its training images (epoch_batches)
        paper = np.float32(recipe.paper_at_zero)
        valid = (np.asarray(valid[0], np.float32) - paper, valid[1])
    history = train_loop(params, batches_of, valid, recipe, log_every, progress)
    return fold_paper(params, recipe), history


def train_loop(params, batches_of, valid, recipe, log_every=0, progress=None):
    """Q2's training loop: for every batch of every epoch, forward, loss, backward and
    an update of params in place; returns the history.

    batches_of(epoch) gives the epoch's batches (xb, yb). history holds per-epoch
    lists: train_loss / train_acc, per sample over the epoch's batches while the
    weights change, as the handout computes them, and valid_loss / valid_acc on valid
    (or None) after each epoch; loss is cross-entropy per sample. A rounded line is
    printed every log_every epochs (0: never); progress, if given, wraps the epochs.
    """
    history = {"train_loss": [], "train_acc": [], "valid_loss": [], "valid_acc": []}
    for epoch in _epochs(recipe.epochs, progress):
        rate = learning_rate(recipe, epoch)
        total_loss = correct = count = 0.0
        for xb, yb in batches_of(epoch):
            loss, acc = classifier_step(params, xb, yb)
            if recipe.momentum:
                momentum_update(params, rate, recipe.momentum)
            else:
                sgd_update(params, rate)
            total_loss += loss
            correct += acc * len(xb)
            count += len(xb)
        history["train_loss"].append(total_loss / count)
        history["train_acc"].append(correct / count)
        if valid is not None:
            record_validation(history, params, valid)
        if log_every and (epoch + 1) % log_every == 0:
            print(epoch_line(history, epoch))
    return history


def learning_rate(recipe, epoch):
    """The rate of an epoch (from 0): lr, or with anneal lr * (1 + cos(pi epoch /
    epochs)) / 2, which falls from lr in the first epoch to near 0 in the last."""
    if not recipe.anneal:
        return recipe.lr
    return recipe.lr * 0.5 * (1 + math.cos(math.pi * epoch / recipe.epochs))


def epoch_batches(x, y, recipe, rng):
    """A function from an epoch to its list of batches (xb, yb), as recipe says.

    Without shift or copies: the handout's batches, drawn once, or drawn anew every
    epoch with reshuffle. With them, every epoch draws new batches of len(x) images,
    picked at random from the originals and their copies (distorted_copies; with
    binarized, each copied image goes through binarize with that chance), each moved by
    up to shift pixels (random_shift). With paper_at_zero the images come as x - 1.
    """
    paper = np.float32(recipe.paper_at_zero)
    if not (recipe.shift or recipe.copies):
        x = x - paper

        def draw():
            return get_random_batches(x, y, recipe.batch_size, rng=rng)

        if recipe.reshuffle:
            return lambda epoch: draw()
        first = draw()
        return lambda epoch: first
    pool = np.vstack([x, *distorted_copies(x, recipe.copies, rng)])
    if recipe.binarized:  # drawn after the copies, which stay those of other recipes
        copies = pool[len(x) :]  # a view: binarize changes the pool
        picked = rng.random(len(copies)) < recipe.binarized
        copies[picked] = binarize(copies[picked])
    padded = pad_images(pool, recipe.shift)  # once: the paper around every image
    # Arrays that every epoch reuses (new ones this large cost fresh memory pages).
    chosen = np.empty((len(x), *padded.shape[1:]), np.float32)
    shifted = np.empty_like(x)

    def batches(epoch):
        images, labels = padded, y
        if recipe.copies:
            drawn = rng.choice(len(pool), len(x), replace=False)
            images = np.take(padded, drawn, axis=0, out=chosen)
            labels = y[drawn % len(x)]
        random_shift(images, recipe.shift, rng, out=shifted)
        np.subtract(shifted, paper, out=shifted)
        return get_random_batches(shifted, labels, recipe.batch_size, rng=rng)

    return batches


def record_validation(history, params, valid):
    """Append the loss and accuracy of params on valid = (xv, yv) to history."""
    loss, acc = evaluate_classifier(params, *valid)
    history["valid_loss"].append(loss)
    history["valid_acc"].append(acc)


def epoch_line(history, epoch):
    """One rounded line of the history's entries for an epoch (from 0)."""
    line = (
        f"epoch {epoch + 1:3d}  loss {history['train_loss'][epoch]:.3f}  "
        f"acc {history['train_acc'][epoch]:.3f}"
    )
    if history["valid_acc"]:
        line += (
            f"  valid loss {history['valid_loss'][epoch]:.3f}  "
            f"valid acc {history['valid_acc'][epoch]:.3f}"
        )
    return line


def fold_paper(params, recipe):
    """params trained on x - 1 (paper_at_zero) turned into params that take the images
    as they are: (x - 1) W + b = x W + (b - the column sums of W); a convolution's
    kernel lies wholly on the image, so its b loses its kernel's sums likewise."""
    if recipe.paper_at_zero:
        first = "conv1" if recipe.conv else "layer1"
        W = params["W" + first]
        params["b" + first] -= W.reshape(-1, W.shape[-1]).sum(axis=0, dtype=np.float64)
    return params


def pad_images(x, margin):
    """The 32x32 images in the rows of x, with margin pixels of paper (1.0) around.

    x: N x 1024. Returns N x (32 + 2 margin) x (32 + 2 margin).
    """
    side = int(round(np.sqrt(x.shape[1])))
    return np.pad(
        x.reshape(len(x), side, side),
        ((0, 0), (margin, margin), (margin, margin)),
        constant_values=1.0,
    )


def random_shift(padded, margin, rng, groups=64, out=None):
    """Crop the padded images at random offsets: images moved by up to margin pixels.

    The images are cut into `groups` contiguous runs, each moved by its own random
    offset, which is much faster than one offset per image; since the batches are
    drawn at random afterwards, every batch still mixes many offsets.
    Returns N x side^2 rows, written into out if given.
    """
    n, side = len(padded), padded.shape[1] - 2 * margin
    out = np.empty((n, side * side), padded.dtype) if out is None else out
    images = out.reshape(n, side, side)  # a view of out
    bounds = np.linspace(0, n, groups + 1).astype(int)
    for lo, hi, (dy, dx) in zip(
        bounds[:-1], bounds[1:], rng.integers(0, 2 * margin + 1, size=(groups, 2))
    ):
        images[lo:hi] = padded[lo:hi, dy : dy + side, dx : dx + side]
    return out


# The distorted copies that this process drew last (see distorted_copies).
_last_copies = {}


def distorted_copies(x, count, rng):
    """count distorted copies of the images x (distort), drawn from rng.

    The networks that train on copies of the same images start from the same random
    state, so a process keeps the last copies that it drew, and gives them again to a
    network that would draw the same ones (the same images, count and state), moving
    rng on as drawing them would have. The copies are the same either way.
    """
    key = (
        hashlib.sha256(x.tobytes()).hexdigest(),
        count,
        repr(rng.bit_generator.state),
    )
    if key not in _last_copies:
        copies = [distort(x, rng) for _ in range(count)]
        _last_copies.clear()
        _last_copies[key] = (copies, rng.bit_generator.state)
    copies, state = _last_copies[key]
    rng.bit_generator.state = state
    return copies


def distort(x, rng, rotate=8.0, scale=0.08, slant=0.15, stroke=0.3):
    """A distorted copy of the NIST36-format images x, for training the reading network.

    Each image is turned by up to rotate degrees, scaled by up to 1 +- scale, and
    slanted by up to slant (a shear), all at random; a fraction stroke of the images
    also gets strokes one pixel thicker or thinner (half each).
    """
    n = len(x)
    images = x.reshape(n, 32, 32)
    angle = np.deg2rad(rng.uniform(-rotate, rotate, n))
    factor = rng.uniform(1 - scale, 1 + scale, n)
    cos, sin = np.cos(angle) / factor, np.sin(angle) / factor
    # Output pixel p samples the input at inverse (p - c) + c, c the image centre.
    inverse = np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)
    inverse[:, 0, 1] += rng.uniform(-slant, slant, n)
    offsets = 15.5 - np.einsum("nij,j->ni", inverse, [15.5, 15.5])
    out = np.stack(
        [
            ndimage.affine_transform(image, m, offset=o, order=1, cval=1.0)
            for image, m, o in zip(images, inverse, offsets)
        ]
    )
    pick = rng.random(n)
    thicker, thinner = pick < stroke / 2, (pick >= stroke / 2) & (pick < stroke)
    out[thicker] = ndimage.grey_erosion(out[thicker], size=(1, 2, 2))  # ink is dark
    out[thinner] = ndimage.grey_dilation(out[thinner], size=(1, 2, 2))
    return out.reshape(n, 1024).astype(x.dtype)


# How much prepare_crop blurs the characters that Q5 crops from a photo
# (text.CropStyle.blur), and binarize the images that it makes look like them.
CROP_BLUR = 0.6


def binarize(x, level=0.6, blur=CROP_BLUR):
    """The NIST36-format images x made to look as Q5 prepares a character cropped from
    a photo: the ink where x is below level made full ink, gaps of one pixel closed (as
    findLetters closes small gaps; the paper goes on around the image), and the edges
    blurred by blur pixels (as prepare_crop blurs them).
    """
    ink = np.pad(x.reshape(-1, 32, 32) < level, ((0, 0), (1, 1), (1, 1)))
    ink = ndimage.binary_closing(ink, structure=np.ones((1, 2, 2)))[:, 1:-1, 1:-1]
    smooth = ndimage.gaussian_filter(ink.astype(np.float32), (0, blur, blur))
    return (1 - np.clip(smooth, 0, 1)).reshape(-1, 1024).astype(x.dtype)


AUTOENCODER_LAYERS = [
    ("layer1", relu, relu_deriv),
    ("hidden", relu, relu_deriv),
    ("hidden2", relu, relu_deriv),
    ("output", sigmoid, sigmoid_deriv),
]


def init_autoencoder(in_size, hidden, seed, dtype=np.float32):
    """Q4.1: in_size -> hidden -> hidden -> hidden -> in_size, Xavier-initialised."""
    rng = np.random.default_rng(seed)
    params = {}
    sizes = [in_size, hidden, hidden, hidden, in_size]
    for (name, _, _), n_in, n_out in zip(AUTOENCODER_LAYERS, sizes[:-1], sizes[1:]):
        initialize_weights(n_in, n_out, params, name, rng=rng)
    return {k: v.astype(dtype) for k, v in params.items()}


def reconstruct(params, x):
    """The autoencoder's output for every row of x."""
    out = x.astype(params["Wlayer1"].dtype, copy=False)
    for name, activation, _ in AUTOENCODER_LAYERS:
        out = forward(out, params, name, activation)
    return out


def psnr_per_image(x, out):
    """Q4.3.2: each row's PSNR in dB against its own reconstruction, pixels in [0, 1].

    PSNR = 20 log10(MAX_I) - 10 log10(MSE) with MAX_I = 1, computed in float64; the
    same as skimage.metrics.peak_signal_noise_ratio(x_i, out_i, data_range=1.0).
    """
    diff = np.asarray(x, dtype=np.float64) - np.asarray(out, dtype=np.float64)
    return -10 * np.log10(np.mean(diff**2, axis=1))


def autoencoder_step(params, xb):
    """Forward, total squared error and backward on one batch; returns the loss."""
    diff = reconstruct(params, xb) - xb
    loss = float(np.vdot(diff, diff))
    delta = 2 * diff
    for name, _, activation_deriv in reversed(AUTOENCODER_LAYERS):
        delta = backwards(
            delta, params, name, activation_deriv, grad_input=name != "layer1"
        )
    return loss


def train_autoencoder(
    x,
    *,
    hidden,
    epochs,
    batch_size,
    lr,
    momentum,
    decay,
    decay_every,
    seed,
    log_every=0,
    progress=None,
):
    """Q4.2: momentum SGD on the total squared error; lr *= decay every decay_every
    epochs. The handout's settings are models.AUTOENCODER_RECIPE.

    New random batches are drawn every epoch. Returns (params, losses) with the training
    loss per epoch, summed over the epoch's batches and divided by the number of images.
    """
    x = np.ascontiguousarray(x, dtype=np.float32)
    params = init_autoencoder(x.shape[1], hidden, seed)
    rng = np.random.default_rng(seed + 1)
    losses = []
    for epoch in _epochs(epochs, progress):
        # No labels: a zero-width stand-in, so that only the images are copied.
        batches = [xb for xb, _ in get_random_batches(x, x[:, :0], batch_size, rng=rng)]
        total = sum(_autoencoder_update(params, xb, lr, momentum) for xb in batches)
        losses.append(total / len(x))
        if log_every and (epoch + 1) % log_every == 0:
            print(f"epoch {epoch + 1:3d}  loss per image {total / len(x):.2f}")
        if (epoch + 1) % decay_every == 0:
            lr *= decay
    return params, losses


def _autoencoder_update(params, xb, lr, momentum):
    loss = autoencoder_step(params, xb)
    momentum_update(params, lr, momentum)
    return loss


def _epochs(epochs, progress):
    """range(epochs), wrapped by progress (a tqdm bar, say) if given."""
    return progress(range(epochs)) if progress else range(epochs)
