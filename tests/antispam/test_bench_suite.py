"""`servectl bench-suite` end to end on the tiny anti-spam model, at the smallest settings that run every
path (the figures themselves are measured by running the suite alone, not here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from servectl.bench_suite import Row, ratios

PATHS = {"in-process model", "in-process end-to-end", "direct gRPC", "gateway batching off", "gateway batching on"}


def test_suite_measures_every_path_and_writes_both_reports(antispam_repo: Path, tmp_path: Path) -> None:
    """With an inputs file (varied traffic): every path takes its messages in turn."""
    out = tmp_path / "bench"
    inputs = tmp_path / "inputs.jsonl"
    inputs.write_text("\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in ("免费领取话费", "明天一起吃饭吧", "全场八折详询客服")) + "\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "servectl", "bench-suite", "--servables", str(antispam_repo), "--model", "antispam",
         "--concurrency", "1,4", "--duration", "0.5", "--warmup", "0.2", "--out", str(out), "--inputs-file", str(inputs)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    rows = report["rows"]
    assert {(r["path"], r["concurrency"]) for r in rows} == {(p, c) for p in PATHS for c in (1, 4)}
    for r in rows:
        assert r["errors"] == 0 and r["n"] > 0 and r["p50_ms"] > 0, r
        assert r["cpu_s_per_request"] is not None and r["cpu_s_per_request"] > 0, r
    summary = report["summary"]["antispam"]
    assert summary["throughput_on_over_off_at_highest"] > 0 and "gateway_added_p50_at_lowest_ms" in summary
    assert report["meta"]["inputs"] == {"file": str(inputs), "count": 3}
    md = (out / "report.md").read_text()
    assert "| antispam | gateway batching on | 4 |" in md and "## antispam" in md
    assert f"Inputs: 3 inputs from {inputs}, in turn." in md


def test_suite_refuses_an_input_the_family_refuses_before_measuring(antispam_repo: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "inputs.jsonl"
    inputs.write_text('{"text": "正常的一句话"}\n{"text": "   "}\n', encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "servectl", "bench-suite", "--servables", str(antispam_repo), "--model", "antispam", "--skip-in-process",
         "--concurrency", "1", "--duration", "0.2", "--warmup", "0", "--out", str(tmp_path / "bench"), "--inputs-file", str(inputs)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    said = " ".join(proc.stderr.replace("│", " ").split())  # Typer draws the message in a box
    assert "inputs #2 is not valid for 'antispam'" in said and "empty or whitespace only" in said
    assert not (tmp_path / "bench" / "modelserver.log").exists()  # refused before any server started


def test_ratios_are_taken_at_the_lowest_and_highest_levels() -> None:
    def row(path: str, c: int, p50: float, rps: float) -> Row:
        return Row("m", path, c, p50, p50 * 2, rps, 0.001, 100, 0)

    rows = [row("in-process end-to-end", 1, 2.0, 500), row("in-process model", 1, 1.0, 900), row("direct gRPC", 1, 3.0, 300),
            row("gateway batching off", 1, 4.0, 250), row("gateway batching on", 1, 4.5, 240),
            row("gateway batching off", 32, 40.0, 300), row("gateway batching on", 32, 20.0, 960)]
    s = ratios(rows, max_latency_ms=2.0)["m"]
    assert s["throughput_on_over_off_at_highest"] == 3.2
    assert s["p50_on_minus_off_at_lowest_ms"] == 0.5 and s["batching_cost_allowed_ms"] == 3.0
    assert s["p50 gateway batching off / in-process end-to-end at lowest"] == 2.0
    assert s["gateway_added_p50_at_lowest_ms"] == 1.0
