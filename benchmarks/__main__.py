"""``python -m benchmarks [names...] [--smoke] [--markdown]``: run the benchmarks, print ratios.

Each benchmark prints one line (its ratio against its baseline, its target, its further checks
with theirs, and the raw figures), then a summary. ``--smoke`` runs each at a tiny size, only
to keep them working (as CI does); its figures mean nothing. ``--markdown`` then prints the
README's performance table from the figures, with the date and the machine (CPU model and
count, Python). The exit status is non-zero only when a benchmark crashes, never because a
ratio missed its target: machines are noisy, and the figures are for the README.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import sys
import time
import traceback
from collections.abc import Sequence

from usagekit._core.clock import utcnow

from ._common import Result

BENCHMARKS = {
    "normalize": "bench_normalize",
    "transport": "bench_transport",
    "concurrency": "bench_concurrency",
    "memory": "bench_memory",
    "ratelimit": "bench_ratelimit",
    "projection": "bench_projection",
    "anchor": "bench_anchor",
    "scale": "bench_scale",
    "minute": "bench_minute",
    "walk": "bench_walk",
}
"""Benchmark name to module (each has ``run(smoke: bool = False) -> Result``)."""

BY_NAME = {"instructions": "bench_instructions"}
"""Benchmarks run only when named (``python -m benchmarks instructions``): too slow for every
run (valgrind), and they need a tool the machine may lack."""


def _run_one(name: str, smoke: bool) -> Result:
    module = importlib.import_module(f".{BENCHMARKS.get(name) or BY_NAME[name]}", __package__)
    result: Result = module.run(smoke=smoke)
    return result


def machine() -> str:
    """The machine the figures come from: CPU model, logical CPUs, Python."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.partition(":")[2].strip()
                    break
    except OSError:
        pass
    python = f"{platform.python_implementation()} {platform.python_version()}"
    return f"{model}, {os.cpu_count()} logical CPUs, {python}"


def markdown(results: Sequence[Result], *, smoke: bool) -> str:
    """The README's performance table from ``results``, with the date and the machine."""
    today = utcnow().date().isoformat()  # usagekit's one clock seam
    mode = " (smoke run: the figures mean nothing)" if smoke else ""
    lines = [
        f"Measured by `python -m benchmarks` on {today}{mode}: {machine()}. Every ratio is "
        "against a baseline run side by side in the same run; servers run in a process of "
        "their own, the garbage collector stays on.",
        "",
        "| benchmark | baseline | figures | target |",
        "| --- | --- | --- | --- |",
        *(result.markdown_row() for result in results),
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the named benchmarks (all by default).

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        0 when every benchmark ran (whatever its ratio), 1 when one crashed.
    """
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="usagekit's benchmarks: each prints a ratio against a baseline.",
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="name",
        help=f"benchmarks to run: {', '.join(BENCHMARKS)} (all by default); "
        f"by name only: {', '.join(BY_NAME)}",
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check they run")
    parser.add_argument(
        "--markdown", action="store_true", help="then print the README's performance table"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS and name not in BY_NAME]
    if unknown:
        known = ", ".join([*BENCHMARKS, *BY_NAME])
        parser.error(f"unknown benchmark {unknown[0]!r}; known: {known}")
    names = list(dict.fromkeys(args.names)) or list(BENCHMARKS)

    mode = "smoke run: tiny sizes, the figures mean nothing" if args.smoke else "full run"
    print(f"usagekit benchmarks ({mode}); {machine()}", flush=True)
    results: list[Result] = []
    crashed: list[str] = []
    began = time.perf_counter()
    for name in names:
        started = time.perf_counter()
        try:
            result = _run_one(name, args.smoke)
        except Exception:
            crashed.append(name)
            print(f"{name:<14} CRASHED", flush=True)
            traceback.print_exc()
            continue
        results.append(result)
        print(f"{result.line()}  [{time.perf_counter() - started:.1f} s]", flush=True)

    met = sum(result.met for result in results)
    missed = [result.name for result in results if not result.met]
    summary = f"{met} of {len(names)} meet their targets"
    if missed:
        summary += f"; missed: {', '.join(missed)}"
    if crashed:
        summary += f"; crashed: {', '.join(crashed)}"
    print(f"summary: {summary} ({time.perf_counter() - began:.0f} s)", flush=True)
    if args.markdown:
        print(f"\n{markdown(results, smoke=args.smoke)}", flush=True)
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
