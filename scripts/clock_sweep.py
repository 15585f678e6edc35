"""Run the date-sensitive tests with the clock pinned at each risky instant.

Each instant gets its own pytest process with ``USAGEKIT_TEST_CLOCK`` set; ``tests/conftest.py``
then starts every test at that instant (time-machine for this process, ``USAGEKIT_NOW`` for the
examples and commands it starts). A failure names its instant.

The first instant runs every date-sensitive file (shared out between the workers) and records
which tests read the clock (a test that never asks the time cannot depend on the date); the
other instants, in parallel, run those tests and the examples, which run as processes of their
own. A test that reads the clock only on some dates is therefore re-run only if it read it at
the first instant; the full suite runs every test at the real date.

Usage::

    python scripts/clock_sweep.py                 # every instant, as many at once as CPUs
    python scripts/clock_sweep.py 2026-12-01T00:30Z -- -k budget
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

INSTANTS: tuple[tuple[str, str], ...] = (
    ("2026-12-01T00:30:00Z", "the 1st of a month, half an hour in"),
    ("2026-12-01T00:00:00Z", "the very first instant of a month"),
    ("2026-12-01T07:00:00Z", "the 1st of a month, morning"),
    ("2026-11-30T23:59:00Z", "the last minute of a month"),
    ("2026-03-08T07:30:00Z", "US daylight saving starts (07:00 UTC)"),
    ("2026-11-01T06:30:00Z", "US daylight saving ends (06:00 UTC)"),
    ("2026-03-29T01:30:00Z", "EU summer time starts (01:00 UTC)"),
    ("2026-10-25T01:30:00Z", "EU summer time ends (01:00 UTC)"),
    ("2028-02-29T12:00:00Z", "a leap day"),
    ("2026-12-31T23:59:00Z", "the last minute of a year"),
    ("2027-01-01T00:30:00Z", "New Year, half an hour in"),
)

DATE_SENSITIVE: tuple[str, ...] = (
    "tests/foundation/test_time.py",
    "tests/foundation/test_clock.py",
    "tests/integration/test_month_boundaries.py",
    "tests/foundation/test_retry_after.py",
    "tests/report",
    "tests/analytics",
    "tests/store/test_sync.py",
    "tests/store/test_store.py",
    "tests/store/test_new_providers.py",
    "tests/sandbox",
    "tests/providers",
    "tests/openai/test_records.py",
    "tests/openai/test_requests.py",
    "tests/integration/test_providers_sandbox.py",
    "tests/integration/test_collect_sandbox.py",
    "tests/integration/test_openai_sandbox.py",
    "tests/cli",
    "tests/docs",
    *(ALWAYS := ("tests/examples/test_examples.py",)),
)
"""ALWAYS: the examples, which run as processes of their own, so the clock they read cannot be
observed: every instant runs them whole. Every other test runs again at an instant when it read
the clock at the first one (the README's blocks, the command's in-process runs, ...). The docs
pages' snippets run at the date they are written for (tests/examples/test_docs.py)."""


def _run(
    instant: str, targets: list[str], readers: Path | None = None
) -> tuple[str, int, str, float]:
    env = dict(os.environ, USAGEKIT_TEST_CLOCK=instant)
    env.pop("USAGEKIT_NOW", None)
    if readers is not None:
        env["USAGEKIT_TEST_CLOCK_READERS"] = str(readers)
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--no-header",
        "-o",
        "addopts=-ra --strict-markers",
        *targets,
    ]
    began = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    return instant, done.returncode, done.stdout + done.stderr, time.monotonic() - began


def main(argv: list[str] | None = None) -> int:
    """Run the sweep; return 0 when every instant passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instants", nargs="*", help="instants to run (default: the built-in list)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:  # what follows goes to pytest as it is
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    args = parser.parse_args(argv)
    chosen = args.instants or [at for at, _ in INSTANTS]
    why = dict(INSTANTS)
    began = time.monotonic()
    failed: list[str] = []

    def show(result: tuple[str, int, str, float]) -> None:
        instant, code, output, seconds = result
        summary = output.strip().splitlines()[-1] if output.strip() else "(no output)"
        label = f"{instant} ({why.get(instant, 'given')})"
        if code == 0:
            print(f"ok      {label}: {summary} [{seconds:.0f} s]", flush=True)
        else:
            failed.append(instant)
            print(f"FAILED  {label}: {summary} [{seconds:.0f} s]", flush=True)
            print(output, flush=True)

    with tempfile.TemporaryDirectory() as scratch:
        observed = [t for t in DATE_SENSITIVE if t not in ALWAYS]
        shares = max(1, args.jobs)
        logs = [Path(scratch) / f"readers-{n}" for n in range(shares)]
        with ThreadPoolExecutor(max_workers=shares) as pool:
            # the first instant: the observable files, shared out between the workers (each
            # recording who reads the clock), then the process-starting ones
            first = [
                pool.submit(_run, chosen[0], [*observed[n::shares], *extra], logs[n])
                for n in range(shares)
            ]
            first.append(pool.submit(_run, chosen[0], [*ALWAYS, *extra]))
            for future in first:
                show(future.result())
            ids = sorted(
                {i for log in logs if log.exists() for i in log.read_text("utf-8").splitlines()}
            )
            ids = [i for i in ids if not i.startswith(ALWAYS)] + list(ALWAYS)
            for result in pool.map(lambda at: _run(at, [*ids, *extra]), chosen[1:]):
                show(result)
    total = time.monotonic() - began
    if failed:
        failed = list(dict.fromkeys(failed))
        print(f"clock sweep: {len(failed)} of {len(chosen)} instants failed: {', '.join(failed)}")
        return 1
    print(f"clock sweep: all {len(chosen)} instants passed in {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
