"""One set of label rules, two paths: every row starts the gateway's repository (a real modelserver and
gateway on it) and an offline copy from the same files, runs the operation through the admin API and
through `common.label_files` (what `servectl --offline` does), and asserts byte-identical models.config
and admin state afterwards — and, for a refusal, the same message on both sides and no file changed.

The gateway's two steps (widen the policy, wait AVAILABLE on the backend, move the label) and the offline
path's one edit must end in the same files; the tables in tests/common/test_labels.py cover the rules alone.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from common import label_files as LF
from common import labels as L
from common import repository as repo
from common.admin_state import STATE_NAME, AdminState
from tests.gateway.gateway_process import ADMIN_TOKEN, GatewayProcess
from tests.gateway.version_family import MODEL, publish_version
from tests.utils.servers import ModelServerProcess, model_version_states, wait_until

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
STATUS = {L.LabelNotFound: 404, L.LabelConflict: 409, L.InvalidShare: 422}


class Stack:
    def __init__(self, root: Path, server: ModelServerProcess, gateway: GatewayProcess) -> None:
        self.root, self.server, self.gateway = root, server, gateway


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("parity-repo")
    for _ in range(3):  # versions 1, 2, 3
        publish_version(root)
    with ModelServerProcess(root / repo.CONFIG_NAME) as server:
        with GatewayProcess(server.address, root) as gateway:
            gateway.wait_ready()
            yield Stack(root, server, gateway)


def config_text(policy: str, labels: dict[str, int]) -> str:
    text = "".join(f'version_labels {{ key: "{k}" value: {v} }} ' for k, v in labels.items())
    parsed = repo.parse_config_text(
        f'model_config_list {{ config {{ name: "{MODEL}" base_path: "/models/{MODEL}" model_platform: "tensorflow" '
        f"model_version_policy {{ {policy} }} {text}}} }}"
    )
    return repo.format_config(parsed)


def admin(stack: Stack, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(method, stack.gateway.url + path, headers=AUTH, timeout=300, **kw)


def start(stack: Stack, policy: str, labels: dict[str, int], history: dict[str, list[int]], shares: dict[str, float]) -> None:
    """The starting files on the running stack: the policy first (the backend loads its versions), then
    the labels (a label may only name an AVAILABLE version), then the admin state."""
    root = stack.root
    with repo.RepositoryLock(root):
        repo.atomic_write_text(root / repo.CONFIG_NAME, config_text(policy, {}))
        state = AdminState(root)
        state.data = {"canary_shares": dict(shares), "label_history": {MODEL: history} if history else {}}
        state.save()
    assert admin(stack, "POST", "/admin/reload").status_code == 200
    wanted = L.versions_in_policy(L.model_entry(repo.read_config(root / repo.CONFIG_NAME), MODEL), [1, 2, 3])
    wait_until(lambda: all(model_version_states(stack.server.address, MODEL).get(v) == "AVAILABLE" for v in wanted),
               timeout=180, interval=0.1, message=f"versions {wanted} AVAILABLE")
    if labels:
        with repo.RepositoryLock(root):
            repo.atomic_write_text(root / repo.CONFIG_NAME, config_text(policy, labels))
        r = admin(stack, "POST", "/admin/reload")
        assert r.status_code == 200, r.text
    wait_until(lambda: httpx.get(stack.gateway.url + f"/models/{MODEL}", timeout=10).json()["labels"] == labels,
               timeout=60, message=f"gateway serves labels {labels}")


def offline_copy(root: Path, dest: Path) -> Path:
    """The same files in another directory; the version directories are links to the real ones."""
    (dest / MODEL).mkdir(parents=True)
    for name in (repo.CONFIG_NAME, STATE_NAME):
        shutil.copyfile(root / name, dest / name)
    for v, path in repo.list_versions(root / MODEL).items():
        (dest / MODEL / str(v)).symlink_to(path, target_is_directory=True)
    return dest


def files(root: Path) -> tuple[str, str]:
    return (root / repo.CONFIG_NAME).read_text(), (root / STATE_NAME).read_text()


# (id, policy, labels, history, shares, operation)
CASES = [
    ("move-outside-latest", "latest { num_versions: 1 }", {}, {}, {}, ("move", MODEL, "stable", 1)),
    ("move-pushes-previous", "latest { num_versions: 2 }", {"stable": 3}, {}, {}, ("move", MODEL, "stable", 2)),
    ("move-same-version", "latest { num_versions: 1 }", {"stable": 3}, {"stable": [2]}, {}, ("move", MODEL, "stable", 3)),
    ("move-specific-gains", "specific { versions: 3 }", {"stable": 3}, {}, {}, ("move", MODEL, "canary", 1)),
    ("move-not-on-disk", "latest { num_versions: 1 }", {}, {}, {}, ("move", MODEL, "stable", 9)),
    ("move-unknown-model", "latest { num_versions: 1 }", {}, {}, {}, ("move", "nosuch", "stable", 1)),
    ("rollback-with-history", "latest { num_versions: 1 }", {"stable": 3}, {"stable": [1, 2]}, {}, ("rollback", MODEL, "stable")),
    ("rollback-without-history", "latest { num_versions: 1 }", {"stable": 3}, {}, {}, ("rollback", MODEL, "stable")),
    ("rollback-target-gone", "latest { num_versions: 1 }", {"stable": 3}, {"stable": [7]}, {}, ("rollback", MODEL, "stable")),
    ("rollback-unknown-model", "latest { num_versions: 1 }", {}, {}, {}, ("rollback", "nosuch", "stable")),
    ("delete", "latest { num_versions: 2 }", {"stable": 3, "canary": 2}, {"canary": [3]}, {MODEL: 0.1}, ("delete", MODEL, "canary")),
    ("delete-missing", "latest { num_versions: 1 }", {"stable": 3}, {}, {}, ("delete", MODEL, "canary")),
    ("share", "latest { num_versions: 1 }", {"stable": 3}, {}, {MODEL: 0.1}, ("share", MODEL, 0.25)),
    ("share-zero", "latest { num_versions: 1 }", {"stable": 3}, {}, {MODEL: 0.1}, ("share", MODEL, 0)),
    ("share-above-1", "latest { num_versions: 1 }", {"stable": 3}, {}, {}, ("share", MODEL, 1.5)),
    ("share-as-percent", "latest { num_versions: 1 }", {"stable": 3}, {}, {}, ("share", MODEL, 10)),
    ("share-negative", "latest { num_versions: 1 }", {"stable": 3}, {}, {}, ("share", MODEL, -0.1)),
]


def run_offline(root: Path, op: tuple) -> dict[str, Any]:
    kind, model, *args = op
    if kind == "move":
        return LF.move_label(root, model, args[0], args[1])
    if kind == "rollback":
        return LF.rollback_label(root, model, args[0])
    if kind == "delete":
        return LF.delete_label(root, model, args[0])
    return LF.set_canary_share(root, model, args[0])


def run_gateway(stack: Stack, op: tuple) -> httpx.Response:
    kind, model, *args = op
    if kind == "move":
        return admin(stack, "PUT", f"/admin/models/{model}/labels/{args[0]}", json={"version": args[1]})
    if kind == "rollback":
        return admin(stack, "POST", f"/admin/models/{model}/labels/{args[0]}/rollback")
    if kind == "delete":
        return admin(stack, "DELETE", f"/admin/models/{model}/labels/{args[0]}")
    return admin(stack, "PUT", f"/admin/models/{model}/canary", json={"share": args[0]})


@pytest.mark.timeout(600)
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gateway_and_offline_end_in_the_same_files(stack: Stack, tmp_path: Path, case: tuple) -> None:
    _id, policy, labels, history, shares, op = case
    start(stack, policy, labels, history, shares)
    offline = offline_copy(stack.root, tmp_path / "offline")
    before = files(offline)
    assert files(stack.root) == before

    try:
        expected: dict[str, Any] | None = run_offline(offline, op)
        refusal: L.LabelError | None = None
    except L.LabelError as e:
        expected, refusal = None, e
    r = run_gateway(stack, op)

    if refusal is None:
        assert r.status_code == 200, r.text
        assert r.json() == expected
        assert files(offline) != before or op[0] == "move" and labels.get(op[2]) == op[3]
    else:
        assert r.status_code == STATUS[type(refusal)], r.text
        assert str(refusal) in r.json()["error"]["message"]
        assert files(offline) == before
    assert files(stack.root) == files(offline)


@pytest.mark.timeout(600)
def test_a_label_never_points_at_a_version_that_fails_to_load(stack: Stack) -> None:
    """The rule a stopped stack cannot check: the backend refuses the version, so the label stays, and the
    widened policy is taken back (the broken version is not left in it)."""
    start(stack, "specific { versions: 3 }", {"stable": 3}, {}, {})
    before = files(stack.root)
    broken = stack.root / MODEL / "4"
    broken.mkdir()
    try:
        (broken / "saved_model.pb").write_bytes(b"not a SavedModel")
        r = admin(stack, "PUT", f"/admin/models/{MODEL}/labels/stable", json={"version": 4})
        assert r.status_code == 409, r.text
        message = r.json()["error"]["message"]
        assert "version 4 of model 'versioned' failed to load on the backend" in message and "policy is restored" in message
        assert files(stack.root) == before
        assert httpx.get(stack.gateway.url + f"/models/{MODEL}", timeout=10).json()["labels"] == {"stable": 3}
    finally:
        shutil.rmtree(broken)


def cli(*args: str, token: str = ADMIN_TOKEN) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    import servectl.admin  # noqa: F401  (registers the commands)
    import servectl.lifecycle  # noqa: F401
    from servectl.app import app

    result = CliRunner().invoke(app, list(args), env={"GATEWAY_ADMIN_TOKEN": token, "SERVECTL_USER": "tester"})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.timeout(600)
def test_both_cli_commands_use_one_client_and_one_unit(stack: Stack) -> None:
    start(stack, "latest { num_versions: 1 }", {"stable": 3}, {}, {})
    gw = ["--gateway", stack.gateway.url]
    # a refusal: one line with the gateway's message, exit 1, from `servectl admin` and from `servectl rollback`
    refusal = "gateway 409: label 'stable' of model 'versioned' has no earlier version recorded; move it explicitly"
    assert cli("admin", "rollback", MODEL, *gw) == (1, "", refusal + "\n")
    assert cli("rollback", MODEL, "--repo", str(stack.root), *gw) == (1, "", refusal + "\n")
    code, out, err = cli("admin", "label", MODEL, "stable", "3", *gw, token="wrong-token-0123456789")
    assert (code, err) == (1, "gateway 403: invalid admin token\n")
    # the share is a fraction 0..1 in both commands; a percentage is refused before anything moves
    for args in (("admin", "canary", MODEL, "10", *gw), ("canary", MODEL, "2", "--share", "10", "--repo", str(stack.root), *gw)):
        code, out, err = cli(*args)
        assert code == 1 and "canary share must be a fraction of unpinned requests within 0..1 (0.1 = 10 %), got 10" in err, (args, err)
    assert "canary" not in httpx.get(stack.gateway.url + f"/models/{MODEL}", timeout=10).json()["labels"]
    code, out, err = cli("canary", MODEL, "2", "--share", "0.2", "--repo", str(stack.root), *gw)
    assert code == 0, err
    assert out == f"{MODEL}: canary -> 2 (was None), share 0.2 of unpinned requests\n"
    detail = httpx.get(stack.gateway.url + f"/models/{MODEL}", timeout=10).json()
    assert detail["labels"]["canary"] == 2 and detail["canary_share"] == 0.2
    record = [json.loads(line) for line in (stack.root / MODEL / "history.jsonl").read_text().splitlines()][-1]
    assert record["action"] == "canary" and record["share"] == 0.2 and "share_percent" not in record
    assert cli("admin", "canary", MODEL, "0.5", *gw) == (0, f"{MODEL}: canary share 0.5\n", "")
    # a gateway that does not answer: exit 2; the lifecycle commands add how to work on a stopped stack
    from tests.utils.servers import free_port

    nowhere = ["--gateway", f"http://127.0.0.1:{free_port()}"]
    code, out, err = cli("admin", "reload", *nowhere)
    assert code == 2 and err.startswith("cannot reach the gateway at http://127.0.0.1:") and err.count("\n") == 1, err
    code, out, err = cli("rollback", MODEL, "--repo", str(stack.root), *nowhere)
    assert code == 2 and err.rstrip().endswith("(use --offline if the stack is stopped)") and err.count("\n") == 1, err
