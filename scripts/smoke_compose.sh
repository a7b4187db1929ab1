#!/usr/bin/env bash
# End-to-end check of the production stack on a host with Docker (docs/deploy.md), the part the test suite
# cannot run without a Docker engine and a GPU:
#
#   1. the Compose files resolve (`docker compose config`), and every TF Serving flag they use is listed by
#      `tensorflow_model_server --help` of the pulled image itself;
#   2. every family that has no version yet is trained with the trainer container (preset: $SMOKE_PRESET);
#   3. `docker compose up --wait` until tfserving and the gateway are healthy;
#   4. one POST /predict per model, with the request example the gateway publishes in its OpenAPI schema;
#   5. antispam is retrained while requests keep flowing: the answering version must change, no request may fail;
#   6. with --scale N: N tfserving replicas, and every replica must receive Predict calls (round robin);
#   7. with --monitoring: Prometheus starts, its config passes promtool, and all its targets are up.
#
# Usage: scripts/smoke_compose.sh [--cpu] [--scale N] [--monitoring] [--keep]
#   --cpu         add docker-compose.cpu.yml (hosts without NVIDIA GPUs)
#   --keep        leave the stack running afterwards (default: `docker compose down`)
# Environment: SMOKE_PRESET (tiny), SMOKE_TIMEOUT_S (900), GATEWAY_PUBLISH_PORT (8000).
set -euo pipefail
cd "$(dirname "$0")/.."

CPU=0 SCALE=1 MONITORING=0 KEEP=0
while (($#)); do
    case "$1" in
        --cpu) CPU=1 ;;
        --scale) SCALE="$2"; shift ;;
        --monitoring) MONITORING=1 ;;
        --keep) KEEP=1 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done
PRESET="${SMOKE_PRESET:-tiny}"
TIMEOUT_S="${SMOKE_TIMEOUT_S:-900}"

files=(-f docker-compose.yml)
((CPU)) && files+=(-f docker-compose.cpu.yml)
profiles=()
((MONITORING)) && profiles+=(--profile monitoring)
dc() { docker compose "${files[@]}" "${profiles[@]}" "$@"; }
step() { printf '\n=== %s\n' "$*"; }
fail() { printf '\nSMOKE FAILED: %s\n' "$*" >&2; exit 1; }

cleanup() {
    local rc=$?
    if ((rc != 0)); then
        echo "--- last logs" >&2
        dc logs --tail=40 tfserving gateway >&2 || true
    fi
    if ((KEEP == 0)); then
        dc down --remove-orphans >/dev/null 2>&1 || true
    fi
    exit "$rc"
}
trap cleanup EXIT

# A small HTTP client run INSIDE the gateway container (it has Python; the host needs nothing but Docker).
read -r -d '' CLIENT <<'PY' || true
import json, socket, sys, time, urllib.error, urllib.request

BASE = "http://127.0.0.1:8000"


