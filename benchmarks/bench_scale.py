"""Benchmark: a year of hourly OpenAI completions, at N, 4N and 16N, end to end.

The year a platform team syncs: 8,760 hourly buckets of completions for an organization of 50
groups (project, user, API key, model, batch, service tier), each group active in an hour with
probability 0.4 (so about 20 results an hour, every one with all 15 numeric fields: about 2.6
million records). It is served over loopback by the data server (:mod:`benchmarks.dataserver`,
a process of its own, synthetic data in the API's real shape) and read by a real
``usagekit.OpenAIClient`` pointed at it. N is a sixteenth of the year (548 hours; 16N = 8,768
hours, the year and 8 hours); ``--smoke`` uses N = 3 hours.

Before anything is timed the server is walked once over the whole span, so every bucket is
encoded and kept and the server does next to nothing while the client is measured. Then each
measurement runs in a fresh Python process (``python -m benchmarks.bench_scale --child ...``),
so no figure inherits another's memory or warm caches, garbage collector on; a size measured
more than once (below) gives the mean of its runs, never their best:

* ``stream``, per size: ``client.records(start, end, sources=["completions"],
  bucket_width="1h")`` consumed record by record: records per second (wall) and per
  CPU-second (``time.process_time``). N is streamed four times (first, after 4N and after
  each of two runs of 16N) and 16N twice, and each size's times are the mean of its runs: one
  run of N lasts about a second, so a single one is at the mercy of whatever the machine does
  in that second (N's runs measured 2.16 to 3.15 us a record within one benchmark, and the
  16N/N ratio of one run each 1.09-1.25x across runs of the same code).
  N's ``collect`` (with the exports) and ``store`` are run three times too, at the same
  moments, and each of their figures at N is the median of its three values (their 16N/N
  ratios moved 1.16-1.74x across runs when N was measured once), except their times: every
  export's process runs the collect first, so 16N's collect is timed three times and N's
  nine, and each time of a collect, an export or a store at N (wall, CPU, system) is the mean
  of all of its runs, 16N's collect the mean of its three. Means, not a median against one
  run: on this kind of shared virtual machine the speed of the CPU itself moves from second
  to second (a fixed loop of ``orjson.loads`` measured 448 to 868 ms of CPU within one minute,
  nothing else running), a 5 s collect of 16N averages over that while a 0.3 s one of N
  samples it, and the median of such samples sits below their mean whenever the slow moments
  are rarer;
* ``collect``, per size: ``usagekit.collect`` of that client (through a wrapper that reads
  completions at ``1h``; it forwards the client's columnar ``_record_tables`` when that takes
  the same arguments). Memory: the process's resident set after its imports, a one-hour
  ``collect`` (which does the lazy imports) and a garbage collection is the baseline (Linux
  ``VmRSS``); after ``collect`` the peak (``VmHWM``) minus the baseline is the peak, and the
  resident set with the report alive (after a collection) minus the baseline is what the
  report holds, per record. CPU per record at 16N over N shows whether the cost grows with
  N (target 1.1x: the ratio of this benchmark);
* at N and 16N, after the memory readings (pandas and pyarrow imported first, as a
  long-running program has them): ``report.to_csv``, ``report.to_parquet`` and
  ``report.to_pandas()``, records per second each (at 16N) and CPU per record 16N/N. Each
  export runs in a process of its own, as the first work after its ``collect``, so that N and
  16N start it from the same state: on this kind of virtual machine, memory a process frees
  and soon asks for again costs it a tenth of memory it has not used yet (``to_pandas`` of the
  year, in one process: 0.9-1.0 us a record of system time the first time, 0.1 the second,
  with as many page faults), and when the exports shared a process, N's later exports ran on
  memory its earlier ones had freed while 16N's needed more than that (``to_pandas`` measured
  1.43-2.37x 16N/N, 70 % of it system time at 16N, 1.26-1.29x in user CPU alone). Even so the
  kernel's part grows with the memory asked for, for a reason outside the process: this
  machine is a virtual machine whose memory its host backs on first touch, and touching guest
  memory not used since boot cost 12 us a page (6 GB: 19 s of CPU), so 16N's exports, which
  need hundreds of MB more than any earlier run, paid 0.6-0.7 us a record of system time
  where N's paid 0.1-0.2 (user CPU 16N/N 0.6-1.0x in the same runs); after 6 GB had been
  touched once, 16N's ``to_pandas`` paid 0.14. So every "CPU per item 16N/N" check is on
  the process's own CPU, user time (its CPU time less the kernel's part, as ``getrusage``
  accounts it), which is what grows if usagekit's work per record does; the ratios with the
  kernel's part, and that part's share at 16N, are printed beside them;
* ``store``, at N and 16N: ``usagekit.sync(Store(new file), [client])`` from the year's start
  (through :func:`hourly`, which reads an open end as the end of the size and keeps
  sync's columnar path for usagekit's client): rows per second written at 16N, end to end
  (the fetch and normalization included, which the 16N stream time shows), CPU per row
  16N/N, and bytes a row on disk (the store's files once closed). ``python -m
  benchmarks.bench_scale --store`` runs only this part.

Every figure is printed with its target; ``python -m benchmarks scale`` takes about a minute
and a half on a 2-CPU machine (the year is fetched and normalized eight times: streamed twice,
collected for each export, synced).
"""

