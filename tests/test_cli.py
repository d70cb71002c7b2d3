"""The command line, run as a user runs it: every error is one line that names the path
and the problem, with no traceback, and nothing half-written is left behind."""

import subprocess
import sys

import pytest
from PIL import Image

from hwlib import data, models, pages, text
from hwlib.text import same_spaces


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "hwlib", *map(str, args)], capture_output=True, text=True
    )


def test_command_line_rejects_missing_and_non_image_files(tmp_path):
    missing = run_cli("read", tmp_path / "nope.jpg")
    assert missing.returncode == 1 and "nope.jpg: file not found" in missing.stderr
    (tmp_path / "notes.jpg").write_text("not an image")
    bad = run_cli("read", tmp_path / "notes.jpg")
    assert bad.returncode == 1 and "notes.jpg: not a readable image" in bad.stderr
    for result in (missing, bad):
        assert "Traceback" not in result.stderr


@pytest.mark.full
def test_command_line_reads_a_photo_and_saves_boxes_without_exif(tmp_path, monkeypatch):
    monkeypatch.setenv("HW5_DATA", data.BUILTIN)
    test_x, test_y = data.load_nist36("test")
    name, image, lines, _ = pages.compose_photos(
        {"04_deep.jpg": ["DEEP LEARNING"]}, test_x, test_y, data.CLASSES, seed=3
    )[0]
    photo = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"  # Make
    exif[0x8825] = {2: (40.0, 26.0, 0.0)}  # GPS latitude
    Image.fromarray(image).save(photo, exif=exif)
    assert Image.open(photo).getexif()
    result = run_cli("read", photo, "--boxes", tmp_path / "boxes.png")
    assert result.returncode == 0, result.stderr
    read = result.stdout.splitlines()[1]
    assert (
        same_spaces(read, "DEEP LEARNING") and text.char_accuracy([read], lines) >= 0.75
    ), read
    saved = Image.open(tmp_path / "boxes.png")
    assert saved.format == "PNG" and not saved.getexif() and "exif" not in saved.info


@pytest.mark.full
def test_command_line_reads_with_the_convolutional_network_unless_told(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("HW5_DATA", data.BUILTIN)
    test_x, test_y = data.load_nist36("test")
    texts = {"page": ["TO DO LIST", "CALL 412 268 3818"]}
    _, image, _, _ = pages.compose_photos(texts, test_x, test_y, data.CLASSES, seed=5)[
        0
    ]
    photo = tmp_path / "page.png"
    Image.fromarray(image).save(photo)
    style = text.CropStyle.default()
    readings = set()
    for args, classifier in [
        ((), models.cnn_classifier),
        (("--network", "reader"), models.reader_classifier),
        (("--network", "q3.1"), models.nist36_classifier),
    ]:
        result = run_cli("read", photo, *args)
        assert result.returncode == 0, result.stderr
        expected = text.read_text(data.read_image(photo), classifier()[0], style).lines
        assert result.stdout.splitlines()[1:] == expected, args
        readings.add(tuple(expected))
    assert len(readings) == 3, readings  # each network reads this page its own way


def test_a_folder_given_as_a_photo_is_named_as_a_folder(tmp_path):
    result = run_cli("read", tmp_path)
    assert result.returncode == 1
    assert result.stderr == f"error: {tmp_path}: a folder, not an image file\n"


@pytest.mark.parametrize(
    "boxes, problem",
    [
        ("missing/boxes.png", "there is no folder"),
        (".", "a folder; give a file name ending in .png"),
        ("boxes.jpg", "the drawing is saved as PNG; give a name ending in .png"),
    ],
)
def test_a_bad_boxes_file_is_refused_before_any_work(tmp_path, boxes, problem):
    photo = tmp_path / "page.png"
    Image.new("RGB", (40, 30), "white").save(photo)
    result = run_cli("read", photo, "--boxes", tmp_path / boxes)
    assert result.returncode == 1
    assert result.stderr.startswith("error: --boxes ") and problem in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.png"]


def test_the_builtin_photos_can_be_saved_to_try_read_on(tmp_path):
    folder = tmp_path / "new" / "photos"
    result = run_cli("photos", folder)
    assert result.returncode == 0, result.stderr
    photos = data.load_photos(data.Source(data.BUILTIN))
    saved = [folder / photo.name for photo in photos]  # composed_list.png, ...
    assert sorted(folder.iterdir()) == sorted(saved)
    for photo, path in zip(photos, saved):
        assert (data.read_image(path) == photo.image).all()  # lossless
        assert path.stat().st_mode & 0o777 == 0o666 & ~current_umask()
    on_a_file = run_cli("photos", saved[0])
    assert on_a_file.returncode == 1
    assert on_a_file.stderr == f"error: {saved[0]}: a file, not a folder\n"


def current_umask():
    import os

    umask = os.umask(0)
    os.umask(umask)
    return umask
