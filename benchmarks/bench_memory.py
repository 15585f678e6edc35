"""Benchmark 4: one million records streamed into CSV, Parquet and the store, in bounded memory.

Records come from synthetic OpenAI completions pages (the shape of benchmark 1: 7 daily buckets
of 40 results grouped by model, project, user and api key, 15 numeric fields each, so 4,200
records a page, every record distinct), generated lazily one page at a time as JSON bytes and
read the way the client reads them: ``usagekit._core.transport.decode_body`` into the wire models,
then ``usagekit._providers.openai._normalize.page_records``. The stream is cut at exactly
one million records and handed to one sink:

* ``csv``: ``usagekit.write_csv(records, path)``;
* ``parquet``: ``usagekit.write_parquet(records, path)`` (pyarrow);
* ``store``: ``usagekit.Store(path).upsert(records)`` (SQLite).

How memory is measured: each sink runs in a fresh Python subprocess. After its imports (usagekit,
the sink's own modules: pyarrow for Parquet, sqlite3 for the store) and a garbage collection, the
process's resident set size is the interpreter's baseline (Linux's ``VmRSS``). After the last
record is written, the process's peak resident set size is read (Linux's ``VmHWM``). Peak minus
baseline is what streaming cost at its worst, native memory included (pyarrow's buffers,
SQLite's page cache), which ``tracemalloc`` would not see; taking the baseline as the current
size rather than the peak so far means no spike during the imports can hide any of it. Off
Linux both are ``resource.getrusage(RUSAGE_SELF).ru_maxrss``, the peak so far. (On Linux
``ru_maxrss`` would be wrong: it keeps the peak of the parent that forked the subprocess across
``exec``, so a large parent inflates the growth it shows.)

The target is a growth under 100 MB (10^8 bytes, the stricter reading) for every sink; the ratio
is the largest growth over 100 MB (at most 1.0 meets). The sinks run one after another, each
alone on the machine: an allocator that returns freed memory after a delay (pyarrow's mimalloc)
shows a lower peak when the process is slowed down by a neighbour, so running them side by side
would flatter the figure.

Run one sink by hand with ``python -m benchmarks.bench_memory --sink csv --records 1000000``.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._common import Result

LIMIT_MB = 100.0
SINKS = ("csv", "parquet", "store")
_ROOT = Path(__file__).resolve().parent.parent
_NUMERIC = (
    "input_tokens", "output_tokens", "input_cached_tokens", "input_cache_write_tokens",
    "input_uncached_tokens", "input_text_tokens", "output_text_tokens",
    "input_cached_text_tokens", "input_audio_tokens", "input_cached_audio_tokens",
    "output_audio_tokens", "input_image_tokens", "input_cached_image_tokens",
    "output_image_tokens", "num_model_requests",
)  # fmt: skip


def lazy_pages(buckets: int = 7, results: int = 40, seed: int = 1) -> Iterator[bytes]:
    """Completions pages as OpenAI sends them, one at a time and without end.

    The same shape as ``benchmarks.bench_normalize.pages``, generated lazily: each page covers
    the ``buckets`` days after the previous page's, so no two records share an id.
    """
    rng = random.Random(seed)
    start = 1_793_491_200
    for p in itertools.count():
        data = []
        for b in range(buckets):
            day = start + (p * buckets + b) * 86400
            rows: list[dict[str, Any]] = []
            for r in range(results):
                row: dict[str, Any] = {"object": "organization.usage.completions.result"}
                row.update({name: rng.randrange(0, 1_000_000) for name in _NUMERIC})
                row.update(
                    project_id=f"proj_{r % 5}", user_id=f"user-{r % 11}",
                    api_key_id=f"key_{r % 7}", model=("gpt-4o", "gpt-4o-mini", "o3")[r % 3],
                    batch=None, service_tier=None,
                )  # fmt: skip
                rows.append(row)
            data.append(
                {"object": "bucket", "start_time": day, "end_time": day + 86400, "results": rows}
            )
        page = {"object": "page", "data": data, "has_more": True, "next_page": f"page_{p}"}
        yield json.dumps(page).encode()


def _proc_status_bytes(field: str) -> int | None:
    """A size from ``/proc/self/status`` (``VmRSS``, ``VmHWM``) in bytes; None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _peak_rss_bytes() -> int:
    """This process's peak resident set size so far, in bytes.

    Linux's ``VmHWM``: the peak of this process image only. ``ru_maxrss`` is the fallback
    elsewhere; on Linux it is no good here, as it keeps the peak of the process that forked
    this one, across ``exec`` (a child of a 300 MB parent starts with a 300 MB ``ru_maxrss``).
    """
    peak = _proc_status_bytes("VmHWM")
    if peak is not None:
        return peak
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB, but bytes on macOS
    return int(maxrss) if sys.platform == "darwin" else int(maxrss) * 1024