from __future__ import annotations

import argparse
import gc
import inspect
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from statistics import fmean
from typing import Any

from ._common import Check, Result, current_rss_bytes, peak_rss_bytes, run_child

START = datetime(2025, 1, 1, tzinfo=timezone.utc)
N_HOURS = 548
SMOKE_HOURS = 3
GROUPS = 50
ACTIVE = 0.4
SOURCES = ("completions",)
_MODULE = "benchmarks.bench_scale"
CPU_GROWTH = 1.1
PEAK_LIMIT = 400e6
HELD_LIMIT = 150.0
EXPORT_RATE = 500_000.0
STORE_RATE = 150_000.0
EXPORTS = ("csv", "parquet", "pandas")
"""The report's exports timed, each in a process of its own right after its ``collect``."""


class Hourly:
    """An OpenAI client as ``collect`` and ``sync`` see it, reading completions at ``1h``.

    ``collect(clients, start, end)`` and ``sync`` call ``records(start, end)``; this passes the
    benchmark's sources and width on. Use :func:`hourly` to make one: when the client has a
    columnar ``_record_tables`` that takes the same arguments, it makes a :class:`HourlyTables`,
    which offers it too, so the wrapper never hides a faster path.

    Args:
        client: A sync ``usagekit.OpenAIClient``.
        until: What an open end (``end=None``, as ``sync`` asks) means; None: up to now.
    """

    provider = "openai"

    def __init__(self, client: Any, until: datetime | None = None) -> None:
        self._client = client
        self._until = until

    def records(self, start: Any = None, end: Any = None) -> Iterable[Any]:
        """The client's records of completions at ``1h``."""
        records: Iterable[Any] = self._client.records(
            start, self._until if end is None else end, sources=list(SOURCES), bucket_width="1h"
        )
        return records


class HourlyTables(Hourly):
    """:class:`Hourly` with the client's columnar ``_record_tables`` offered beside ``records``.

    ``collect`` and ``sync`` take a source's ``_record_tables`` only from the class that also
    defines its ``records``: both are defined here.
    """

    def records(self, start: Any = None, end: Any = None) -> Iterable[Any]:
        """The client's records of completions at ``1h``."""
        return super().records(start, end)

    def _record_tables(self, start: Any = None, end: Any = None) -> Iterable[Any]:
        tables: Iterable[Any] = self._client._record_tables(
            start, self._until if end is None else end, sources=list(SOURCES), bucket_width="1h"
        )
        return tables


def hourly(client: Any, until: datetime | None = None) -> Hourly:
    """The benchmark's source over ``client``: :class:`HourlyTables` when it can be."""
    tables = getattr(client, "_record_tables", None)
    if tables is not None and _takes(tables, "sources", "bucket_width"):
        return HourlyTables(client, until)
    return Hourly(client, until)


def _takes(function: Any, *names: str) -> bool:
    try:
        parameters = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return all(name in parameters for name in names)


def _window(hours: int) -> tuple[datetime, datetime]:
    return START, START + timedelta(hours=hours)


