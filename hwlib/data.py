"""One data layer for every question: the course files, the built-in real handwriting,
the photos.

The source is chosen in this order:
1. ``HW5_DATA``, if set: the word ``builtin``, or a folder holding the course files
   (``nist36_*.mat`` and the photos, directly or one folder down, as the course zips
   unpack);
2. ``data/`` in the project (for an installed hwlib, in the user's cache folder), if
   ``make data`` (``fetch()``) has put the course files there;
3. the built-in set: real handwriting shipped with hwlib (``emnist36.npz``, see
   ``EMNIST36.md`` beside it), and pages composed from its test split for Q5.
"""

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import platformdirs
import scipy.io

from .pages import compose_photos

ROOT = Path(__file__).resolve().parents[1]
# A checkout of the project keeps downloads and networks in the project; an installed
# hwlib keeps them in the user's cache folder, never inside site-packages.
HOME = (
    ROOT
    if (ROOT / "pyproject.toml").is_file()
    else Path(platformdirs.user_cache_dir("hwlib"))
)
DATA_DIR = HOME / "data"
BUILTIN = "builtin"
BUILTIN_FILE = Path(__file__).with_name("emnist36.npz")
CLASSES = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SPLITS = ("train", "valid", "test")

COURSE_URL = "http://www.cs.cmu.edu/~lkeselma/16720a_data/"
COURSE_ZIPS = {"data.zip": 216_305_627, "images.zip": 3_248_168}
NIST36_FILES = [f"nist36_{split}.mat" for split in SPLITS]
PHOTO_SHA256 = {
    "01_list.jpg": "30937d02f89b6aab490b231340901b61309b090a88269e2e6617cad6da9230b4",
    "02_letters.jpg": (
        "1187b79093ad73ff6fb2e14a800923b496e84b406433ee545bab716862bec6f6"
    ),
    "03_haiku.jpg": "524a81dbbf5a63697037a79a258ab51b85b518945d9f684fa1244a40921430dc",
    "04_deep.jpg": "7f7b13dafeb706dbc0f3132f27db5c1afb94bfc5ee0ef3aa485b15a26b51ecab",
}
# The text written on each course photo, one string per line (punctuation left out).
PHOTO_TEXT = {
    "01_list.jpg": [
        "TO DO LIST",
        "1 MAKE A TO DO LIST",
        "2 CHECK OFF THE FIRST",
        "THING ON TO DO LIST",
        "3 REALIZE YOU HAVE ALREADY",
        "COMPLETED 2 THINGS",
        "4 REWARD YOURSELF WITH",
        "A NAP",
    ],
    "02_letters.jpg": ["ABCDEFG", "HIJKLMN", "OPQRSTU", "VWXYZ", "1234567890"],
    "03_haiku.jpg": [
        "HAIKUS ARE EASY",
        "BUT SOMETIMES THEY DONT MAKE SENSE",
        "REFRIGERATOR",
    ],
    "04_deep.jpg": ["DEEP LEARNING", "DEEPER LEARNING", "DEEPEST LEARNING"],
}
# The composed default photos have names of their own, not the course photos' names.
COMPOSED_NAMES = {name: f"composed_{name[3:-4]}.png" for name in PHOTO_TEXT}
# A sheet of single characters: its spaces are not meaningful.
SPACES_MEANINGFUL = {"02_letters.jpg": False, COMPOSED_NAMES["02_letters.jpg"]: False}
PAGES_SEED = 0  # the composed default photos
PHOTO_WORKING_SIZE = 1600  # longest side, in pixels, at which Q5 reads a photo


class DataError(Exception):
    """A data file is missing, unreadable or not in the expected format."""

    def _render_traceback_(self):
        """In a notebook, IPython shows these lines instead of a traceback."""
        return [f"DataError: {self}"]


@dataclass(frozen=True)
class Source:
    """Where the data comes from: kind is 'builtin' or 'course', folder for 'course'."""

    kind: str
    folder: Path = None

    def describe(self):
        """The data, for a reader: the set, and at most the folder's own name."""
        if self.kind == BUILTIN:
            return (
                "the built-in real handwriting (EMNIST, from NIST SD19; "
                "8,280 / 2,520 / "
                "1,800 images) and photos composed from its test split"
            )
        line = f"the NIST36 files and photos in the folder '{self.folder.name}'"
        own = self.files_description()
        return line + (f"; the NIST36 files describe themselves: {own}" if own else "")

    def files_description(self):
        """The description that the folder's nist36_train.mat carries, if it has one
        (a set built in the course format may say what it is), else None."""
        path = _find(self.folder, NIST36_FILES[0]) if self.folder else None
        if path is None:
            return None
        try:
            mat = scipy.io.loadmat(path, variable_names=["description"])
        except Exception:  # scipy raises several types; read_nist36 reports them
            return None
        text = mat.get("description")
        return (
            str(np.ravel(text)[0]).strip() if text is not None and text.size else None
        )