def _current_rss_bytes() -> int | None:
    """This process's resident set size now, in bytes (``VmRSS``; None off Linux)."""
    return _proc_status_bytes("VmRSS")


def _measure(sink: str, count: int, directory: Path) -> dict[str, Any]:
    """Stream ``count`` records into ``sink`` in this process; return the figures (child side)."""
    import usagekit
    from usagekit._core.records import UsageRecord
    from usagekit._core.transport import decode_body
    from usagekit._providers.openai._normalize import page_records
    from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME

    if sink == "parquet":
        # Imported before the baseline, as write_parquet will import them.
        import pyarrow
        import pyarrow.parquet

        # pyarrow finishes its imports on its first conversion (its pandas shim, when pandas is
        # installed: about 45 MB of modules, whatever the number of records); done here, they
        # count in the baseline like every other import.
        pyarrow.array([], type=pyarrow.string())
    store_type: Any = None
    if sink == "store":
        store_type = getattr(usagekit, "Store", None)
        if store_type is None:
            from usagekit._store.store import Store as store_type
    endpoint = ENDPOINTS_BY_NAME["completions"]

    def records() -> Iterator[UsageRecord]:
        for body in lazy_pages():
            page = decode_body(body, endpoint.page_type, provider="openai", endpoint="completions")
            yield from page_records(endpoint, page)

    stream = itertools.islice(records(), count)
    gc.collect()
    peak_before = _peak_rss_bytes()
    baseline = _current_rss_bytes() or peak_before
    began = time.perf_counter()
    if sink == "csv":
        written = usagekit.write_csv(stream, directory / "records.csv")
    elif sink == "parquet":
        written = usagekit.write_parquet(stream, directory / "records.parquet")
    elif sink == "store":
        with store_type(directory / "usage.sqlite") as store:
            written = store.upsert(stream)
    else:
        raise ValueError(f"unknown sink {sink!r}; known: {SINKS}")
    seconds = time.perf_counter() - began
    peak = _peak_rss_bytes()
    return {
        "sink": sink,
        "records": written,
        "baseline_bytes": baseline,
        "peak_before_bytes": peak_before,
        "peak_bytes": peak,
        "seconds": seconds,
    }


def _child(sink: str, count: int) -> dict[str, Any]:
    """Run one sink in a fresh interpreter and return its figures (parent side)."""
    with tempfile.TemporaryDirectory(prefix=f"usagekit-bench-{sink}-") as directory:
        command = [
            sys.executable,
            "-m",
            "benchmarks.bench_memory",
            "--sink",
            sink,
            "--records",
            str(count),
            "--dir",
            directory,
        ]
        done = subprocess.run(command, cwd=_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the {sink} subprocess failed:\n{done.stderr.strip()}")
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if figures["records"] != count:
        raise RuntimeError(f"{sink} wrote {figures['records']} records, expected {count}")
    return figures


def run(smoke: bool = False) -> Result:
    """Measure every sink in its own subprocess; the largest peak growth over 100 MB."""
    count = 10_000 if smoke else 1_000_000
    outcomes = [_child(sink, count) for sink in SINKS]
    mb = 1_000_000
    growths = {o["sink"]: (o["peak_bytes"] - o["baseline_bytes"]) / mb for o in outcomes}
    worst = max(growths.values())
    parts = ", ".join(
        f"{o['sink']} +{growths[o['sink']]:.1f} MB (baseline {o['baseline_bytes'] / mb:.0f} MB, "
        f"{o['seconds']:.1f} s)"
        for o in outcomes
    )
    return Result(
        "memory",
        worst / LIMIT_MB,
        1.0,
        f"peak RSS growth over {LIMIT_MB:g} MB, {count:,} records each: {parts}",
        what=f"{count:,} records streamed into CSV, Parquet and the store",
        baseline="interpreter RSS after imports",
        brief=f"peak growth {worst:.0f} MB ("
        + ", ".join(f"{sink} {growths[sink]:.0f}" for sink in SINKS)
        + f") of {LIMIT_MB:g} MB",
    )


def main(argv: list[str] | None = None) -> None:
    """With ``--sink``, measure that sink here (as the subprocess); else run the benchmark."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_memory")
    parser.add_argument("--sink", choices=SINKS)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.sink is None:
        print(run().line())
        return
    if args.dir is None:
        with tempfile.TemporaryDirectory(prefix="usagekit-bench-") as directory:
            print(json.dumps(_measure(args.sink, args.records, Path(directory))))
    else:
        print(json.dumps(_measure(args.sink, args.records, args.dir)))


if __name__ == "__main__":
    main()