def _client(url: str) -> Any:
    import usagekit

    from .dataserver import API_KEY

    return usagekit.OpenAIClient(api_key=API_KEY, base_url=f"{url}/v1")


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(began: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clock()
    return wall - began[0], cpu - began[1]


def child_stream(url: str, hours: int) -> dict[str, Any]:
    """Consume ``records()`` over ``hours`` hours (this process is the measurement)."""
    client = _client(url)
    start, end = _window(hours)
    count = 0
    gc.collect()
    system = _system()
    began = _clock()
    for _ in client.records(start, end, sources=list(SOURCES), bucket_width="1h"):
        count += 1
    wall, cpu = _since(began)
    system = _system() - system
    client.close()
    return {"records": count, "wall": wall, "cpu": cpu, "system": system}


def child_collect(url: str, hours: int, export: str | None) -> dict[str, Any]:
    """``collect`` over ``hours`` hours with its memory; then one export when asked."""
    import usagekit
    from usagekit._collect import _tables_of

    client = _client(url)
    source = hourly(client)
    start, end = _window(hours)
    usagekit.collect([source], start, start + timedelta(hours=1))  # the lazy imports, once
    gc.collect()
    baseline = current_rss_bytes() or peak_rss_bytes()
    system = _system()
    began = _clock()
    report = usagekit.collect([source], start, end)
    wall, cpu = _since(began)
    system = _system() - system
    peak = peak_rss_bytes()
    if report.failures:
        raise RuntimeError(f"collect failed: {report.failures}")
    gc.collect()
    held = (current_rss_bytes() or peak) - baseline
    count = len(report.records)
    out: dict[str, Any] = {
        "records": count,
        "wall": wall,
        "cpu": cpu,
        "system": system,
        "baseline": baseline,
        "peak": peak - baseline,
        "held": held,
        "path": "_record_tables" if _tables_of(source) is not None else "records",
    }
    if export is not None:
        import pandas  # imported before timing, as a long-running program has them
        import pyarrow.parquet

        del pandas, pyarrow
        with tempfile.TemporaryDirectory(prefix="usagekit-bench-scale-") as directory:
            works: dict[str, Callable[[], int]] = {
                "csv": lambda: int(report.to_csv(Path(directory) / "year.csv")),
                "parquet": lambda: int(report.to_parquet(Path(directory) / "year.parquet")),
                "pandas": lambda: len(report.to_pandas()),
            }
            gc.collect()
            system = _system()
            began = _clock()
            written = works[export]()
            wall, cpu = _since(began)
            system = _system() - system  # the kernel's part (fresh memory: faults)
            if written != count:
                raise RuntimeError(f"{export} wrote {written} records of {count}")
            out[export] = {"wall": wall, "cpu": cpu, "system": system}
        out["peak_after_exports"] = peak_rss_bytes() - baseline
    client.close()
    return out


def child_store(url: str, hours: int) -> dict[str, Any]:
    """``usagekit.sync`` into a new store from the year's start, ``hours`` hours, end to end
    (the requests to the data server, the decoding and normalizing, the writes)."""
    import usagekit
    from usagekit._collect import _tables_of

    client = _client(url)
    with tempfile.TemporaryDirectory(prefix="usagekit-bench-store-") as directory:
        path = Path(directory) / "usage.sqlite"
        with usagekit.Store(path) as store:
            gc.collect()
            system = _system()
            began = _clock()
            source = hourly(client, until=START + timedelta(hours=hours))
            result = usagekit.sync(store, [source], since=START)
            wall, cpu = _since(began)
            system = _system() - system
        if not result.ok:
            raise RuntimeError(f"sync failed: {[p.error for p in result.failures]}")
        size = sum(f.stat().st_size for f in Path(directory).iterdir() if f.is_file())
    client.close()
    path_taken = "_record_tables" if _tables_of(source) is not None else "records"
    return {
        "rows": result.written,
        "wall": wall,
        "cpu": cpu,
        "system": system,
        "bytes": size,
        "path": path_taken,
    }


def run_store(smoke: bool = False) -> dict[str, dict[str, Any]]:
    """Only the store part: ``sync`` into a new file at N and 16N, as :func:`run` measures it.

    ``python -m benchmarks.bench_scale --store [--smoke]`` prints these figures as JSON, for
    working on the store without the rest of the benchmark's minutes.

    Returns:
        The figures of :func:`child_store` per size, and the rate and growth.
    """
    from .dataserver import serve_data

    unit = SMOKE_HOURS if smoke else N_HOURS
    sizes = {"N": unit, "16N": 16 * unit}
    now = (START + timedelta(hours=sizes["16N"])).strftime("%Y-%m-%dT%H:%M:%SZ")
    store: dict[str, dict[str, Any]] = {}
    with serve_data(groups=GROUPS, active=ACTIVE, now=now, cache_mb=1024) as server:
        _warm(server.url, sizes["16N"])
        for label, hours in sizes.items():
            store[label] = run_child(_MODULE, ["--child", "store", server.url, str(hours)])
    top = store["16N"]
    store["summary"] = {
        "rows_per_s": _rate(top["rows"], top["wall"]),
        "cpu_growth": _growth(store["N"], top, user=True),
        "bytes_per_row": top["bytes"] / max(1, top["rows"]),
    }
    return store


def _warm(url: str, hours: int) -> None:
    """Walk the span once at the client's query, so the server has every bucket encoded."""
    import httpx

    from ._pages import GROUP_BY
    from .dataserver import API_KEY

    step = 168
    with httpx.Client(timeout=600) as http:
        for first in range(0, hours, step):
            begin = START + timedelta(hours=first)
            finish = START + timedelta(hours=min(hours, first + step))
            params = [
                ("start_time", str(int(begin.timestamp()))),
                ("end_time", str(int(finish.timestamp()))),
                ("bucket_width", "1h"),
                *(("group_by", name) for name in GROUP_BY),
                ("limit", str(step)),
            ]
            response = http.get(
                f"{url}/v1/organization/usage/completions",
                params=tuple(params),
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
            response.raise_for_status()


def _rate(count: float, seconds: float) -> float:
    """Items per second (infinite for no time at all)."""
    return count / seconds if seconds > 0 else float("inf")


def _per(figures: dict[str, Any], *, user: bool = False) -> float:
    """CPU seconds per item (record or row) of a run (``user``: without the kernel's part)."""
    spent = float(figures["cpu"]) - (float(figures["system"]) if user else 0.0)
    return spent / max(1, int(figures["records" if "records" in figures else "rows"]))


def _growth(small: dict[str, Any], large: dict[str, Any], *, user: bool = False) -> float:
    """CPU per item at 16N over CPU per item at N (``user``: without the kernel's part)."""
    return _per(large, user=user) / _per(small, user=user)


_COUNTS = ("records", "rows")
_TIMES = ("wall", "cpu", "system")


def _share(figures: dict[str, Any]) -> float:
    """The kernel's part (``system``) of a run's CPU."""
    return float(figures["system"]) / max(1e-9, float(figures["cpu"]))


def _system() -> float:
    """CPU seconds this process has spent in the kernel, as the kernel accounts them (in
    microseconds; where the kernel samples the split between user and system time at its
    ticks, 4 ms on the benchmarks' machine, a short run's share moves by a few per cent)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


def _medians(runs: Sequence[dict[str, Any]], *, mean_times: bool = False) -> dict[str, Any]:
    """The figures of several runs of one size, each the median of its values across the runs
    (nested dicts figure by figure); the counts must be the same in every run.

    Args:
        runs: Each run's figures.
        mean_times: Times (``wall``, ``cpu``, ``system``) are the mean of the runs' instead.

    Returns:
        The merged figures.

    Raises:
        RuntimeError: The runs did not read the same number of records.
    """
    merged: dict[str, Any] = {}
    for key, value in runs[0].items():
        values = [figures[key] for figures in runs]
        if isinstance(value, dict):
            merged[key] = _medians(values, mean_times=mean_times)
        elif key in _COUNTS:
            if len(set(values)) != 1:
                raise RuntimeError(f"runs of one size gave {values} {key}")
            merged[key] = value
        elif mean_times and key in _TIMES:
            merged[key] = fmean(values)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            merged[key] = sorted(values)[len(values) // 2]
        else:
            merged[key] = value
    return merged


def run(smoke: bool = False) -> Result:
    """Stream, collect (memory), export and store the year; see the docstring."""
    from .dataserver import serve_data

    unit = SMOKE_HOURS if smoke else N_HOURS
    sizes = {"N": unit, "4N": 4 * unit, "16N": 16 * unit}
    now = (START + timedelta(hours=sizes["16N"])).strftime("%Y-%m-%dT%H:%M:%SZ")
    held: dict[str, dict[str, Any]] = {}
    store: dict[str, dict[str, Any]] = {}
    with serve_data(groups=GROUPS, active=ACTIVE, now=now, cache_mb=1024) as server:
        _warm(server.url, sizes["16N"])
        streams: dict[str, list[dict[str, Any]]] = {label: [] for label in sizes}
        small_held: list[dict[str, Any]] = []
        small_stores: list[dict[str, Any]] = []

        def with_exports(hours: int) -> dict[str, Any]:
            """``collect`` and each export, an export a process (its first work after the
            ``collect``): the collect's figures from the first, each export's from its own."""
            args = ["--child", "collect", server.url, str(hours), "--export"]
            runs = [run_child(_MODULE, [*args, name]) for name in EXPORTS]
            figures = dict(runs[0])
            for key in _TIMES:  # every process ran the collect first: its time, their mean
                figures[key] = fmean(float(run[key]) for run in runs)
            for name, figured in zip(EXPORTS, runs, strict=True):
                figures[name] = figured[name]
            figures["peak_after_exports"] = max(run["peak_after_exports"] for run in runs)
            return figures

        small_store = ["--child", "store", server.url, str(sizes["N"])]

        def streamed(label: str) -> None:
            args = ["--child", "stream", server.url, str(sizes[label])]
            streams[label].append(run_child(_MODULE, args))

        for label, hours in sizes.items():
            streamed(label)
            if label != "N":  # N again after each larger size
                streamed("N")
            if label == "16N":  # and 16N twice, alternately with N
                streamed("16N")
                streamed("N")
            args = ["--child", "collect", server.url, str(hours)]
            ends = label in ("N", "16N")
            held[label] = with_exports(hours) if ends else run_child(_MODULE, args)
            if ends:
                store[label] = run_child(_MODULE, ["--child", "store", server.url, str(hours)])
            if label != "N":  # so are N's collect, exports and store
                small_held.append(with_exports(sizes["N"]))
                small_stores.append(run_child(_MODULE, small_store))
    stream = {label: _medians(runs, mean_times=True) for label, runs in streams.items()}
    held["N"] = _medians([held["N"], *small_held], mean_times=True)  # means of every run
    store["N"] = _medians([store["N"], *small_stores], mean_times=True)
    year, small = held["16N"], held["N"]
    count = int(year["records"])
    if store["16N"]["rows"] != count or stream["16N"]["records"] != count:
        raise RuntimeError(
            f"the year gave {stream['16N']['records']} records streamed, {count} collected, "
            f"{store['16N']['rows']} stored"
        )
    rates = {name: _rate(count, year[name]["wall"]) for name in EXPORTS}
    store_rate = _rate(store["16N"]["rows"], store["16N"]["wall"])
    exported = {
        name: ({**small[name], "records": small["records"]}, {**year[name], "records": count})
        for name in EXPORTS
    }
    pairs = {
        "stream": (stream["N"], stream["16N"]),
        "collect": (small, year),
        **exported,
        "store": (store["N"], store["16N"]),
    }
    # the process's own CPU (user) per item, 16N over N; and its CPU with the kernel's part
    growth = {name: _growth(*pair, user=True) for name, pair in pairs.items()}
    total = {name: _growth(*pair) for name, pair in pairs.items()}
    sizes_text = "; ".join(
        f"{label} ({hours:,} h, {stream[label]['records']:,} records): stream "
        f"{_rate(stream[label]['records'], stream[label]['wall']) / 1000:.0f}k/s "
        f"({_rate(stream[label]['records'], stream[label]['cpu']) / 1000:.0f}k/CPU-s, "
        f"{_per(stream[label]) * 1e6:.2f} us), collect {held[label]['wall']:.1f} s "
        f"({_per(held[label]) * 1e6:.2f} us CPU), peak +{held[label]['peak'] / 1e6:.0f} MB, "
        f"held {held[label]['held'] / held[label]['records']:.0f} B/record"
        for label, hours in sizes.items()
    )
    exports_text = ", ".join(
        f"{name} {year[name]['wall']:.1f} s ({rates[name] / 1000:.0f}k/s)" for name in EXPORTS
    )
    growth_text = ", ".join(f"{name} {value:.2f}x" for name, value in growth.items())
    growth_text += (
        " (stream: each size's times the mean of its runs, N streamed first, after 4N and after "
        "each of two 16N: "
        + "; ".join(
            f"{label} " + "/".join(f"{_per(figures) * 1e6:.2f}" for figures in streams[label])
            for label in ("N", "16N")
        )
        + " us a record) (with the kernel's part: "
        + ", ".join(
            f"{name} {total[name]:.2f}x, {_share(pair[1]):.0%} system at 16N"
            for name, pair in pairs.items()
        )
        + ")"
    )
    checks = (
        Check("stream user CPU/record 16N/N", growth["stream"], CPU_GROWTH, style="ratio"),
        Check("to_pandas user CPU/record 16N/N", growth["pandas"], CPU_GROWTH, style="ratio"),
        Check("store user CPU/row 16N/N", growth["store"], CPU_GROWTH, style="ratio"),
        Check("collect peak", year["peak"], PEAK_LIMIT, strict=True, style="megabytes"),
        Check(
            "report held", year["held"] / count, HELD_LIMIT, strict=True, style="bytes",
            unit="record",
        ),
        Check("to_csv", rates["csv"], EXPORT_RATE, style="rate", at_least=True),
        Check("to_parquet", rates["parquet"], EXPORT_RATE, style="rate", at_least=True),
        Check("to_pandas", rates["pandas"], EXPORT_RATE, style="rate", at_least=True),
        Check("store sync", store_rate, STORE_RATE, style="rate", at_least=True, unit="rows"),
    )  # fmt: skip
    top = store["16N"]
    return Result(
        "scale",
        growth["collect"],
        CPU_GROWTH,
        f"collect user CPU/record 16N/N; {sizes_text} | 16N: {exports_text}, peak after exports "
        f"+{year['peak_after_exports'] / 1e6:.0f} MB; store sync {top['wall']:.1f} s "
        f"({store_rate / 1000:.0f}k rows/s, {top['cpu']:.1f} CPU-s), "
        f"{top['bytes'] / max(1, top['rows']):.0f} B/row on disk | user CPU per item 16N/N: "
        f"{growth_text} | collect via {year['path']}, its CPU the mean of its runs (16N "
        f"{len(EXPORTS)}, N {len(EXPORTS) * (1 + len(small_held))}); {GROUPS} groups, "
        f"{ACTIVE:g} active, GC on",
        checks=checks,
        what=(
            f"a year of hourly completions ({count:,} records) over loopback, at N, 4N, 16N"
            if not smoke
            else f"hourly completions ({count:,} records, smoke size) at N, 4N, 16N"
        ),
        baseline="user CPU per record at N (collect)",
        brief=(
            f"records() {_rate(stream['16N']['records'], stream['16N']['cpu']) / 1000:.0f}k "
            f"records/CPU-s; collect {year['wall']:.0f} s"
        ),
    )


def main(argv: Sequence[str] | None = None) -> None:
    """With ``--child``, run one measurement here and print it as JSON; else the benchmark."""
    parser = argparse.ArgumentParser(prog=f"python -m {_MODULE}")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "URL", "HOURS"))
    parser.add_argument("--export", choices=EXPORTS)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--store", action="store_true", help="only the store part, as JSON")
    args = parser.parse_args(argv)
    if args.store:
        print(json.dumps(run_store(smoke=args.smoke), indent=1))
        return
    if args.child is None:
        print(run(smoke=args.smoke).line())
        return
    kind, url, hours = args.child
    if kind == "stream":
        figures = child_stream(url, int(hours))
    elif kind == "collect":
        figures = child_collect(url, int(hours), args.export)
    elif kind == "store":
        figures = child_store(url, int(hours))
    else:
        raise SystemExit(f"unknown child {kind!r}")
    sys.stdout.write(json.dumps(figures) + os.linesep)


if __name__ == "__main__":
    main()
