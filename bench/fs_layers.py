"""Benchmark of layer writing and extraction: throughput and peak RSS, isal against zlib.

Builds a tree of about 500 MB (``--size-mb``) of files from 4 KiB to 4 MiB, three quarters
text-like (compressible) and one quarter random bytes, then, each measurement in a fresh
child process so that its peak RSS (``resource.getrusage``) is its own:

- ``write``: ``write_layer_tar`` of the whole tree into a gzip ``LayerSpooler``;
- ``extract``: ``apply_layer`` of that gzip layer into an empty directory;
- ``idle``: the interpreter with kaniko's modules imported, the floor of the figures above;
- ``gzip``: ISA-L (the level kaniko uses by default) against Python's zlib at its default
  level 6, compressing the same first ``--sample-mb`` of the layer's tar.

Targets on the 2-core lab machine: peak RSS under 200 MB both ways; gzip through ISA-L at
least 3x faster than zlib at its default level on the same data.
Run: ``.venv/bin/python bench/fs_layers.py [--size-mb N] [--sample-mb N] [--dir PATH]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from typing import Any

RSS_TARGET_MB = 200
SPEEDUP_TARGET = 3.0
MB = 1_000_000


def build_tree(root: str, size_mb: int) -> int:
    """Files of mixed sizes and compressibility totalling about ``size_mb`` MB."""
    rng = random.Random(42)
    words = [
        bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz_./", k=rng.randint(2, 10)))
        for _ in range(4000)
    ]
    corpus = b" ".join(rng.choices(words, k=1_200_000))  # about 8 MB of text-like bytes
    total, index = 0, 0
    while total < size_mb * MB:
        rel_dir = os.path.join(root, f"d{index // 200:03d}")
        os.makedirs(rel_dir, exist_ok=True)
        size = rng.choice([4096, 65536, 300_000, 1 << 20, 4 << 20])
        if index % 4 == 3:
            data = rng.randbytes(size)
        else:
            start = rng.randrange(0, len(corpus) - size)
            data = corpus[start : start + size]
        with open(os.path.join(rel_dir, f"f{index:05d}"), "wb") as f:
            f.write(data)
        total += size
        index += 1
    return total


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def measure_write(root: str, out_dir: str) -> dict[str, object]:
    from kaniko.fs.tarwrite import write_layer_tar
    from kaniko.oci.streams import LayerSpooler

    entries = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            entries.append((os.path.relpath(os.path.join(dirpath, name), root), "file"))
    start = time.perf_counter()
    with LayerSpooler(out_dir, "gzip") as spooler:
        write_layer_tar(root, entries, spooler)
    layer = spooler.finish()
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "tar_bytes": spooler.tell(),
        "blob_bytes": layer.size,
        "path": str(layer.path),
        "rss_mb": _peak_rss_mb(),
    }


def measure_extract(blob: str, dest: str) -> dict[str, object]:
    from kaniko.fs.unpack import apply_layer

    os.mkdir(dest)
    start = time.perf_counter()
    with open(blob, "rb") as f:
        stats = apply_layer(f, dest)
    return {
        "seconds": time.perf_counter() - start,
        "bytes": stats.bytes,
        "entries": stats.entries,
        "rss_mb": _peak_rss_mb(),
    }


def measure_gzip(blob: str, sample_mb: int) -> dict[str, object]:
    from kaniko.oci.compress import compressor, open_decompressed

    with open(blob, "rb") as f, open_decompressed(f) as tar:
        data = tar.read(sample_mb * MB)
    chunk = 1 << 20
    results: dict[str, object] = {"bytes": len(data)}
    for name, make in (
        ("isal", lambda: compressor("gzip")),
        ("zlib", lambda: zlib.compressobj(6, zlib.DEFLATED, 31)),
    ):
        comp = make()
        start = time.perf_counter()
        size = sum(len(comp.compress(data[i : i + chunk])) for i in range(0, len(data), chunk))
        size += len(comp.flush())
        results[name] = {"seconds": time.perf_counter() - start, "ratio": size / len(data)}
    return results


def child(kind: str, *args: str) -> dict[str, Any]:
    # JSON from the child: numbers and nested objects, read by key below
    """Run one measurement in a fresh interpreter; its peak RSS is its own."""
    out = subprocess.run(
        [sys.executable, __file__, "--measure", kind, *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--sample-mb", type=int, default=100)
    parser.add_argument("--dir", default=None, help="where to build (default: a temp dir)")
    parser.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        kind, *rest = args.measure
        if kind == "build":
            result = {"bytes": build_tree(rest[0], int(rest[1])), "rss_mb": _peak_rss_mb()}
        elif kind == "idle":
            import kaniko.fs.tarwrite
            import kaniko.fs.unpack
            import kaniko.oci.streams  # noqa: F401 - the imports are what is measured

            result = {"rss_mb": _peak_rss_mb()}
        elif kind == "write":
            result = measure_write(*rest)
        elif kind == "extract":
            result = measure_extract(*rest)
        else:
            result = measure_gzip(rest[0], int(rest[1]))
        print(json.dumps(result))
        return 0

    base = tempfile.mkdtemp(prefix="kaniko-bench-layers-", dir=args.dir)
    try:
        root = os.path.join(base, "tree")
        os.mkdir(root)
        # Linux keeps a process's peak RSS across exec, so the parent stays small: the
        # tree is built in a child too, and every child starts from this small parent.
        total = child("build", root, str(args.size_mb))["bytes"]
        os.sync()
        files = sum(len(f) for _, _, f in os.walk(root))
        idle = child("idle")["rss_mb"]
        print(f"tree: {total / MB:.0f} MB in {files} files; interpreter + imports {idle:.0f} MB")

        write = child("write", root, base)
        tar_mb = write["tar_bytes"] / MB
        print(
            f"write    {write['seconds']:.2f} s, {tar_mb / write['seconds']:.0f} MB/s of tar, "
            f"gzip {write['blob_bytes'] / MB:.0f} MB, peak RSS {write['rss_mb']:.0f} MB"
        )
        extract = child("extract", str(write["path"]), os.path.join(base, "out"))
        print(
            f"extract  {extract['seconds']:.2f} s, "
            f"{extract['bytes'] / MB / extract['seconds']:.0f} MB/s of content, "
            f"{extract['entries']} entries, peak RSS {extract['rss_mb']:.0f} MB"
        )
        gz = child("gzip", str(write["path"]), str(args.sample_mb))
        isal, zl = gz["isal"], gz["zlib"]
        mb = gz["bytes"] / MB
        speedup = zl["seconds"] / isal["seconds"]
        print(
            f"gzip     isal {mb / isal['seconds']:.0f} MB/s (ratio {isal['ratio']:.3f}), "
            f"zlib-6 {mb / zl['seconds']:.0f} MB/s (ratio {zl['ratio']:.3f}): "
            f"{speedup:.1f}x on {mb:.0f} MB"
        )
        rss_ok = max(write["rss_mb"], extract["rss_mb"]) < RSS_TARGET_MB
        print(
            f"targets: peak RSS < {RSS_TARGET_MB} MB {'met' if rss_ok else 'MISSED'}; "
            f"isal >= {SPEEDUP_TARGET:.0f}x zlib {'met' if speedup >= SPEEDUP_TARGET else 'MISSED'}"
        )
        return 0
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
