"""Every example in ``examples/`` runs against the sandbox, as a user runs it, and makes sense.

Each script is run as a subprocess with ``--demo`` (or ``USAGEKIT_DEMO=1``), so nothing leaves
127.0.0.1; the notebook is executed headless when nbclient and ipykernel are installed.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

import usagekit
from usagekit._providers import PROVIDERS

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))
TESTED = {
    "budget_alert.py",
    "export_focus.py",
    "monthly_spend.py",
    "nightly_sync.py",
    "tokens_by_model.py",
    "web_service.py",
}
# Nothing from the environment may point an example at a real provider.
PROVIDER_VARIABLES = (
    "OPENAI_ADMIN_KEY",
    "OPENAI_BASE_URL",
    "BASEDASH_API_KEY",
    "BASEDASH_ORG_ID",
    "BASEDASH_BASE_URL",
    "UNSILOED_API_KEY",
    "UNSILOED_BASE_URL",
    "DARAMEX_TOKEN",
    "DARAMEX_ORG_ID",
    "DARAMEX_BASE_URL",
    "USAGEKIT_DEMO",
)
TIMEOUT = 180
MID_MONTH = "2026-11-20T12:00:30Z"  # a pinned instant for verdicts that need spend behind them


def early_in_the_month() -> bool:
    """Whether the demo's month so far is too short to be sure something was spent."""
    return usagekit.utcnow().day == 1  # a provider may not have spent yet on the first day


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARIABLES}
    env.update(extra)
    return env


