"""How fast the built-in synthetic NIST36 is made, and how much it looks like real handwriting.

Realism is measured by transfer: the Q3.1 network and recipe trained on the synthetic
training split and tested on real handwriting, and the reverse.
Usage: python benchmarks/bench_synthetic.py REAL_FOLDER   (a folder with nist36_*.mat)
"""
import sys
import time
from pathlib import Path

from hwlib import data, models, synth, train


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    real = data.Source("course", Path(sys.argv[1]))
    start = time.perf_counter()
    synthetic = {split: synth.make_nist36(n, seed=data.SYNTHETIC_SEED * 10 + i)
                 for i, (split, n) in enumerate(data.SYNTHETIC_PER_CLASS.items())}
    seconds = time.perf_counter() - start
    print(f"synthetic NIST36: {sum(len(x) for x, _ in synthetic.values())} images in {seconds:.1f} s")
    real_split = {split: data.load_nist36(split, real) for split in ("train", "valid", "test")}
    for name, source, target in [("synthetic -> real", synthetic, real_split),
                                 ("real -> synthetic", real_split, synthetic),
                                 ("real -> real", real_split, real_split),
                                 ("synthetic -> synthetic", synthetic, synthetic)]:
        params, _ = train.train_classifier(*source["train"], log_every=0, **models.NIST36_RECIPE)
        acc = train.evaluate_classifier(params, *target["test"])[1]
        print(f"{name:>24}: test accuracy {acc:.3f}")


if __name__ == "__main__":
    main()
