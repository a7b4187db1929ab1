"""docs/reliability.md from one command: runs the reliability tests (bad inputs, fault matrix, short soak,
and the API fuzzing when present), collects the figures each case records (tests/reliability/figures.py) and
each test's outcome and duration (JUnit XML), adds the long swap soak's report, and writes the table.

    .venv/bin/python scripts/reliability_report.py                          # reruns the long soak too (minutes)
    .venv/bin/python scripts/reliability_report.py --soak-report docs/benchmarks/2026-12-03-soak-swaps.json
    .venv/bin/python scripts/reliability_report.py --render-only ...      # re-render from the kept run data

The run's raw data (figures JSON Lines, JUnit XML) is kept beside the soak reports
(docs/benchmarks/reliability-figures.jsonl, docs/benchmarks/reliability-junit.xml).

Nothing in the doc is typed by hand: every figure comes from this run (or the named soak report).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PY = str(REPO_ROOT / ".venv" / "bin" / "python") if (REPO_ROOT / ".venv" / "bin" / "python").exists() else sys.executable

# pytest node ids of the bad-input cases of part 1 (the fault and soak cases are all of tests/reliability)
BAD_INPUT_TESTS = [
    "tests/unet/test_mri.py::test_truncated_nifti_is_refused_naming_header_and_data",
    "tests/unet/test_mri.py::test_nifti_size_and_dtype_checked_from_the_header_before_decompressing",
    "tests/unet/test_mri.py::test_truncated_npy_is_refused_naming_the_promised_shape",
    "tests/unet/test_mri.py::test_npy_header_promising_terabytes_costs_nothing",
    "tests/unet/test_mri.py::test_animated_png_slice_is_refused",
    "tests/unet/test_mri.py::test_every_prefix_of_a_png_slice_is_refused_or_identical",
    "tests/classifier/test_images.py::test_multi_frame_images_use_the_first_frame",
    "tests/classifier/test_images.py::test_every_prefix_is_refused_as_truncated_or_decodes_identically",
    "tests/unet/test_gateway.py::test_truncated_and_inconsistent_payloads_are_422_over_multipart_and_json",
]


def run_tests(figures: Path, junit: Path, extra: list[str]) -> int:
    targets = ["tests/reliability", *BAD_INPUT_TESTS, *extra]
    env = {**os.environ, "RELIABILITY_FIGURES": str(figures), "PYTHONPATH": str(REPO_ROOT)}
    cmd = [PY, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *targets]
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=REPO_ROOT, env=env).returncode


def outcomes(junit: Path) -> list[dict]:
    rows = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        status = "passed"
        for tag in ("failure", "error", "skipped"):
            el = case.find(tag)
            if el is not None:
                status = tag if tag != "skipped" else f"skipped: {(el.get('message') or '')[:120]}"
        rows.append({"test": f"{case.get('classname', '').replace('.', '/')}.py::{case.get('name')}", "status": status,
                     "seconds": round(float(case.get("time", 0)), 1)})
    return rows


def fmt(v) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k} {fmt(x)}" for k, x in v.items())
    if isinstance(v, list):
        return "[" + ", ".join(fmt(x) for x in v) + "]"
    return str(v).replace("|", "\\|").replace("\n", " ")


NOTES = """## How each case is made

