"""The allocators' settings for a long-running server process (bench/RESULTS.md §f measures them)."""

from __future__ import annotations

import ctypes
import os
import platform

M_MMAP_THRESHOLD = -3  # glibc's malloc.h
MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value

# polars allocates through its own jemalloc, which reads `_RJEM_MALLOC_CONF` when it starts (the later of two
# values of an option wins); polars' `__init__` puts its own defaults first.
JEMALLOC = "_RJEM_MALLOC_CONF"
SHARED_ARENA = "narenas:1,dirty_decay_ms:0,muzzy_decay_ms:0"


def share_polars_memory() -> None:
    """Before polars is imported: one jemalloc arena for every thread, freed pages returned at once, and one
    polars worker thread. A roster import's checks allocate and free about 4 KB a row through polars (each
    block's intermediate columns); by default jemalloc keeps the freed pages for a while, in an arena for each
    thread that called polars, so a server importing at 40,000 rows a second held 50 MB more than its blocks
    needed. Returning them at once costs the kernel's page faults when they are used again, about 2 µs a row of
    system CPU (bench/RESULTS.md §f); the import's stages already keep both cores busy, so polars' own threads
    only add arenas. These options come after any inherited ones (a parent process that imported polars
    passes its defaults on); `POLARS_MAX_THREADS`, when set, wins."""
    inherited = os.environ.get(JEMALLOC)
    if not inherited:
        os.environ[JEMALLOC] = SHARED_ARENA
    elif not inherited.endswith(SHARED_ARENA):
        os.environ[JEMALLOC] = f"{inherited},{SHARED_ARENA}"
    os.environ.setdefault("POLARS_MAX_THREADS", "1")


def return_large_blocks() -> None:
    """Keep glibc's mmap threshold at 128 KiB. By default glibc raises it to the largest block freed (up to
    32 MiB); after that, the few-megabyte buffers of a roster import's blocks (the block's lines, its COPY
    text) come from the threads' heaps and stay in the process once freed. With the threshold fixed, a block
    that large is mapped and returned when freed: about 30 MB off an import's peak (bench/RESULTS.md §f).
    Elsewhere than glibc, nothing to do."""
    if platform.libc_ver()[0] != "glibc":
        return
    ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
