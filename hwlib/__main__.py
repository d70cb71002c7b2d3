"""Command line: python -m hwlib fetch | train [--workers N] | photos FOLDER |
read PHOTO [PHOTO ...] [--boxes OUT.png] [--network cnn|reader|q3.1]"""

import argparse
import sys
from pathlib import Path

from . import data, models


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m hwlib", description="The HW5 book's tools."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="download the course files into data/")
    train = commands.add_parser(
        "train", help="train every network that the notebooks use and is not cached"
    )
    train.add_argument(
        "--workers",
        type=int,
        default=None,
        help="training processes at once (default: one per core)",
    )
    photos = commands.add_parser(
        "photos", help="save the built-in photos as PNG files in FOLDER, to try read on"
    )
    photos.add_argument("folder", type=Path, metavar="FOLDER")
    read = commands.add_parser("read", help="print the handwritten text of each photo")
    read.add_argument("photos", nargs="+", type=Path, metavar="PHOTO")
    read.add_argument(
        "--boxes",
        type=Path,
        metavar="OUT.png",
        help="save the detected boxes drawn on the photo (one photo only)",
    )
    read.add_argument(
        "--network",
        choices=list(models.READERS),
        default=models.DEFAULT_READER,
        help="the convolutional network of Q3 (default), its reading network, or the "
        "handout's Q3.1 network",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            print(f"Course files are in {data.fetch()}")
        elif args.command == "train":
            print("Data:", data.data_source().describe())
            models.train_all(workers=args.workers)
        elif args.command == "photos":
            save_photos(args.folder)
        else:
            return read_photos(args.photos, args.boxes, args.network)
    except data.DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def read_photos(photos, boxes_out, network=models.DEFAULT_READER):
    """Print each photo's text; save the box drawing of a single photo if asked."""
    from . import text

    if boxes_out is not None:
        check_boxes_file(boxes_out, photos)
    # Fail on a bad file before training; decode large photos at the working size.
    images = [data.read_image(p, data.PHOTO_WORKING_SIZE) for p in photos]
    params, _ = models.READERS[network]()
    style = text.CropStyle.default()
    for path, image in zip(photos, images):
        reading = text.read_text(image, params, style)
        print(f"== {path}")
        print("\n".join(reading.lines) if reading.lines else "(no text found)")
        if boxes_out is not None:
            from . import plots  # matplotlib, only when a drawing is asked for

            plots.save_boxes(image, reading.boxes, boxes_out)
            print(f"boxes drawn in {boxes_out}")
    return 0


def check_boxes_file(path, photos):
    """--boxes names one new or old .png file in an existing folder, for one photo."""
    if len(photos) != 1:
        raise data.DataError("--boxes takes a single PHOTO")
    if path.is_dir():
        raise data.DataError(
            f"--boxes {path}: a folder; give a file name ending in .png"
        )
    if path.suffix.lower() != ".png":
        raise data.DataError(
            f"--boxes {path}: the drawing is saved as PNG; give a name ending in .png"
        )
    if not path.parent.is_dir():
        raise data.DataError(f"--boxes {path}: there is no folder {path.parent}")


def save_photos(folder):
    """Save the four built-in photos as lossless PNG files in folder."""
    from PIL import Image

    if folder.exists() and not folder.is_dir():
        raise data.DataError(f"{folder}: a file, not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    for photo in data.load_photos(data.Source(data.BUILTIN)):
        path = folder / Path(photo.name).with_suffix(".png").name
        with data.atomic_path(path) as tmp:
            Image.fromarray(photo.image).save(tmp, format="PNG")
        print(path)


if __name__ == "__main__":
    sys.exit(main())