| case | how | what must hold |
|---|---|---|
| truncated / inconsistent payloads | `common.mri` checks a NIfTI's and an NPY's header against the bytes that follow and against the limits before anything is read, allocated or inflated; image prefixes cut at ~150 points per format | 422 naming the promised shape/dtype/bytes; never a 500; a prefix is refused or decodes to the identical pixels |
| multi-frame images | decision: classifier/SRGAN take the first frame (documented in docs/classifier.md); a U-Net slice that is an animated PNG is refused (a volume packed as frames) | first frame used / 422 |
| backend frozen | `SIGSTOP` to the modelserver, 6 concurrent requests with `X-Request-Timeout-Ms: 1500`, then `SIGCONT` | every request a JSON 504 at its deadline; `/readyz` 503 while frozen; 200 again after `SIGCONT` |
| backend killed and restarted | `SIGKILL`, then a new modelserver on the same port | 503 + Retry-After (never 500/502), `/readyz` 503 then 200, the same gateway process |
| slower than the deadline | a graph input that spins ~1-2 s, deadline 500 ms, under steady load | 504 naming the deadline; concurrent requests still answered; the modelserver cancels the expired run (its Predict ends `DEADLINE_EXCEEDED`: the gRPC deadline is the Session run's timeout, as in TF Serving) |
| version fails to load / warm-up | a copy of the served version renamed to the next number with a truncated `saved_model.pb` / a warm-up record for a wrong input | the previous version answers every request; `/models` shows the version END with the backend's error |
| corrupt / missing `assets.extra/` | a copy with `tag.txt` corrupted / `assets.extra/` removed, policy `latest 2` so the backend serves both | the gateway refuses it, the previous version answers every request, the reason is in `/models` |
| disk full during publish | a 4 MiB tmpfs in a private mount namespace (`unshare --mount`), filled page by page with real writes until `ENOSPC` (no RLIMIT_FSIZE, no mock): every step of `training.export.publish` hits it in some round, for a new version and for a model's first version | an `ExportError` saying the disk is full, no integer-named half version, no `.tmp-export-*`, `.published` a number, the lock free, and a later publish works |
| invalid `models.config` | the file atomically replaced by text that does not parse, then restored | both processes keep the previous config and serve; the modelserver logs it, the gateway logs it once and names it in `/readyz`'s `warnings` while staying ready (200: a typo must not take every replica out of its load balancer); the warning clears when the file parses again |
| SIGTERM under load | 4 clients with keep-alive connections sending ~0.2 s requests; `SIGTERM` to the gateway | requests in flight finish with 200; a request that reached the socket before the signal was handled is answered in full; then every client is refused (connection refused); exit after the lifespan shutdown |
| swap soak | `scripts/soak_swaps.py`: publishes + swaps under 3 back-to-back clients; RSS from `/proc/<pid>/status` after each swap, once the old version is unloaded and its assets freed | 0 failed requests; RSS growth <= 10 % from swap 2 to N |
| head limits, multipart limits, names, auth | `tests/reliability/test_security.py` against a gateway process | 431 (JSON, connection closed) past 32 KiB or 100 header lines; 400 past 32 files / 32 fields / a 1 MiB field; 422 for a model name or label outside `[A-Za-z0-9][A-Za-z0-9_.-]*` (JSON, multipart, admin and `/models` paths); refusals counted in `gateway_auth_failures` |
| API fuzzing | `tests/reliability/test_fuzz.py`: schemathesis strategies (positive and negative) for every operation of the live gateway's `/openapi.json`, `POST /predict` as JSON and multipart, half of the predict cases aimed at the served model so its family sees generated data | no 5xx except a 504 when the generated `X-Request-Timeout-Ms` set the deadline; responses and content types as documented |
| API fuzzing, real families | `tests/reliability/test_fuzz_families.py`: a stack serving all six models; schemathesis on `POST /predict` (one JSON schema per model, multipart), plus media strategies of our own: real images in every Pillow mode and format (some cut short), NPY arrays of any dtype/rank (pickled object arrays too), NIfTI volumes (some truncated), as base64 JSON and multipart | no 5xx; every answer JSON; a 200 matches its family's Outputs schema; every model reached and answering 200 for some inputs |

Found and fixed on the way: a truncated .nii/.nii.gz was a 500 (nibabel's OSError); a .nii with
`vox_offset` 0 was read with its header bytes as voxels; a publish on a full disk could report failure yet
leave a numbered version with an empty `.published` and no models.config entry; an unparsable models.config
was logged by the gateway at every refresh; httptools accepted any request head (2 MB headers, 20,000 lines);
the modelserver ran a Predict to its end after the client's deadline (a fuzzed `x = -3e16` kept it busy for
minutes and starved the next test).

"""


def render(figs: list[dict], tests: list[dict], soak: dict | None, soak_path: str | None, command: str) -> str:
    out = [
        "# Reliability in figures",
        "",
        f"Generated {dt.datetime.now(dt.timezone.utc).isoformat(timespec='seconds')} by `{command}` "
        "(do not edit by hand: rerun it). Real processes throughout: a modelserver and a gateway on free ports, "
        "the test family `versioned` (graph and asset both carry the version tag, so a mixed answer is caught).",
        "",
        "## Fault cases",
        "",
        "| case | sent | failed | max latency ms | other figures |",
        "|---|---:|---:|---:|---|",
    ]
    for f in figs:
        other = {k: v for k, v in f.items() if k not in ("case", "sent", "failed", "max_latency_ms")}
        out.append(f"| {f['case']} | {f.get('sent', '')} | {f.get('failed', '')} | {f.get('max_latency_ms', '')} | {fmt(other)} |")
    out += ["", "`failed` counts answers outside the case's expected ones (expected: 200; a 504 at a deadline that "
            "passed; a 503 + Retry-After while the backend is dead; connection refused after SIGTERM).", ""]
    if soak is not None:
        out += [
            f"## Swap soak ({soak['swaps']} publishes + swaps under load)", "",
            f"Report: `{soak_path}` (made by `{soak.get('command', 'scripts/soak_swaps.py')}`).", "",
            f"- requests sent {soak['sent']}, failed {soak['failed']}, max latency {soak['max_latency_ms']} ms",
            f"- RSS growth from swap 2 to {soak['swaps']}: modelserver {soak['modelserver_rss_growth_pct_swap2_to_n']} %, "
            f"gateway {soak['gateway_rss_growth_pct_swap2_to_n']} %",
            f"- RSS before (swap 1) / after (swap {soak['swaps']}): modelserver "
            f"{soak['rows'][0]['modelserver_rss_kib'] / 1024:.1f} / {soak['rows'][-1]['modelserver_rss_kib'] / 1024:.1f} MiB, gateway "
            f"{soak['rows'][0]['gateway_rss_kib'] / 1024:.1f} / {soak['rows'][-1]['gateway_rss_kib'] / 1024:.1f} MiB",
            "",
        ]
    out += [NOTES, "## Every test of the run", "", "| test | result | s |", "|---|---|---:|"]
    for t in tests:
        out.append(f"| `{t['test']}` | {t['status']} | {t['seconds']} |")
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--soak-report", help="use this soak_swaps.py JSON instead of running the long soak")
    ap.add_argument("--soak-swaps", type=int, default=20)
    ap.add_argument("--out", default=str(REPO_ROOT / "docs" / "reliability.md"))
    ap.add_argument("--extra-tests", nargs="*", default=[], help="more pytest targets")
    ap.add_argument("--render-only", action="store_true", help="no test run: render the kept run data")
    args = ap.parse_args()
    kept_figures, kept_junit = REPO_ROOT / "docs" / "benchmarks" / "reliability-figures.jsonl", REPO_ROOT / "docs" / "benchmarks" / "reliability-junit.xml"
    with tempfile.TemporaryDirectory(prefix="reliability-") as tmp:
        figures, junit = Path(tmp) / "figures.jsonl", Path(tmp) / "junit.xml"
        if args.render_only:
            figures, junit, rc = kept_figures, kept_junit, 0
        else:
            rc = run_tests(figures, junit, args.extra_tests)
            for src, dst in ((figures, kept_figures), (junit, kept_junit)):
                if src.exists():
                    dst.write_bytes(src.read_bytes())
        figs = [json.loads(line) for line in figures.read_text().splitlines()] if figures.exists() else []
        tests = outcomes(junit) if junit.exists() else []
        soak_path = args.soak_report
        if soak_path is None:
            soak_path = str(Path(tmp) / "soak")
            subprocess.run([PY, str(REPO_ROOT / "scripts" / "soak_swaps.py"), "--swaps", str(args.soak_swaps), "--out", soak_path], check=False)
            soak_path += ".json"
        soak = json.loads(Path(soak_path).read_text()) if Path(soak_path).exists() else None
        if soak_path.startswith(tmp):
            soak_path = "(this run)"
    command = "python scripts/reliability_report.py " + " ".join(sys.argv[1:])
    if args.render_only:
        ran = dt.datetime.fromtimestamp(kept_junit.stat().st_mtime, dt.timezone.utc).isoformat(timespec="seconds")
        command += (f"` from the test run of {ran} (kept in `docs/benchmarks/reliability-junit.xml` and "
                    "`reliability-figures.jsonl`); a full run: the same without `--render-only")
    Path(args.out).write_text(render(figs, tests, soak, soak_path, command.strip()))
    print(f"wrote {args.out}: {len(figs)} cases with figures, {len(tests)} tests, pytest exit {rc}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
