"""`servectl canary|promote|rollback|gc|history`: the retrain-and-hot-swap loop (issue 10, design §4).

Two modes, one set of rules (`common.labels`), same files:
- running stack (an admin token is given: `--token` / $GATEWAY_ADMIN_TOKEN): the gateway's admin API does
  every label move through `servectl.client.AdminClient` (it widens the version policy, waits until the
  version is AVAILABLE on the backend and its assets are loaded, then sets the label — TF Serving's two-step
  rule) and reloads the backend;
- stopped stack (no token, or `--offline`): `common.label_files` edits models.config and the gateway's admin
  state under the repository lock; "AVAILABLE" then means "on disk and within the version policy".
A canary share is a fraction 0..1 of unpinned requests, as in the admin API.
Every change is appended to `<servables>/<model>/history.jsonl` (`common.history`).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Optional

import typer

from common import history as hist
from common import label_files as LF
from common import labels as L
from common import manifest as mf
from common import repository as repo
from servectl.app import app
from servectl.client import AdminClient, exit_on_error

DEFAULT_METRIC = "held_out.accuracy"
BUSY_STATES = {"START", "LOADING", "AVAILABLE", "UNLOADING"}

RepoOpt = typer.Option(None, "--repo", envvar="SERVABLES_DIR", help="model repository (default: servables/)")
GatewayOpt = typer.Option("http://127.0.0.1:8000", "--gateway", envvar="GATEWAY_URL", help="gateway base URL (running stack)")
TokenOpt = typer.Option(None, "--token", envvar="GATEWAY_ADMIN_TOKEN", help="admin bearer token; without one the files are edited directly (stopped stack)")
OfflineOpt = typer.Option(False, "--offline", help="edit the files directly even if a token is set (the stack must be stopped)")
OFFLINE_HINT = " (use --offline if the stack is stopped)"


def _repo(path: Optional[Path]) -> Path:
    from common.repository import default_repository

    return Path(path or default_repository())


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _online(token: Optional[str], offline: bool, gateway: str) -> AdminClient | None:
    return None if offline or not token else AdminClient(gateway, token)


def _labels(servables: Path, model: str) -> dict[str, int]:
    try:
        return dict(LF.read(servables, model).mc.version_labels)
    except (L.LabelError, FileNotFoundError) as e:
        _fail(str(e))
        raise


def _version_dir(servables: Path, model: str, version: int) -> Path:
    return LF.read(servables, model).model_dir / str(version)


def metric_value(manifest: dict[str, Any], metric: str) -> float | None:
    """`metric` is a dotted path under the manifest's `metrics` (e.g. `held_out.accuracy`)."""
    node: Any = manifest.get("metrics", {})
    for part in metric.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return float(node) if isinstance(node, (int, float)) else None


def quality_gate(servables: Path, model: str, version: int, stable: int | None, metric: str, margin: float) -> tuple[bool, str, dict[str, Any]]:
    """(passes, explanation, metrics). Prefers the numbers of the candidate's `comparison` (both versions
    evaluated on the same held-out set by `servectl train`); else each manifest's own held-out metric."""
    if stable is None or stable == version:
        return True, "no other stable version to compare with", {}
    cand_manifest = mf.read_manifest(_version_dir(servables, model, version))
    comp = cand_manifest.get("comparison") or {}
    cand = stab = None
    source = "manifests"
    if comp.get("stable_version") == stable and metric in comp.get("metrics", {}):
        m = comp["metrics"][metric]
        cand, stab, source = m.get("new"), m.get("stable"), f"same held-out set ({comp.get('heldout', '?')})"
    if cand is None or stab is None:
        try:
            stab_manifest = mf.read_manifest(_version_dir(servables, model, stable))
        except (OSError, ValueError):
            stab_manifest = {}
        cand, stab = metric_value(cand_manifest, metric), metric_value(stab_manifest, metric)
    numbers = {"metric": metric, "candidate": cand, "stable": stab, "margin": margin, "source": source}
    if cand is None or stab is None:
        return False, (f"cannot compare {metric}: version {version} has {cand}, stable version {stable} has {stab} "
                       f"(choose another --metric or use --force)"), numbers
    ok = cand >= stab - margin
    verdict = "passes" if ok else "is worse than"
    return ok, (f"version {version} {metric} = {cand:.4f} {verdict} stable version {stable} {metric} = {stab:.4f} "
                f"by more than the margin {margin:g}" if not ok else
                f"version {version} {metric} = {cand:.4f} vs stable version {stable} {metric} = {stab:.4f} (margin {margin:g}): ok"), numbers


