#!/usr/bin/env bash
# Compose healthcheck of the tfserving service: healthy only when the REST API answers and every model in
# models.config that has a published version (an integer-named directory under its base_path) reports at least
# one AVAILABLE version. Models without any version yet (still being trained) do not block: the gateway
# reports them as pending (docs/design.md §5).
#
# Why bash and /dev/tcp: the tensorflow/serving images are Ubuntu plus the model server binary and
# ca-certificates; they have no curl or wget, but they have bash, whose /dev/tcp redirection opens a TCP
# connection. The REST API's model status endpoint is GET /v1/models/<name>.
set -u

HOST="${TFS_HEALTH_HOST:-127.0.0.1}"
PORT="${TFS_REST_PORT:-8501}"
CONFIG="${TFS_MODEL_CONFIG:-/models/models.config}"
TIMEOUT_S="${TFS_HEALTH_TIMEOUT_S:-3}"

# GET <path>; prints the whole response (status line, headers, body). Fails if nothing answers.
http_get() {
    local path="$1" response=""
    exec 3<>"/dev/tcp/${HOST}/${PORT}" || return 1
    printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$path" "$HOST" >&3
    local line
    while IFS= read -r -t "$TIMEOUT_S" line <&3 || [[ -n "$line" ]]; do
        response+="$line"$'\n'
    done
    exec 3<&- 3>&-
    [[ -n "$response" ]] || return 1
    printf '%s' "$response"
}

# The REST API must answer even when nothing is loaded (any HTTP status line will do).
probe="$(http_get /v1/models/__healthcheck__)" || { echo "REST API on ${HOST}:${PORT} does not answer" >&2; exit 1; }
[[ "$probe" == HTTP/* ]] || { echo "REST API on ${HOST}:${PORT} answered without HTTP" >&2; exit 1; }

[[ -r "$CONFIG" ]] || { echo "cannot read $CONFIG" >&2; exit 1; }

# name/base_path pairs from the text-format ModelServerConfig (either quote style), in file order.
names=()
paths=()
while IFS= read -r token; do
    key="${token%%:*}"
    value="${token#*:}"
    value="${value#"${value%%[![:space:]]*}"}"
    value="${value:1:${#value}-2}"
    if [[ "$key" == "name" ]]; then
        names+=("$value")
    elif [[ "$key" == "base_path" ]]; then
        paths+=("$value")
    fi
done < <(grep -oE "(name|base_path):[[:space:]]*(\"[^\"]*\"|'[^']*')" "$CONFIG")

if (( ${#names[@]} != ${#paths[@]} )); then
    echo "$CONFIG: ${#names[@]} model names but ${#paths[@]} base paths" >&2
    exit 1
fi

status=0
for i in "${!names[@]}"; do
    name="${names[$i]}"
    base="${paths[$i]}"
    published=0
    for dir in "$base"/*/; do
        version="$(basename "$dir")"
        if [[ -d "$dir" && "$version" =~ ^[0-9]+$ ]]; then
            published=1
            break
        fi
    done
    (( published )) || continue
    answer="$(http_get "/v1/models/${name}")" || { echo "${name}: no answer" >&2; status=1; continue; }
    if ! grep -qE '"state"[[:space:]]*:[[:space:]]*"AVAILABLE"' <<<"$answer"; then
        echo "${name}: no AVAILABLE version yet" >&2
        status=1
    fi
done
exit "$status"
