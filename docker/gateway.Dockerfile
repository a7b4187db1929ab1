# syntax=docker/dockerfile:1
# The gateway image: FastAPI + uvicorn, gRPC client of TensorFlow Serving. No TensorFlow (docs/design.md §7): the image
# holds only requirements/gateway.txt (exact pins from requirements/constraints.txt) and the three packages the
# gateway imports (protos/, common/, gateway/); tests/docker checks both.
#
#   docker build -f docker/gateway.Dockerfile -t tl-serving-gateway .
#   docker run -p 8000:8000 -e GATEWAY_BACKEND=dns:///tfserving:8500 -v "$PWD/servables:/models:ro" tl-serving-gateway
#
# Settings are GATEWAY_* environment variables (gateway/core/config.py); GATEWAY_WORKERS sets uvicorn's worker count.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# ---- build stage: a virtualenv with the pinned requirements (jieba is an sdist and is built here)
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements/gateway.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-deps --require-virtualenv -r /tmp/requirements.txt \
    && /opt/venv/bin/pip check

# ---- runtime stage: the virtualenv and the source, run as an unprivileged user
FROM ${PYTHON_IMAGE} AS runtime
ARG APP_UID=10001
RUN groupadd --system --gid ${APP_UID} gateway \
    && useradd --system --uid ${APP_UID} --gid gateway --home-dir /app --shell /usr/sbin/nologin gateway
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY protos/ /app/protos/
COPY common/ /app/common/
COPY gateway/ /app/gateway/
COPY docker/gateway/healthcheck.py /usr/local/bin/gateway-healthcheck

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8000 \
    GATEWAY_WORKERS=1 \
    GATEWAY_SERVABLES=/models \
    GATEWAY_BACKEND=dns:///tfserving:8500

USER gateway
# jieba builds its dictionary cache on first use (about a second); do it now so the first request does not pay.
RUN python -c "import jieba; jieba.initialize()"

EXPOSE 8000
# /readyz: backend answers and every published model is served with its assets loaded (docs/design.md §5).
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "/usr/local/bin/gateway-healthcheck"]
# Exec form: uvicorn (via `python -m gateway`) is PID 1 and receives SIGTERM itself, so it drains in-flight
# requests for GATEWAY_SHUTDOWN_TIMEOUT_S before exiting (compose gives it a longer stop_grace_period).
CMD ["python", "-m", "gateway"]