def call(method, path, body=None, timeout=120):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def examples():
    _, spec = call("GET", "/openapi.json")
    content = spec["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    return {name: ex["value"] for name, ex in content["examples"].items()}


def predict(model):
    return call("POST", "/predict", examples()[model])


cmd = sys.argv[1]
if cmd == "predict-all":
    _, listing = call("GET", "/models")
    published = {m["name"] for m in listing["models"] if m["served_versions"]}
    bad = []
    for model, body in sorted(examples().items()):
        if model not in published:
            bad.append(f"{model}: no served version")
            continue
        status, out = call("POST", "/predict", body)
        if status != 200:
            bad.append(f"{model}: HTTP {status} {out}")
        else:
            print(f"{model}: version {out['version']}, outputs {sorted(out['outputs'])}, total {out['timing_ms']['total']:.1f} ms")
    sys.exit("\n".join(bad) if bad else 0)
elif cmd == "version":
    status, out = predict(sys.argv[2])
    if status != 200:
        sys.exit(f"HTTP {status} {out}")
    print(out["version"])
elif cmd == "watch-swap":  # requests until the answering version differs from argv[3]; every one must succeed
    model, before, deadline = sys.argv[2], int(sys.argv[3]), time.monotonic() + float(sys.argv[4])
    body, sent, failed = examples()[model], 0, []
    while time.monotonic() < deadline:
        status, out = call("POST", "/predict", body)
        sent += 1
        if status != 200:
            failed.append(f"HTTP {status}: {out}")
        elif out["version"] != before:
            print(f"{model}: version {before} -> {out['version']} after {sent} requests, {len(failed)} failed")
            sys.exit("\n".join(failed[:5]) if failed else 0)
        time.sleep(0.05)
    sys.exit(f"{model} still answers with version {before} after {sent} requests ({len(failed)} failed)")
elif cmd == "replicas":  # every tfserving replica has served Predict calls
    model, deadline = sys.argv[2], time.monotonic() + float(sys.argv[3])
    ips = sorted({a[4][0] for a in socket.getaddrinfo("tfserving", 8501, type=socket.SOCK_STREAM)})

    def counts():
        out = {}
        for ip in ips:
            text = urllib.request.urlopen(f"http://{ip}:8501/monitoring/prometheus/metrics", timeout=10).read().decode()
            lines = text.splitlines()
            # per-model request counter; some releases only export graph runs, which count Predict calls too
            picked = [l for l in lines if l.startswith(":tensorflow:serving:request_count{") and f'model_name="{model}"' in l]
            picked = picked or [l for l in lines if l.startswith(":tensorflow:core:graph_runs")]
            out[ip] = sum(float(l.rsplit(" ", 1)[1]) for l in picked)
        return out

    start = counts()
    body = examples()[model]
    while time.monotonic() < deadline:
        for _ in range(20):
            status, out = call("POST", "/predict", body)
            if status != 200:
                sys.exit(f"HTTP {status}: {out}")
        now = counts()
        grown = {ip: now[ip] - start[ip] for ip in ips}
        if all(v > 0 for v in grown.values()):
            print(f"{len(ips)} replicas, Predict calls per replica: {grown}")
            sys.exit(0)
    sys.exit(f"not every replica got traffic: {grown}")
elif cmd == "prometheus":
    deadline = time.monotonic() + float(sys.argv[2])
    while True:
        targets = json.load(urllib.request.urlopen("http://prometheus:9090/api/v1/targets", timeout=10))["data"]["activeTargets"]
        health = {(t["labels"]["job"], t["labels"]["instance"]): t["health"] for t in targets}
        jobs = {job for job, _ in health}
        if {"gateway", "tfserving"} <= jobs and all(h == "up" for h in health.values()):
            print(f"targets up: {sorted(health)}")
            sys.exit(0)
        if time.monotonic() > deadline:
            sys.exit(f"targets: {health}")
        time.sleep(3)
PY
client() { dc exec -T gateway python - "$@" <<<"$CLIENT"; }

step "prerequisites"
docker compose version
if ((CPU == 0)); then
    docker info --format '{{json .Runtimes}}' | grep -q nvidia \
        || echo "warning: no 'nvidia' runtime in 'docker info'; is the NVIDIA Container Toolkit configured?" >&2
fi
dc config --quiet
((SCALE >= 1)) || fail "--scale needs a positive number"

step "TF Serving flags used by the stack vs. tensorflow_model_server --help of the pinned image"
dc pull --quiet tfserving
help_text="$(dc run --rm --no-deps --entrypoint /usr/bin/tensorflow_model_server tfserving --help 2>&1 || true)"
mapfile -t used < <(dc config tfserving | sed -n 's/^ *- --\([A-Za-z0-9_]*\).*/\1/p' | sort -u)
((${#used[@]} > 0)) || fail "no flags found in the tfserving command"
for flag in "${used[@]}"; do
    grep -q -- "--${flag}=" <<<"$help_text" || fail "--${flag} is not a flag of $(dc config --images | grep serving)"
    echo "  --${flag}: ok"
done

step "train what has no version yet (preset ${PRESET})"
dc --profile train build trainer
mkdir -p servables
while IFS= read -r line; do
    family="${line%%:*}"
    models="${line#*publishes }"
    missing=0
    for model in ${models//,/ }; do
        compgen -G "servables/${model}/[0-9]*" >/dev/null || missing=1
    done
    if ((missing)); then
        echo "  training ${family} (${models})"
        dc run --rm trainer servectl train "$family" --preset "$PRESET"
    else
        echo "  ${family}: published"
    fi
done < <(dc run --rm trainer servectl families | grep ': publishes ')
[[ -f servables/models.config ]] || fail "servables/models.config was not written by the trainer"

step "docker compose up (tfserving x${SCALE} + gateway) and wait for healthy"
dc up -d --build --wait --wait-timeout "$TIMEOUT_S" --scale "tfserving=${SCALE}"
dc ps

step "one request per model"
client predict-all

step "retrain antispam while requests flow: the version must change, no request may fail"
before="$(client version antispam)"
echo "  antispam answers with version ${before}"
client watch-swap antispam "$before" "$TIMEOUT_S" &
watcher=$!
dc run --rm trainer servectl train antispam --preset "$PRESET"
wait "$watcher" || fail "hot swap of antispam"

if ((SCALE > 1)); then
    step "round robin over ${SCALE} tfserving replicas"
    client replicas antispam 180
fi

if ((MONITORING)); then
    step "Prometheus"
    dc run --rm --no-deps --entrypoint promtool prometheus check config /etc/prometheus/prometheus.yml
    dc up -d --wait prometheus
    client prometheus 120
fi

step "smoke test passed"
