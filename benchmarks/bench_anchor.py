"""The anchor line: usagekit's full path against the floor, on the same real pages.

The pages of the normalize benchmark (real completions pages at ``1m``, ``1h`` and ``1d``,
fetched from the data server in its own process; see :mod:`benchmarks._pages`), each timed
three ways, alternately, garbage collector on, best of N:

* ``orjson.loads``: parsing alone, the floor (``json.loads`` when orjson is not installed; the
  line says which);
* pydantic ``validate_json``: ``endpoint.page_type.model_validate_json(body)``, the wire page
  model validated straight from the bytes by pydantic-core (what a plain typed client pays);
* usagekit's full path: decode and validate as ``records()``' walk does (plainly, without
  wire models, by ``_plain.plain_page`` when the page is plainly valid, else
  ``usagekit._core.transport.decode_body`` into the page model), then the page's records
  (``_normalize.page_table(endpoint, page)`` where it exists, else ``page_records``).

Each is printed in microseconds a result (15 records a result); the ratio is full path over
``validate_json`` (target 3x), and each width's own ratio is printed beside it.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from functools import partial
from typing import Any

from usagekit._providers.openai._requests import ENDPOINTS_BY_NAME

from ._common import Result, best_of
from ._pages import WIDTHS, full_path, full_path_name, real_pages

TARGET = 3.0


def _each(work: Callable[[bytes], Any], bodies: list[bytes]) -> list[Any]:
    return [work(body) for body in bodies]


def _loads() -> tuple[str, Callable[[bytes], Any]]:
    try:
        orjson = importlib.import_module("orjson")
    except ImportError:
        return "json.loads (orjson not installed)", json.loads
    loads: Callable[[bytes], Any] = orjson.loads
    return "orjson.loads", loads


def run(smoke: bool = False) -> Result:
    """Time the floor, pydantic and usagekit on the same pages; full path over pydantic."""
    endpoint = ENDPOINTS_BY_NAME["completions"]
    by_width = real_pages(pages=1 if smoke else 3, buckets=2 if smoke else 20)
    loads_name, loads = _loads()
    validate = endpoint.page_type.model_validate_json
    full = full_path()
    repeats = 2 if smoke else 7
    ways: dict[str, Callable[[bytes], Any]] = {"parse": loads, "validate": validate, "full": full}
    totals = dict.fromkeys(ways, 0.0)
    results_total = 0
    figures = []
    for width in WIDTHS:
        bodies = by_width[width]
        results = sum(len(bucket["results"]) for body in bodies for bucket in loads(body)["data"])
        best = dict.fromkeys(ways, float("inf"))
        for _ in range(repeats):  # alternately, so that noise hits all three
            for name, way in ways.items():
                best[name] = min(best[name], best_of(1, partial(_each, way, bodies)))
        for name in ways:
            totals[name] += best[name]
        results_total += results
        per = {name: best[name] / results * 1e6 for name in ways}
        figures.append(
            f"{width} {per['parse']:.1f}/{per['validate']:.1f}/{per['full']:.1f} us "
            f"({best['full'] / best['validate']:.2f}x)"
        )
    per = {name: totals[name] / results_total * 1e6 for name in ways}
    ratio = totals["full"] / totals["validate"]
    return Result(
        "anchor",
        ratio,
        TARGET,
        f"{results_total:,} results (15 records each) at 1m/1h/1d; {loads_name} "
        f"{per['parse']:.1f} us/result, pydantic validate_json {per['validate']:.1f} us/result, "
        f"usagekit full path (plain_page or decode_body, + {full_path_name()}) "
        f"{per['full']:.1f} us/result "
        f"({totals['full'] / totals['parse']:.1f}x the parse); by width parse/validate/full: "
        f"{', '.join(figures)}; best of {repeats}, GC on",
        what="usagekit's full path (decode + records) on real pages of every width",
        baseline="pydantic `validate_json` of the wire page model on the same bytes",
        brief=(
            f"{loads_name.split()[0]} {per['parse']:.1f}, validate_json {per['validate']:.1f}, "
            f"full path {per['full']:.1f} us a result"
        ),
    )


if __name__ == "__main__":
    print(run().line())