def data_source():
    """The configured source (see the module docstring)."""
    setting = os.environ.get("HW5_DATA", "").strip()
    if setting.lower() == BUILTIN:
        return Source(BUILTIN)
    if setting:
        folder = Path(setting).expanduser()
        if not folder.is_dir():
            raise DataError(
                f"HW5_DATA={setting}: not a folder (set it to a folder with the "
                f"course files, or to '{BUILTIN}')"
            )
        return Source("course", folder.resolve())
    if _find(DATA_DIR, NIST36_FILES[0]) is not None:
        return Source("course", DATA_DIR)
    return Source(BUILTIN)


def _find(folder, name):
    """folder/name, or folder/*/name (one level down), or None."""
    if not folder.is_dir():
        return None
    for candidate in [folder / name, *sorted(folder.glob(f"*/{name}"))]:
        if candidate.is_file():
            return candidate
    return None


def source_files(source):
    """The files that hwlib reads from the source (those that exist)."""
    if source.kind == BUILTIN:
        return [BUILTIN_FILE]
    names = NIST36_FILES + list(PHOTO_SHA256)
    found = [p for name in names if (p := _find(source.folder, name)) is not None]
    truths = {p.parent / "ground_truth.json" for p in found}
    return found + sorted(p for p in truths if p.is_file())


def load_nist36(split, source=None):
    """(x, y) for split in 'train' / 'valid' / 'test'.

    x: N x 1024 float64 in [0, 1], y: N x 36 one-hot.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    source = source or data_source()
    if source.kind == BUILTIN:
        return builtin_nist36(split)
    path = _find(source.folder, f"nist36_{split}.mat")
    if path is None:
        raise DataError(
            f"{source.folder}: no nist36_{split}.mat here or one folder down "
            "(run 'make data')"
        )
    return read_nist36(path, split)


def read_nist36(path, split):
    """Read and validate one course .mat file; errors name the file and the problem."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        mat = scipy.io.loadmat(path)
    except Exception as e:  # scipy raises several types for damaged files
        raise DataError(
            f"{path}: not a readable .mat file ({type(e).__name__}: {e})"
        ) from None
    for key in (f"{split}_data", f"{split}_labels"):
        if key not in mat:
            found = sorted(k for k in mat if not k.startswith("__"))
            raise DataError(f"{path}: no '{key}' array (found {found})")
    x = np.ascontiguousarray(mat[f"{split}_data"], dtype=np.float64)
    y = np.ascontiguousarray(mat[f"{split}_labels"], dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 1024:
        raise DataError(
            f"{path}: {split}_data has shape {x.shape}, "
            "expected N x 1024 (32x32 images)"
        )
    if y.shape != (len(x), len(CLASSES)):
        raise DataError(
            f"{path}: {split}_labels has shape {y.shape}, "
            f"expected {(len(x), len(CLASSES))}"
        )
    if not (np.all((y == 0) | (y == 1)) and np.all(y.sum(axis=1) == 1)):
        raise DataError(
            f"{path}: {split}_labels is not one-hot (each row needs a single 1)"
        )
    if not np.all(np.isfinite(x)) or x.min() < -0.01 or x.max() > 1.01:
        raise DataError(
            f"{path}: {split}_data values lie in "
            f"[{np.nanmin(x):.3g}, {np.nanmax(x):.3g}], "
            "expected [0, 1]"
        )
    return x, y


def builtin_nist36(split):
    """The built-in real handwriting's split, as the course format's float64 and one-hot
    arrays."""
    with np.load(BUILTIN_FILE, allow_pickle=False) as f:
        images, labels = f[f"{split}_images"], f[f"{split}_labels"]
    return images / 255.0, np.eye(len(CLASSES))[labels]


def cache_dir():
    """Where trained networks are saved: HW5_CACHE if set, else .cache/ in the
    project (see HOME)."""
    setting = os.environ.get("HW5_CACHE", "").strip()
    return Path(setting).expanduser() if setting else HOME / ".cache"


@contextmanager
def atomic_path(path):
    """A temporary file beside path to write to. When the block ends without an error
    it replaces path, with the permissions of any new file of the user's; otherwise it
    is removed: a failed write never leaves a partial file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(
            tmp, 0o666 & ~umask
        )  # mkstemp creates files readable by the owner only
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_npz(path, arrays):
    """Write arrays to path atomically (see atomic_path), creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)


@dataclass
class Photo:
    """A page of handwriting: name, RGB uint8 image, and its lines of text if known; for
    a page composed from a NIST36-format set, rows: the indices of the set's images
    written on it, one per character, in reading order."""

    name: str
    image: np.ndarray
    lines: list = None
    rows: list = None

    @property
    def spaces_meaningful(self):
        return SPACES_MEANINGFUL.get(self.name, True)


def composed_photos(texts, x, y, seed):
    """The pages of texts {name: lines} written with the NIST36-format rows x and
    one-hot labels y (pages.compose_photos), as Photos with their rows."""
    return [
        Photo(name, image, lines, rows)
        for name, image, lines, rows in compose_photos(texts, x, y, CLASSES, seed=seed)
    ]


