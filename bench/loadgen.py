"""A closed-loop HTTP load generator in its own process, for when `wrk` is not installed.

    python -m bench.loadgen --url http://127.0.0.1:8000/graphql --body-file q.json \
        --header "Authorization: Bearer ..." --connections 8 --duration 20

Each of `--connections` keep-alive connections sends the same POST, waits for the whole response
and sends the next one, for `--duration` seconds after `--warmup` seconds of unrecorded requests.
Prints one JSON object: requests, duration_s, rps, latency percentiles (ms), status counts, errors.
Raw asyncio streams (uvloop when installed), no HTTP library: the client should cost the machine
as little as possible, since it shares the cores with the server under test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def build_request(url: str, body: bytes, headers: Sequence[str]) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    lines = [
        f"POST {parts.path or '/'} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: keep-alive",
        *headers,
    ]
    return host, port, ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response (Content-Length or chunked)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split(b" ", 2)[1])
    length, chunked = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = bytearray()
    while True:
        size = int((await reader.readline()).split(b";", 1)[0], 16)
        if size == 0:
            await reader.readline()
            return status, bytes(body)
        body += await reader.readexactly(size)
        await reader.readline()


async def client(
    host: str, port: int, request: bytes, start: float, end: float, latencies: list[float], stats: Counter[str]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    clock = time.perf_counter
    try:
        while True:
            t0 = clock()
            if t0 >= end:
                return
            writer.write(request)
            try:
                status, _ = await read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                stats["errors"] += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            t1 = clock()
            if t0 >= start:
                latencies.append(t1 - t0)
                stats[str(status)] += 1
    finally:
        writer.close()


def quantile(ordered: Sequence[float], q: float) -> float:
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


async def run(args: argparse.Namespace, body: bytes) -> dict[str, Any]:
    host, port, request = build_request(args.url, body, args.header)
    latencies: list[float] = []
    stats: Counter[str] = Counter()
    now = time.perf_counter()
    start, end = now + args.warmup, now + args.warmup + args.duration
    await asyncio.gather(*(client(host, port, request, start, end, latencies, stats) for _ in range(args.connections)))
    ordered = sorted(latencies)
    ms = [x * 1000 for x in ordered]
    ok = sum(n for k, n in stats.items() if k.startswith("2"))
    return {
        "tool": "bench.loadgen (Python asyncio)",
        "connections": args.connections,
        "requests": len(ms),
        "duration_s": args.duration,
        "rps": len(ms) / args.duration,
        "ok": ok,
        "non_2xx": len(ms) - ok,
        "errors": stats.get("errors", 0),
        "statuses": {k: n for k, n in stats.items() if k != "errors"},
        "latency_ms": {
            "mean": sum(ms) / len(ms) if ms else math.nan,
            "p50": quantile(ms, 0.50) if ms else math.nan,
            "p90": quantile(ms, 0.90) if ms else math.nan,
            "p99": quantile(ms, 0.99) if ms else math.nan,
            "max": ms[-1] if ms else math.nan,
        },
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--body-file", required=True, help="the JSON request body")
    parser.add_argument("--header", action="append", default=[], help="an extra header line, repeatable")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds of requests not recorded first")
    args = parser.parse_args(argv)
    body = Path(args.body_file).read_bytes()
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(args, body))
    else:
        result = uvloop.run(run(args, body))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
