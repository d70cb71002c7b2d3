"""hwlib: the code behind the HW5 book (Neural Networks for Recognition).

Importing hwlib before NumPy pins OpenBLAS, NumPy's matrix library, to its Haswell
(AVX2) kernels on x86-64 machines that have AVX2 and FMA. OpenBLAS otherwise picks the
kernels of the CPU that it runs on, which add up a matrix product in another order: a
network trained on an AVX-512 machine differs in its last bits from one trained on an
AVX2 machine, and after some epochs in its accuracies too, so that the stored outputs
would hold only on machines like the one that made them. OPENBLAS_CORETYPE, if set, is
left alone. Where NumPy came first, the pin reaches only the processes started later
(the training processes of `python -m hwlib train`, say).
"""

import os


def _cpu_flags():
    """The CPU's feature flags, as Linux lists them (empty elsewhere)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


if {"avx2", "fma"} <= _cpu_flags():
    os.environ.setdefault("OPENBLAS_CORETYPE", "Haswell")