@app.command()
def canary(
    model: str, version: int,
    share: float = typer.Option(0.1, "--share", help=f"canary share: {L.SHARE_UNIT}"),
    repo_dir: Optional[Path] = RepoOpt, gateway: str = GatewayOpt, token: Optional[str] = TokenOpt, offline: bool = OfflineOpt,
) -> None:
    """Point MODEL's `canary` label at VERSION and send SHARE (a fraction 0..1) of unpinned requests to it."""
    servables = _repo(repo_dir)
    try:
        L.check_share(share)  # before anything moves
    except L.LabelError as e:
        _fail(str(e))
    gw = _online(token, offline, gateway)
    if gw:
        with exit_on_error(OFFLINE_HINT):
            d = gw.move_label(model, L.CANARY, version)
            gw.set_canary_share(model, share)
    else:
        try:
            d = LF.move_label(servables, model, L.CANARY, version)
            LF.set_canary_share(servables, model, share)
        except L.LabelError as e:
            _fail(str(e))
    hist.append(servables, model, "canary", versions={"canary": version, "previous_canary": d.get("previous")}, share=share,
                mode="gateway" if gw else "offline")
    typer.echo(f"{model}: canary -> {version} (was {d.get('previous')}), share {share:g} of unpinned requests")


@app.command()
def promote(
    model: str, version: int,
    metric: str = typer.Option(DEFAULT_METRIC, "--metric", help="dotted path under the manifest's metrics compared by the quality gate"),
    margin: float = typer.Option(0.01, "--margin", help="largest allowed drop of the metric below stable's"),
    force: bool = typer.Option(False, "--force", help="promote even if the quality gate refuses"),
    repo_dir: Optional[Path] = RepoOpt, gateway: str = GatewayOpt, token: Optional[str] = TokenOpt, offline: bool = OfflineOpt,
) -> None:
    """Point MODEL's `stable` label at VERSION, if it passes the quality gate (or --force). A canary on the
    same version ends (label removed, share 0)."""
    servables = _repo(repo_dir)
    labels = _labels(servables, model)
    stable = labels.get(L.STABLE)
    try:
        ok, why, numbers = quality_gate(servables, model, version, stable, metric, margin)
    except FileNotFoundError as e:
        _fail(f"version {version} of {model!r} has no manifest: {e}")
        raise
    if not ok and not force:
        hist.append(servables, model, "promote_refused", versions={"candidate": version, "stable": stable}, metrics=numbers, reason=why)
        _fail(f"refused: {why}")
    gw = _online(token, offline, gateway)
    if gw:
        with exit_on_error(OFFLINE_HINT):
            d = gw.move_label(model, L.STABLE, version)
            if labels.get(L.CANARY) == version:
                gw.set_canary_share(model, 0.0)
                gw.delete_label(model, L.CANARY)
    else:
        try:
            d = LF.move_label(servables, model, L.STABLE, version)
            if labels.get(L.CANARY) == version:
                LF.set_canary_share(servables, model, 0.0)
                LF.delete_label(servables, model, L.CANARY)
        except L.LabelError as e:
            _fail(str(e))
    hist.append(servables, model, "promote", versions={"stable": version, "previous_stable": d.get("previous")}, metrics=numbers,
                gate=why, forced=bool(force and not ok), mode="gateway" if gw else "offline")
    typer.echo(f"{why}\n{model}: stable -> {version} (was {d.get('previous')})" + (" [forced]" if force and not ok else ""))


@app.command()
def rollback(
    model: str, label: str = typer.Option(L.STABLE, "--label", help="label to move back"),
    repo_dir: Optional[Path] = RepoOpt, gateway: str = GatewayOpt, token: Optional[str] = TokenOpt, offline: bool = OfflineOpt,
) -> None:
    """Move MODEL's `stable` label back to the version it pointed at before its last move."""
    servables = _repo(repo_dir)
    gw = _online(token, offline, gateway)
    if gw:
        with exit_on_error(OFFLINE_HINT):
            d = gw.rollback_label(model, label)
    else:
        try:
            d = LF.rollback_label(servables, model, label)
        except L.LabelError as e:
            _fail(str(e))
    hist.append(servables, model, "rollback", versions={label: d["version"], f"previous_{label}": d.get("previous")},
                mode="gateway" if gw else "offline")
    typer.echo(f"{model}: {label} -> {d['version']} (was {d.get('previous')})")


def _loaded_versions(gw: AdminClient | None, files: LF.ModelFiles) -> set[int]:
    """Versions a request may use: per the gateway (backend state or served), else those the policy loads."""
    if gw is None:
        return set(L.versions_in_policy(files.mc, files.on_disk))
    with exit_on_error(OFFLINE_HINT):
        info = gw.model(files.mc.name)
    return {v["version"] for v in info.get("versions", []) if v.get("served") or v.get("state") in BUSY_STATES}


