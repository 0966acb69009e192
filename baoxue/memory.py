"""The C allocator's settings for a long-running server process."""

from __future__ import annotations

import ctypes
import platform

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value


def return_large_blocks() -> None:
    """Keep glibc's mmap threshold at 128 KiB. By default glibc raises it to the largest block freed (up to
    32 MiB); after that, the few-megabyte buffers of a roster import's blocks (the block's lines, its COPY
    text) come from the threads' heaps and stay in the process once freed. With the threshold fixed, a block
    that large is mapped and returned when freed: about 30 MB off an import's peak (bench/RESULTS.md §f).
    Elsewhere than glibc, nothing to do."""
    if platform.libc_ver()[0] != "glibc":
        return
    ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
