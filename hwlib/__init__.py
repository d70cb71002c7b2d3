"""hwlib: the code behind the HW5 book (Neural Networks for Recognition).

Importing hwlib sets OPENBLAS_CORETYPE=Haswell, unless it is set, on Linux x86-64
machines with AVX2 and FMA. NumPy's matrix library, OpenBLAS, reads it when NumPy is
first imported, and then uses its Haswell (AVX2) kernels rather than those it would pick
for the CPU. Kernels for another CPU add up a matrix product in another order: a network
trained with AVX-512 kernels differs in its last bits from one trained with AVX2
kernels, and after some epochs in its accuracies too, so that the stored outputs would
hold only on machines like the one that made them. Where NumPy was imported first, the
setting reaches only the processes started afterwards (the training processes of
models.train_all, say).
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


# The OpenBLAS kernels that the stored outputs were trained with.
STORED_KERNELS = "Haswell"

if {"avx2", "fma"} <= _cpu_flags():
    os.environ.setdefault("OPENBLAS_CORETYPE", STORED_KERNELS)