@app.command()
def gc(
    model: str, keep: int = typer.Option(3, "--keep", min=0, help="always keep this many newest versions"),
    dry_run: bool = typer.Option(False, "--dry-run", help="only print what would be removed"),
    timeout: float = typer.Option(120.0, help="seconds to wait for the backend to unload a version"),
    repo_dir: Optional[Path] = RepoOpt, gateway: str = GatewayOpt, token: Optional[str] = TokenOpt, offline: bool = OfflineOpt,
) -> None:
    """Remove MODEL's old versions that no label points at, that are not the label's rollback target, and
    that no request can use. A loaded candidate is first taken out of the version policy, and removed only
    once the backend (through the gateway) reports it unloaded and no longer served."""
    servables = _repo(repo_dir)
    gw = _online(token, offline, gateway)
    try:
        files = LF.read(servables, model)
    except L.LabelError as e:
        _fail(str(e))
        raise
    rollback_targets = L.rollback_targets(files.state, model)
    labelled = set(files.mc.version_labels.values())
    delete, kept = L.gc_plan(files.on_disk, labelled, keep, set(), rollback_targets)
    if dry_run or not delete:
        typer.echo(f"{model}: remove {delete or 'nothing'}; keep " + ", ".join(f"{v} ({why})" for v, why in kept.items()))
        return
    # step 1: out of the version policy (the server unloads them; the gateway stops routing to them)
    drop = set(delete)

    try:  # refused if a label moved onto a candidate meanwhile
        changed = LF.edit(servables, model, lambda f: L.narrow_policy(f.mc, f.on_disk, drop))
    except L.LabelError as e:
        _fail(f"{e}; nothing removed, run gc again")
        raise
    if gw is not None:
        if changed:
            with exit_on_error(OFFLINE_HINT):
                gw.reload()
        deadline = time.monotonic() + timeout
        while True:
            busy = _loaded_versions(gw, files) & drop
            if not busy:
                break
            if time.monotonic() > deadline:
                _fail(f"versions {sorted(busy)} of {model!r} are still loaded or in use after {timeout:g}s; nothing removed")
            time.sleep(0.2)
    # step 2: rename away under the lock (a hidden name: no server takes it for a version), then delete
    removed: list[int] = []
    graveyard: list[Path] = []
    with repo.RepositoryLock(servables):
        config = repo.read_config(servables / repo.CONFIG_NAME)
        mc = repo.model_config(config, model)
        still_labelled = set(mc.version_labels.values()) if mc is not None else set()
        model_dir = files.model_dir
        for v in delete:
            src = model_dir / str(v)
            if v in still_labelled or not src.is_dir():
                continue
            dst = model_dir / f".gc-{v}-{os.getpid()}-{time.time_ns()}"
            os.rename(src, dst)
            graveyard.append(dst)
            removed.append(v)
        repo.fsync_dir(model_dir)
        from common.admin_state import AdminState

        state = AdminState(servables)
        state.reload()
        L.forget_versions(state, model, removed)
        state.save()
        hist.append(servables, model, "gc", versions={"removed": removed, "kept": sorted(kept)}, keep=keep, lock=False,
                    mode="gateway" if gw else "offline")
    for d in graveyard:
        shutil.rmtree(d, ignore_errors=True)
    typer.echo(f"{model}: removed {removed or 'nothing'}; kept " + ", ".join(f"{v} ({why})" for v, why in kept.items()))


@app.command()
def history(
    model: str, as_json: bool = typer.Option(False, "--json", help="print the raw JSON lines"),
    repo_dir: Optional[Path] = RepoOpt,
) -> None:
    """Print MODEL's lifecycle history (servables/<model>/history.jsonl), oldest first."""
    servables = _repo(repo_dir)
    records = list(hist.read(servables, model))
    if not records:
        typer.echo(f"{model}: no history at {hist.history_path(servables, model)}")
        return
    for r in records:
        if as_json:
            typer.echo(json.dumps(r, ensure_ascii=False, sort_keys=True))
            continue
        versions = " ".join(f"{k}={v}" for k, v in r.get("versions", {}).items())
        metrics = r.get("metrics") or {}
        extra = ""
        if "candidate" in metrics:
            extra = f" {metrics.get('metric')}: {metrics.get('candidate')} vs stable {metrics.get('stable')}"
        elif metrics:
            extra = " " + json.dumps(metrics, ensure_ascii=False)[:200]
        typer.echo(f"{r.get('time')} {r.get('user')} {r.get('action')} {versions}{extra}")
