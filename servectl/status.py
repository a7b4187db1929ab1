"""`servectl status` and `servectl validate`: what the running server serves, and whether the repository on
disk honours the contracts (design §3) before a server ever sees it."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from common import manifest as mf
from common import repository
from servectl.app import app



@app.command()
def status(
    backend: str = typer.Option("127.0.0.1:8500", help="model server (TF Serving or modelserver) gRPC address"),
    repo: Optional[Path] = typer.Option(None, help="model repository holding models.config (default: $SERVABLES_DIR, else the checkout's servables/)"),
    timeout: float = typer.Option(5.0, help="seconds per RPC"),
) -> None:
    """Versions, states and labels of every model in models.config, as the running server reports them."""
    import grpc

    from protos import get_model_status_pb2, rpc

    repo = repo or repository.default_repository()
    config = repository.read_config(repo / repository.CONFIG_NAME)
    table = Table("model", "version", "state", "labels", "error")
    with grpc.insecure_channel(backend) as channel:
        stub = rpc.Stub(channel)
        for mc in config.model_config_list.config:
            labels_by_version: dict[int, list[str]] = {}
            for label, v in mc.version_labels.items():
                labels_by_version.setdefault(v, []).append(label)
            req = get_model_status_pb2.GetModelStatusRequest()
            req.model_spec.name = mc.name
            try:
                resp = stub.GetModelStatus(req, timeout=timeout)
            except grpc.RpcError as e:
                table.add_row(mc.name, "-", e.code().name, "", e.details() or "")
                continue
            for s in sorted(resp.model_version_status, key=lambda s: s.version):
                table.add_row(
                    mc.name,
                    str(s.version),
                    get_model_status_pb2.ModelVersionStatus.State.Name(s.state),
                    ",".join(sorted(labels_by_version.get(s.version, []))),
                    s.status.error_message,
                )
    Console().print(table)


def validate_repository(repo: Path) -> list[str]:
    """Problems found in `repo`; empty when models.config and every version directory honour the contract."""
    from common.signatures import CONTRACTS, Signature
    from training.export import ExportError, check_signature

    problems: list[str] = []
    config_path = repo / repository.CONFIG_NAME
    try:
        config = repository.read_config(config_path)
    except FileNotFoundError:
        return [f"{config_path}: missing"]
    except Exception as e:  # text_format.ParseError and friends: report, do not crash
        return [f"{config_path}: does not parse as ModelServerConfig: {e}"]
    for mc in config.model_config_list.config:
        base = repository.resolve_base_path(mc.base_path, repo)
        versions = repository.list_versions(base)
        for label, v in mc.version_labels.items():
            if v not in versions:
                problems.append(f"{mc.name}: label {label!r} points at version {v}, which is not on disk")
        for v, path in versions.items():
            where = f"{mc.name}/{path.name}"
            if not (path / "saved_model.pb").exists():
                problems.append(f"{where}: saved_model.pb missing")
                continue
            try:
                manifest = mf.read_manifest(path)
            except (FileNotFoundError, ValueError) as e:
                problems.append(f"{where}: manifest unreadable ({e})")
                continue
            if manifest.get("version") != v:
                problems.append(f"{where}: manifest says version {manifest.get('version')}")
            if not (mf.assets_dir(path) / mf.WARMUP_NAME).exists():
                problems.append(f"{where}: warm-up records missing")
            contract = CONTRACTS.get(mc.name) or (Signature.from_dict(manifest["signature"]) if "signature" in manifest else None)
            if contract is None:
                problems.append(f"{where}: no contract for model {mc.name!r} and no signature in the manifest")
                continue
            try:
                check_signature(path, contract)
            except (ExportError, OSError, ValueError) as e:
                problems.append(f"{where}: {e}")
    return problems


@app.command()
def validate(repo: Optional[Path] = typer.Option(None, help="model repository holding models.config (default: $SERVABLES_DIR, else the checkout's servables/)")) -> None:
    """Check models.config and every version directory (signature vs contract, manifest, warm-up records)."""
    problems = validate_repository(repo or repository.default_repository())
    for p in problems:
        typer.echo(f"problem: {p}", err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{repo}: ok")