def run(
    script: str, *args: str, cwd: Path, demo: bool = True, **env: str
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(EXAMPLES / script), *(["--demo"] if demo else []), *args]
    return subprocess.run(
        command,
        cwd=cwd,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_every_example_has_a_test() -> None:
    assert set(SCRIPTS) == TESTED


def test_monthly_spend(tmp_path: Path) -> None:
    result = run("monthly_spend.py", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("AI spend since ")
    costs = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert set(costs) == {*PROVIDERS, "total"}
    assert costs["total"][-1] == "USD" or (early_in_the_month() and costs["total"] == ["none"])
    assert costs["unsiloed"] == ["no", "cost", "reported"]
    amounts = []
    for provider in ("openai", "basedash", "daramex", "anthropic", "openrouter"):
        words = costs[provider]
        if words[-1] == "USD":
            amounts.append(Decimal(words[0].replace(",", "")))
        elif provider in ("anthropic", "openrouter"):  # finished UTC days only: none yet on the 1st
            assert " ".join(words) in ("no data in this window", "no cost reported"), words
        else:  # nothing yet: only in the first hours of a month, and said so
            assert early_in_the_month(), words
            assert " ".join(words) in ("no data in this window", "no cost reported")
    assert all(amount > 0 for amount in amounts) or early_in_the_month()
    total = Decimal(costs["total"][0].replace(",", "")) if amounts else Decimal(0)
    assert abs(sum(amounts) - total) <= Decimal("0.02")  # each amount rounded to the cent


def test_the_demo_is_also_chosen_by_the_environment(tmp_path: Path) -> None:
    result = run("monthly_spend.py", cwd=tmp_path, demo=False, USAGEKIT_DEMO="1")
    assert result.returncode == 0, result.stderr
    assert "openai" in result.stdout


def test_without_keys_or_demo_the_variables_are_named(tmp_path: Path) -> None:
    result = run("monthly_spend.py", cwd=tmp_path, demo=False)
    assert result.returncode != 0
    assert "OPENAI_ADMIN_KEY" in result.stderr
    assert "--demo" in result.stderr


def test_tokens_by_model(tmp_path: Path) -> None:
    result = run("tokens_by_model.py", "--top", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    header, *rows, total = result.stdout.splitlines()
    assert header.startswith("Tokens by model since ")
    assert len(rows) == 3
    counts = [int(row.split()[-2].replace(",", "")) for row in rows]
    assert counts == sorted(counts, reverse=True)
    assert 0 < sum(counts) <= int(total.split()[-1].replace(",", ""))


def stored(output: str) -> int:
    last = output.splitlines()[-1]
    assert last.endswith("usage.sqlite")
    return int(last.split()[0].replace(",", ""))


def test_nightly_sync_is_incremental(tmp_path: Path) -> None:
    first = run("nightly_sync.py", "--db", "usage.sqlite", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = run("nightly_sync.py", "--db", "usage.sqlite", cwd=tmp_path)
    assert second.returncode == 0, second.stderr

    def written(output: str) -> dict[str, int]:
        rows = [line.split() for line in output.splitlines()[:-1]]
        return {row[0]: int(row[1].replace(",", "")) for row in rows}

    assert set(written(first.stdout)) == set(PROVIDERS)
    assert written(second.stdout)["openai"] <= written(first.stdout)["openai"]
    for line in second.stdout.splitlines()[:-1]:  # a provider with records resumes from them
        if written(first.stdout)[line.split()[0]] > 0:
            assert "from its default window" not in line
    assert stored(first.stdout) > 0
    assert abs(stored(second.stdout) - stored(first.stdout)) <= 200  # no duplicates
    with usagekit.Store(tmp_path / "usage.sqlite") as store:
        assert store.count() == stored(second.stdout)
        assert len(list(store.snapshots("basedash"))) == 2


@pytest.mark.parametrize(
    ("limit", "code", "verdict"), [("1", 1, "OVER BUDGET"), ("1e9", 0, "within budget")]
)
def test_budget_alert(tmp_path: Path, limit: str, code: int, verdict: str) -> None:
    # mid-month, with 19 days of spend behind it: the clock is pinned, the verdict is certain
    result = run("budget_alert.py", "--limit", limit, cwd=tmp_path, USAGEKIT_NOW=MID_MONTH)
    assert result.returncode == code, result.stderr
    assert result.stdout.startswith("month to date: ")
    assert "projected by 2026-12-01: " in result.stdout
    assert result.stdout.splitlines()[-1] == verdict


@pytest.mark.parametrize("limit", ["1", "1e9"])
def test_budget_alert_today(tmp_path: Path, limit: str) -> None:
    """At whatever instant the suite runs (the sweep pins several), the verdict fits the spend."""
    result = run("budget_alert.py", "--limit", limit, cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr
    first = result.stdout.splitlines()[0]
    assert first.startswith("month to date: ")
    spent = Decimal(first.split()[3].replace(",", ""))
    verdict = result.stdout.splitlines()[-1]
    assert (verdict == "OVER BUDGET") == (result.returncode == 1)
    if spent > Decimal(limit):
        assert verdict == "OVER BUDGET"
    if usagekit.utcnow().day < 7:  # at most 6 days of data: no projection yet
        assert "projection: not enough days of data yet" in result.stdout


def test_export_focus_csv(tmp_path: Path) -> None:
    result = run("export_focus.py", "-o", "focus.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote ")
    with open(tmp_path / "focus.csv", newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == usagekit.FOCUS_COLUMNS
    assert f"wrote {len(rows):,} FOCUS 1.2 rows" in result.stdout
    assert {row["ProviderName"] for row in rows} >= {"OpenAI", "Daramex"}
    assert {row["BillingCurrency"] for row in rows} == {"USD"}
    assert sum(Decimal(row["BilledCost"]) for row in rows) > 0


def test_export_focus_parquet_this_month(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    this_month = usagekit.utcnow().strftime("%Y-%m-01")
    result = run("export_focus.py", "-o", "focus.parquet", "--since", this_month, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    table = pq.read_table(tmp_path / "focus.parquet")
    assert tuple(table.column_names) == usagekit.FOCUS_COLUMNS
    providers = set(table.column("ProviderName").to_pylist())
    assert "Basedash" in providers or early_in_the_month()  # its month begins at zero


def get(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_web_service(tmp_path: Path) -> None:
    command = [sys.executable, str(EXAMPLES / "web_service.py"), "--demo"]
    command += ["--port", "0", "--requests", "2"]
    with subprocess.Popen(
        command, cwd=tmp_path, env=environment(), stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            assert first.startswith("serving http://127.0.0.1:"), first
            url = first.split()[1]
            status, document = get(url)
            assert status == 200
            assert set(document) >= {"refreshed_at", "total_cost", "cost_by_provider"}
            total = document["total_cost"]
            assert isinstance(total, dict)
            if early_in_the_month():  # a provider may not have spent yet
                assert all(Decimal(str(amount)) >= 0 for amount in total.values())
            else:
                assert Decimal(total["USD"]) > 0
            assert get(url.replace("/usage", "/nope"))[0] == 404
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()


def test_notebook_runs_headless(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    for name in PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("USAGEKIT_DEMO", "1")
    notebook = nbformat.read(EXAMPLES / "notebook.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=TIMEOUT, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()

    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, [f"{o.ename}: {o.evalue}" for o in errors]
    html = [o.data["text/html"] for o in outputs if "text/html" in o.get("data", {})]
    assert any("usagekit report" in text for text in html)
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the spend chart and the heatmap
