"""The data layer: source choice, validation of the course files, the built-in default, fetching."""

import io
import os
import zipfile

import numpy as np
import pytest
import scipy.io
from PIL import Image, ImageDraw

from hwlib import data, pages, text
from hwlib.data import DataError, read_nist36


def write_mat(path, split="train", n=5, **overrides):
    rng = np.random.default_rng(0)
    arrays = {
        f"{split}_data": rng.uniform(size=(n, 1024)),
        f"{split}_labels": np.eye(36)[rng.integers(0, 36, size=n)],
    }
    arrays.update(overrides)
    scipy.io.savemat(path, arrays)
    return path


def test_reads_a_valid_file(tmp_path):
    x, y = read_nist36(write_mat(tmp_path / "nist36_train.mat"), "train")
    assert x.shape == (5, 1024) and y.shape == (5, 36)
    assert x.dtype == np.float64 and x.flags.c_contiguous


@pytest.mark.parametrize(
    "problem, make, message",
    [
        ("missing", lambda p: p, "file not found"),
        (
            "corrupt",
            lambda p: p.write_bytes(b"this is not a mat file" * 20) and p,
            "not a readable .mat file",
        ),
        (
            "truncated",
            lambda p: p.write_bytes(write_mat(p).read_bytes()[:3000]) and p,
            "not a readable .mat file",
        ),
        ("wrong key", lambda p: write_mat(p, split="valid"), "no 'train_data' array"),
        (
            "wrong shape",
            lambda p: write_mat(p, train_data=np.zeros((5, 1000))),
            "expected N x 1024",
        ),
        (
            "labels count",
            lambda p: write_mat(p, train_labels=np.eye(36)[:4]),
            "train_labels has shape",
        ),
        (
            "not one-hot",
            lambda p: write_mat(p, train_labels=np.full((5, 36), 1 / 36)),
            "not one-hot",
        ),
        (
            "out of range",
            lambda p: write_mat(p, train_data=np.full((5, 1024), 255.0)),
            "expected [0, 1]",
        ),
    ],
)
def test_bad_files_give_errors_that_name_the_file_and_the_problem(
    tmp_path, problem, make, message
):
    path = tmp_path / "nist36_train.mat"
    make(path)
    with pytest.raises(DataError) as err:
        read_nist36(path, "train")
    assert str(path) in str(err.value) and message in str(err.value)


