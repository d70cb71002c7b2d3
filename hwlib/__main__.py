"""Command line: python -m hwlib fetch | train [--workers N] | read PHOTO [PHOTO ...]
[--boxes OUT.png] [--network reader|q3.1]"""

import argparse
import sys
from pathlib import Path

from . import data


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
        choices=["reader", "q3.1"],
        default="reader",
        help="the reading network of Q3 (default), or the handout's Q3.1 network",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            print(f"Course files are in {data.fetch()}")
        elif args.command == "train":
            from . import models

            print(data.data_source().describe())
            models.train_all(workers=args.workers)
        else:
            return read_photos(args.photos, args.boxes, args.network)
    except data.DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def read_photos(photos, boxes_out, network="reader"):
    """Print each photo's text; save the box drawing of a single photo if asked."""
    from . import models, plots, text

    if boxes_out is not None and len(photos) != 1:
        raise data.DataError("--boxes takes a single PHOTO")
    # Fail on a bad file before training; decode large photos at the working size.
    images = [data.read_image(p, data.PHOTO_WORKING_SIZE) for p in photos]
    classifier = (
        models.reader_classifier if network == "reader" else models.nist36_classifier
    )
    params, _ = classifier()
    style = text.CropStyle.from_training(data.load_nist36("train")[0])
    for path, image in zip(photos, images):
        reading = text.read_text(image, params, style)
        print(f"== {path}")
        print("\n".join(reading.lines) if reading.lines else "(no text found)")
        if boxes_out is not None:
            plots.save_boxes(image, reading.boxes, boxes_out)
            print(f"boxes drawn in {boxes_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