def load_photos(source=None):
    """The four Q5 photos from the configured source, with their text where known."""
    source = source or data_source()
    if source.kind == BUILTIN:
        photos = composed_photos(PHOTO_TEXT, *builtin_nist36("test"), seed=PAGES_SEED)
        return [replace(p, name=COMPOSED_NAMES[p.name]) for p in photos]
    photos = []
    for name in PHOTO_SHA256:
        path = _find(source.folder, name)
        if path is None:
            raise DataError(
                f"{source.folder}: no {name} here or one folder down (run 'make data')"
            )
        truth = (
            json.loads(gt.read_text()).get(name)
            if (gt := path.parent / "ground_truth.json").is_file()
            else None
        )
        if truth is None and sha256(path) == PHOTO_SHA256[name]:
            truth = PHOTO_TEXT[name]
        photos.append(Photo(name, read_image(path, PHOTO_WORKING_SIZE), truth))
    return photos


def working_scale(shape, working_size=PHOTO_WORKING_SIZE):
    """The factor (at most 1) that brings an image of this shape (or PIL size) to
    working_size pixels on its longest side."""
    return min(1.0, working_size / max(shape[:2]))


def read_image(path, working_size=None):
    """An image file as an RGB uint8 array; a clear DataError if it is not an image.

    With working_size, an image larger than that on its longest side is decoded at a
    reduced size that is still at least working_size (a JPEG straight from its
    compressed data, at 1/2, 1/4 or 1/8 scale), so that a huge photo is never held at
    full size.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: a folder, not an image file")
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    try:
        with Image.open(path) as im:
            ratio = working_scale(im.size, working_size) if working_size else 1.0
            if ratio < 1:
                im.draft("RGB", (int(im.width * ratio) + 1, int(im.height * ratio) + 1))
                factor = max(im.size) // working_size
                if factor > 1:
                    im = im.reduce(factor)
            return np.asarray(im.convert("RGB"))
    except Image.DecompressionBombError as e:
        raise DataError(f"{path}: too large to read safely ({e})") from None
    except (UnidentifiedImageError, OSError) as e:
        raise DataError(f"{path}: not a readable image ({e})") from None


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch(data_dir=DATA_DIR):
    """Download the course's data.zip and images.zip into data_dir, and unpack what the
    book uses.

    Sizes and photo checksums are verified. A failed or offline download raises
    DataError saying what happened, and leaves no partial file: data_dir keeps only
    what it had plus any member unpacked and verified completely.
    """
    data_dir = Path(data_dir)
    created = [d for d in (data_dir, data_dir / "downloads") if not d.exists()]
    try:
        for zip_name, members in {
            "data.zip": NIST36_FILES,
            "images.zip": list(PHOTO_SHA256),
        }.items():
            if not all((data_dir / m).is_file() for m in members):
                _unpack(_download(zip_name, data_dir / "downloads"), members, data_dir)
    finally:
        for d in reversed(created):  # folders this call made and left empty
            if d.is_dir() and not any(d.iterdir()):
                d.rmdir()
    return data_dir


def _download(zip_name, folder):
    """One course zip, downloaded with a progress bar into folder, its size checked."""
    import pooch
    import requests

    url = COURSE_URL + zip_name
    try:
        archive = Path(
            pooch.retrieve(
                url, known_hash=None, fname=zip_name, path=folder, progressbar=True
            )
        )
    except (requests.exceptions.RequestException, OSError) as e:
        raise DataError(
            f"could not download {url} ({type(e).__name__}). Check the internet "
            "connection and run 'make data' again; until then the book uses the "
            "built-in real handwriting."
        ) from None
    got = archive.stat().st_size
    if got != COURSE_ZIPS[zip_name]:
        archive.unlink()
        raise DataError(
            f"{zip_name}: downloaded {got} bytes, expected {COURSE_ZIPS[zip_name]}; "
            "removed it, run 'make data' again"
        )
    return archive


def _unpack(archive, members, data_dir):
    """Extract the named members (matched by file name) into data_dir, atomically."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as z:
        by_name = {Path(i.filename).name: i for i in z.infolist() if not i.is_dir()}
        for name in members:
            if name not in by_name:
                raise DataError(f"{archive}: has no member {name}")
            with atomic_path(data_dir / name) as tmp:
                with open(tmp, "wb") as out, z.open(by_name[name]) as src:
                    shutil.copyfileobj(src, out)
                if name in PHOTO_SHA256 and sha256(tmp) != PHOTO_SHA256[name]:
                    raise DataError(
                        f"{archive}: {name} does not match the course photo's SHA-256"
                    )


def toy_data(seed=0):
    """The handout's Q2 test data: 4 Gaussian classes of 10 points in 2-D.

    Returns x: 40 x 2, y: 40 x 4 one-hot.
    """
    rng = np.random.default_rng(seed)
    means = [[3.6, 40], [3.9, 10], [3.4, 30], [2.0, 10]]
    covs = [
        [[0.05, 0], [0, 10]],
        [[0.01, 0], [0, 5]],
        [[0.25, 0], [0, 5]],
        [[0.5, 0], [0, 10]],
    ]
    x = np.vstack([rng.multivariate_normal(m, c, size=10) for m, c in zip(means, covs)])
    y = np.eye(4)[np.repeat(np.arange(4), 10)]
    return x, y