def test_source_choice(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DATA_DIR", tmp_path / "data")
    monkeypatch.delenv("HW5_DATA", raising=False)
    assert data.data_source().kind == data.BUILTIN
    (tmp_path / "data" / "data").mkdir(parents=True)  # the course zip unpacks to data/
    write_mat(tmp_path / "data" / "data" / "nist36_train.mat")
    assert data.data_source() == data.Source("course", tmp_path / "data")
    monkeypatch.setenv("HW5_DATA", "builtin")
    assert data.data_source().kind == data.BUILTIN
    monkeypatch.setenv("HW5_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="nowhere: not a folder"):
        data.data_source()
    monkeypatch.setenv("HW5_DATA", str(tmp_path))
    with pytest.raises(DataError, match="no nist36_valid.mat"):
        data.load_nist36("valid")
    x, _ = data.load_nist36("train", data.Source("course", tmp_path / "data"))
    assert x.shape == (5, 1024)


def upright_means(x, y, char):
    return x[y[:, data.CLASSES.index(char)] == 1].mean(axis=0).reshape(32, 32).T


def assert_upright(x, y):
    """Class means look upright: L has its ink on the left and bottom, T at the top."""
    ink_l = 1 - upright_means(x, y, "L")
    assert ink_l[:, :16].sum() > 1.3 * ink_l[:, 16:].sum()
    assert ink_l[24:, :].sum() > ink_l[:8, :].sum()
    ink_t = 1 - upright_means(x, y, "T")
    assert ink_t[:12, :].sum() > 1.3 * ink_t[20:, :].sum()


def test_the_builtin_default_is_real_handwriting_in_the_course_format(monkeypatch):
    monkeypatch.setenv("HW5_DATA", "builtin")
    for split, per_class in [("train", 230), ("valid", 70), ("test", 50)]:
        x, y = data.load_nist36(split)
        assert x.shape == (36 * per_class, 1024) and y.shape == (36 * per_class, 36)
        assert x.dtype == np.float64 and x.min() >= 0 and x.max() <= 1
        np.testing.assert_array_equal(y.sum(axis=0), per_class)
        images = x.reshape(-1, 32, 32)
        assert (
            images[:, [0, -1], :].mean() > 0.95 and images[:, :, [0, -1]].mean() > 0.95
        )  # paper
        assert 0.05 < (x < 0.5).mean() < 0.35  # dark ink
    assert_upright(x, y)


def test_the_builtin_set_is_small_and_documented():
    assert data.BUILTIN_FILE.stat().st_size < 8_000_000
    provenance = (data.BUILTIN_FILE.parent / "EMNIST36.md").read_text()
    for fact in [
        "arXiv:1702.05373",
        "Special Database 19",
        "230 training, 70 validation and 50 test",
        "https://www.nist.gov/open/license",
    ]:
        assert fact in provenance


def test_the_builtin_set_equals_the_real_data_it_was_converted_from(real_data):
    for split in data.SPLITS:
        x, y = data.builtin_nist36(split)
        mx, my = read_nist36(real_data / "emnist36" / f"nist36_{split}.mat", split)
        assert np.abs(x - mx).max() <= 1 / 255
        np.testing.assert_array_equal(y, my)


def test_composed_photos_are_deterministic_and_carry_their_text():
    photos = data.load_photos(data.Source(data.BUILTIN))
    assert [p.name for p in photos] == [
        "composed_list.png",
        "composed_letters.png",
        "composed_haiku.png",
        "composed_deep.png",
    ]  # not the course photos' names
    assert [p.spaces_meaningful for p in photos] == [True, False, True, True]
    for p, lines in zip(photos, data.PHOTO_TEXT.values()):
        assert p.image.dtype == np.uint8 and p.image.ndim == 3 and p.image.shape[2] == 3
        assert p.lines == lines
        assert p.image.mean() > 150  # mostly paper
    again = data.load_photos(data.Source(data.BUILTIN))
    for a, b in zip(photos, again):
        np.testing.assert_array_equal(a.image, b.image)
    # The images written: one per character, of its class, from the built-in test split.
    _, test_y = data.builtin_nist36("test")
    for p in photos:
        written = "".join(data.CLASSES[k] for k in test_y[p.rows].argmax(axis=1))
        assert written == "".join(p.lines).replace(" ", "")


def test_composed_photos_record_the_images_that_compose_each_page():
    rng = np.random.default_rng(0)
    y = np.eye(36)[np.repeat(np.arange(36), 3)]
    x = rng.random((108, 1024))
    x[:, 300:700] = 0.0  # ink in every image, so that each has a glyph to crop
    texts = {"p": ["AB 11", "A"], "q": ["B1"]}
    photos = data.composed_photos(texts, x, y, seed=0)
    labels = [
        "".join(data.CLASSES[k] for k in y[p.rows].argmax(axis=1)) for p in photos
    ]
    assert [p.lines for p in photos] == [["AB 11", "A"], ["B1"]]
    assert labels == ["AB11A", "B1"]
    every = [i for p in photos for i in p.rows]
    assert len(set(every)) == len(every)  # a different image for every character


def test_composed_photos_use_each_test_image_at_most_once_and_of_the_right_class():
    test_x, test_y = data.load_nist36("test", data.Source(data.BUILTIN))
    photos = pages.compose_photos(data.PHOTO_TEXT, test_x, test_y, data.CLASSES, seed=0)
    used = [row for *_, rows in photos for row in rows]
    written = "".join(
        "".join(lines).replace(" ", "") for lines in data.PHOTO_TEXT.values()
    )
    assert len(used) == len(written) == len(set(used))
    labels = test_y.argmax(axis=1)
    assert "".join(data.CLASSES[labels[i]] for i in used) == written


def test_describing_a_source_names_no_absolute_path(tmp_path):
    folder = tmp_path / "course"
    folder.mkdir()
    line = data.Source("course", folder).describe()
    assert "'course'" in line and str(tmp_path) not in line
    assert "built-in real handwriting" in data.Source(data.BUILTIN).describe()


def test_a_course_folder_is_described_with_its_files_own_description(tmp_path):
    folder = tmp_path / "hw5"
    (folder / "set").mkdir(parents=True)
    arrays = {"train_data": np.ones((2, 1024)), "train_labels": np.eye(36)[:2]}
    scipy.io.savemat(folder / "set" / "nist36_train.mat", arrays)
    assert data.Source("course", folder).describe() == (
        "the NIST36 files and photos in the folder 'hw5'"
    )
    (folder / "set" / "nist36_train.mat").write_bytes(b"not a MATLAB file")
    assert data.Source("course", folder).describe() == (
        "the NIST36 files and photos in the folder 'hw5'"
    )  # load_nist36 reports the damaged file, naming it
    arrays["description"] = "A stand-in set, in the course format."
    scipy.io.savemat(folder / "set" / "nist36_train.mat", arrays)
    assert (
        data.Source("course", folder)
        .describe()
        .endswith(
            "; the NIST36 files describe themselves: A stand-in set, in the course format."
        )
    )


def test_save_npz_leaves_nothing_when_writing_fails(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez_compressed", fail)
    with pytest.raises(OSError):
        data.save_npz(tmp_path / "a.npz", {"x": np.zeros(3)})
    assert list(tmp_path.iterdir()) == []


def test_save_npz_round_trip_without_pickle(tmp_path):
    data.save_npz(tmp_path / "a.npz", {"x": np.arange(3.0)})
    with np.load(tmp_path / "a.npz", allow_pickle=False) as f:
        np.testing.assert_array_equal(f["x"], [0, 1, 2])
    assert [p.name for p in tmp_path.iterdir()] == ["a.npz"]


def test_fetch_offline_fails_cleanly_and_leaves_data_as_it_was(tmp_path, monkeypatch):
    import pooch
    import requests

    def offline(*args, **kwargs):
        raise requests.exceptions.ConnectionError("no route to host")

    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(
        DataError, match="could not download .*data.zip.*run 'make data' again"
    ):
        data.fetch(tmp_path / "data")
    assert not (tmp_path / "data").exists()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "keep.txt").write_text("mine")
    with pytest.raises(DataError):
        data.fetch(tmp_path / "data")
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["keep.txt"]


def fake_zip(path, members):
    with zipfile.ZipFile(path, "w") as z:
        for name, content in members.items():
            z.writestr(name, content)
    return path


def test_fetch_checks_the_size_and_unpacks_only_what_is_needed(tmp_path, monkeypatch):
    import pooch

    mats = {f"data/{name}": io.BytesIO() for name in data.NIST36_FILES}
    for buf in mats.values():
        scipy.io.savemat(buf, {"x": np.zeros(2)})
    archive = fake_zip(
        tmp_path / "data.zip",
        {**{k: v.getvalue() for k, v in mats.items()}, "data/other.mat": b"x"},
    )
    monkeypatch.setattr(pooch, "retrieve", lambda *a, **k: str(archive))
    monkeypatch.setitem(data.COURSE_ZIPS, "data.zip", archive.stat().st_size)
    monkeypatch.setitem(data.COURSE_ZIPS, "images.zip", None)
    with pytest.raises(
        DataError, match="images.zip: downloaded"
    ):  # data.zip passes, images.zip is checked next
        data.fetch(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        data.NIST36_FILES
    )
    archive = fake_zip(tmp_path / "data.zip", {"data/nist36_train.mat": b"x"})
    monkeypatch.setitem(data.COURSE_ZIPS, "data.zip", archive.stat().st_size + 1)
    with pytest.raises(DataError, match=r"data.zip: downloaded \d+ bytes, expected"):
        data.fetch(tmp_path / "other")
    assert not archive.exists()  # a wrong download is not kept


def test_unpack_verifies_photo_checksums(tmp_path):
    archive = fake_zip(
        tmp_path / "images.zip", {"images/01_list.jpg": b"not the course photo"}
    )
    with pytest.raises(DataError, match="does not match the course photo"):
        data._unpack(archive, ["01_list.jpg"], tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["images.zip"]
    archive = fake_zip(
        tmp_path / "data.zip",
        {"data/nist36_test.mat": b"payload", "data/extra.bin": b"no"},
    )
    data._unpack(archive, ["nist36_test.mat"], tmp_path)
    assert (tmp_path / "nist36_test.mat").read_bytes() == b"payload"
    assert not (tmp_path / "extra.bin").exists()


def test_toy_data_is_the_handouts():
    x, y = data.toy_data(seed=0)
    assert x.shape == (40, 2) and y.shape == (40, 4)
    np.testing.assert_array_equal(y.sum(axis=0), 10)
    means = np.array([x[y[:, k] == 1].mean(axis=0) for k in range(4)])
    np.testing.assert_allclose(means[:, 1], [40, 10, 30, 10], atol=3.5)
    np.testing.assert_allclose(means[:, 0], [3.6, 3.9, 3.4, 2.0], atol=0.5)


def test_saved_files_get_the_users_normal_permissions(tmp_path):
    umask = os.umask(0)
    os.umask(umask)
    data.save_npz(tmp_path / "a.npz", {"x": np.zeros(2)})
    (tmp_path / "plain").write_text("")  # a file made the ordinary way
    assert (tmp_path / "a.npz").stat().st_mode & 0o777 == 0o666 & ~umask
    assert (tmp_path / "a.npz").stat().st_mode == (tmp_path / "plain").stat().st_mode


def test_a_huge_photo_is_decoded_at_the_working_size_not_in_full(tmp_path):
    import tracemalloc

    path = tmp_path / "huge.jpg"
    page = Image.new("RGB", (9000, 7000), (235, 232, 225))
    ImageDraw.Draw(page).rectangle([4000, 3000, 4400, 3600], fill=(30, 30, 30))
    page.save(path, quality=80)
    del page
    tracemalloc.start()
    image = data.read_image(path, data.PHOTO_WORKING_SIZE)
    boxes, _ = text.findLetters(image)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert data.PHOTO_WORKING_SIZE <= max(image.shape[:2]) < 2 * data.PHOTO_WORKING_SIZE
    assert (
        peak < 250e6
    )  # the photo in float64 alone would take 504 MB, its grey 504 / 3
    assert len(boxes) == 1  # the one dark block, in the coordinates of the image read


def test_an_image_past_the_decompression_bomb_limit_is_a_clear_error(
    tmp_path, monkeypatch
):
    from PIL import Image as PILImage

    path = tmp_path / "bomb.png"
    Image.new("L", (400, 300), 255).save(path)
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 1000)  # 120,000 > 2 x 1,000
    with pytest.raises(data.DataError, match="bomb.png: too large to read safely"):
        data.read_image(path)
