"""glibc malloc settings that keep freed memory for reuse: fewer page faults in training.

A CPU training iteration allocates and frees activations of several MiB
(64 images of 32x32 with 32 channels is 8 MiB). glibc serves such blocks with
``mmap``, or from the heap whose top it returns to the kernel (``trim``) when
more than a threshold is free; either way the next iteration touches fresh
pages, one minor page fault per 4 KiB, zeroed by the kernel. These settings
remove most of those faults and their system time, and leave the user time
as it was (the user guide's performance page, "Page faults and system time on
a CPU", gives the measurements and how to repeat them).

:func:`keep_freed_memory` applies the settings in a running process
(``mallopt``); the same settings for any process, before it starts::

    MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 \\
    MALLOC_TOP_PAD_=67108864 python train.py

The cost: memory freed by the process stays mapped to it (the peak of the
heap, not more), instead of going back to the kernel.
"""

import ctypes
import ctypes.util
import sys

#: ``mallopt`` parameters (glibc ``malloc.h``), their values and environment variables.
SETTINGS = (
    (-3, 32 * 2**20, "MALLOC_MMAP_THRESHOLD_"),  # M_MMAP_THRESHOLD: glibc's maximum, 32 MiB
    (-1, 2**30, "MALLOC_TRIM_THRESHOLD_"),  # M_TRIM_THRESHOLD: keep up to 1 GiB free
    (-2, 64 * 2**20, "MALLOC_TOP_PAD_"),  # M_TOP_PAD: grow the heap 64 MiB at a time
)


def keep_freed_memory():
    """Make glibc's malloc reuse freed blocks of up to 32 MiB instead of unmapping them.

    Process-wide and for the rest of the process. Called by ``disentangle
    demo`` and ``benchmarks/reproduce.py``; call it yourself before a long
    CPU fit, or set the environment variables of the module docstring.

    Returns
    -------
    applied : bool
        False where the C library is not glibc (macOS, Windows, musl): nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    if not hasattr(libc, "mallopt") or not hasattr(libc, "gnu_get_libc_version"):
        return False
    return all(libc.mallopt(parameter, value) == 1 for parameter, value, _ in SETTINGS)
