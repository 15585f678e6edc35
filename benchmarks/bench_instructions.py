"""Benchmark (run by name only): whether ``collect``'s work per record grows with N, in
instructions.

``scale`` checks CPU time per record at 16N over N, and on a shared virtual machine the speed
of the CPU itself moves from second to second (see :mod:`benchmarks.bench_scale`), so its 16N/N
ratios move by 10-30 % between runs of the same code. This benchmark asks the same question of
a measure that hardly moves: the instructions the process executes, counted by valgrind's
``callgrind`` (for the same binary, inputs and environment, whatever else the machine is doing,
the count is the same but for what the network's timing changes: how a socket's reads split an
answer; N is counted twice and the gap printed, a few in a million). It does not see what
instructions cost (cache misses, page faults), which the time-based ratios of ``scale`` do; it
shows whether usagekit does more work per record as the stream grows.

Each size runs ``python -m benchmarks.bench_scale --child collect`` (the child ``scale`` times,
a fresh process, garbage collector on) under ``valgrind --tool=callgrind`` against the data
server (its own process, not counted), at N/4, N, 4N and 16N hours of the year's completions
(50 groups, 0.4 active; 16N is the year). A process's total includes its start and imports,
which do not depend on the size; the difference between two sizes does not. So the cost of a
record at N is the instructions per record from N/4 to N, at 16N those from 4N to 16N, and the
ratio is the second over the first (target 1.1, the target of ``scale``'s 16N/N); N to 4N,
which crosses the stream's repeat-check window of 2**19 records, is printed beside it.

``python -m benchmarks instructions`` takes about 7 minutes on 2 CPUs (the five processes run
side by side, 16N the longest); valgrind must be installed (Debian's ``valgrind``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path

from ._common import ROOT, Result
from .bench_scale import ACTIVE, CPU_GROWTH, GROUPS, N_HOURS, START, _warm
from .dataserver import serve_data

TARGET = CPU_GROWTH
SMOKE_HOURS = (1, 2, 4, 8)
AGAIN = "N again"
"""The label of N's second count (how far two runs of one size are apart)."""
_COLLECTED = re.compile(r"^==\d+== Collected : (\d+)$", re.MULTILINE)


def collected(stderr: str) -> int:
    """The instruction count callgrind reports at the end of a run (its ``Collected`` line).

    Args:
        stderr: The run's standard error.

    Returns:
        The count.

    Raises:
        RuntimeError: No such line (not a callgrind run, or it did not finish).
    """
    found = _COLLECTED.findall(stderr)
    if not found:
        raise RuntimeError(f"callgrind reported no instruction count:\n{stderr[-2000:]}")
    return int(found[-1])


def counted(
    commands: Mapping[str, Sequence[str]], *, timeout: float = 3600.0
) -> dict[str, tuple[int, str]]:
    """Run each command under callgrind, side by side; the instructions each executed.

    Each process writes to files of its own (never a pipe that could fill while another is
    waited for); all of them must have ended within ``timeout`` seconds of the last start,
    and whatever ends this call (an error, a timeout, Ctrl-C) leaves none running.

    Args:
        commands: Label -> the command (``[sys.executable, ...]``).
        timeout: Seconds all of them may take together.

    Returns:
        Label -> its instruction count and what it printed.

    Raises:
        RuntimeError: valgrind is not installed, a command could not be started, failed, or
            was still running at the deadline (the message names it).
    """
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise RuntimeError(
            "the instructions benchmark needs valgrind (Debian: apt install valgrind)"
        )
    # one hash seed for every run: string hashes (and so dict and set work) are the same in each
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory(prefix="usagekit-callgrind-") as scratch:
        folder = Path(scratch)
        running: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for index, (label, command) in enumerate(commands.items()):
                with (
                    (folder / f"{index}.stdout").open("wb") as out,
                    (folder / f"{index}.stderr").open("wb") as err,
                ):
                    running[label] = subprocess.Popen(
                        [
                            valgrind, "--tool=callgrind",
                            f"--callgrind-out-file={folder / str(index)}.out", *command,
                        ],
                        cwd=ROOT, env=env, stdout=out, stderr=err,
                    )  # fmt: skip
            deadline = time.monotonic() + timeout
            for label, process in running.items():
                try:
                    process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    raise RuntimeError(
                        f"{label} was still running after {timeout:g} s under callgrind"
                    ) from None
        except OSError as exc:
            raise RuntimeError(f"could not start a command under callgrind: {exc}") from exc
        finally:  # one failed, timed out or was interrupted: none is left running
            for process in running.values():
                if process.poll() is None:
                    process.kill()
                    process.wait()
        counts: dict[str, tuple[int, str]] = {}
        for index, (label, process) in enumerate(running.items()):
            stdout = (folder / f"{index}.stdout").read_text(errors="replace")
            stderr = (folder / f"{index}.stderr").read_text(errors="replace")
            if process.returncode != 0:
                raise RuntimeError(f"{label} failed ({process.returncode}):\n{stderr[-2000:]}")
            counts[label] = collected(stderr), stdout
    return counts


def marginal(counts: Mapping[str, int], records: Mapping[str, int], low: str, high: str) -> float:
    """Instructions per record from size ``low`` to size ``high`` (what a process's start costs
    cancels out).

    Args:
        counts: Label -> instructions.
        records: Label -> records.
        low: The smaller size.
        high: The larger.

    Returns:
        The added instructions over the added records.

    Raises:
        ValueError: The larger size has no more records than the smaller.
    """
    added = records[high] - records[low]
    if added <= 0:
        raise ValueError(f"{high} has {records[high]} records, {low} {records[low]}")
    return (counts[high] - counts[low]) / added


def run(smoke: bool = False) -> Result:
    """Count the instructions of ``collect`` at N/4, N, 4N and 16N (and N a second time, to
    show how far two runs of the same size differ); 16N's margin over N's."""
    hours = SMOKE_HOURS if smoke else (N_HOURS // 4, N_HOURS, 4 * N_HOURS, 16 * N_HOURS)
    sizes = dict(zip(("N/4", "N", "4N", "16N"), hours, strict=True))
    # "now" is the end of 16N (no empty hours at its end), as for scale; every bucket kept
    now = (START + timedelta(hours=sizes["16N"])).strftime("%Y-%m-%dT%H:%M:%SZ")
    with serve_data(groups=GROUPS, active=ACTIVE, now=now, cache_mb=1024) as server:
        _warm(server.url, sizes["16N"])
        commands = {
            label: [
                sys.executable, "-m", "benchmarks.bench_scale",
                "--child", "collect", server.url, str(size),
            ]
            for label, size in {**sizes, AGAIN: sizes["N"]}.items()
        }  # fmt: skip
        runs = counted(commands)
    return result_of(sizes, runs)


def result_of(sizes: Mapping[str, int], runs: Mapping[str, tuple[int, str]]) -> Result:
    """The benchmark's result from its runs.

    Args:
        sizes: ``"N/4"``, ``"N"``, ``"4N"``, ``"16N"`` -> hours.
        runs: The same labels (and optionally :data:`AGAIN`, N counted a second time) ->
            instructions and what the collect child printed (its JSON figures last).

    Returns:
        16N's instructions per record over N's, with the figures behind it (and how far the
        second count of N is from the first, when there is one).

    Raises:
        RuntimeError: A run of ``sizes`` is missing, or a child's last line is not its
            figures (JSON with an integer ``records``).
        ValueError: A larger size has no more records than a smaller.
    """
    missing = [label for label in sizes if label not in runs]
    if missing:
        raise RuntimeError(f"no count for {', '.join(missing)}")
    counts = {label: count for label, (count, _) in runs.items()}
    records = {label: _records_of(label, printed) for label, (_, printed) in runs.items()}
    at_n = marginal(counts, records, "N/4", "N")
    across = marginal(counts, records, "N", "4N")
    at_16n = marginal(counts, records, "4N", "16N")
    figures = "; ".join(
        f"{label} ({sizes[label]:,} h, {records[label]:,} records) {counts[label] / 1e9:.2f} G"
        for label in sizes
    )
    if AGAIN in counts:
        apart = abs(counts[AGAIN] - counts["N"])
        figures += (
            f"; N counted again: {apart:,} instructions apart "
            f"({apart / counts['N'] * 1e6:.1f} in a million, {apart / records['N']:.2f} a record)"
        )
    return Result(
        "instructions",
        at_16n / at_n,
        TARGET,
        f"instructions per record of collect at 16N (4N to 16N) over N (N/4 to N): "
        f"{at_16n:,.0f} against {at_n:,.0f}, N to 4N {across:,.0f} ({across / at_n:.2f}x; "
        f"each process's start and imports cancel out); {figures}; callgrind, one hash "
        f"seed, {GROUPS} groups, {ACTIVE:g} active, GC on",
        what="`collect` of hourly completions at N/4, N, 4N and 16N, in instructions (callgrind)",
        baseline="instructions per record at N (from N/4 to N)",
        brief=f"{at_16n:,.0f} against {at_n:,.0f} instructions a record",
    )


def _records_of(label: str, printed: str) -> int:
    """The records a collect child says it collected (its last line: its figures, JSON)."""
    lines = printed.strip().splitlines()
    try:
        figures = json.loads(lines[-1]) if lines else None
    except ValueError:
        figures = None
    value = figures.get("records") if isinstance(figures, dict) else None
    if type(value) is not int:
        raise RuntimeError(f"{label} printed no figures with its records:\n{printed[-2000:]}")
    return value


if __name__ == "__main__":
    print(run().line())
