# syntax=docker/dockerfile:1
# The offline trainer: `servectl train <family> --preset tiny|book` publishes a new version into the model
# repository mounted at /models, which TensorFlow Serving polls (no restart).
#
#   docker compose run --rm trainer servectl train antispam
#
# Why python:3.11-slim + `tensorflow[and-cuda]` rather than the tensorflow/tensorflow:2.21.0-gpu image:
# pyproject pins Python 3.11 (requires-python <3.12) and every version in requirements/constraints.txt was
# resolved for 3.11; the TF GPU image ships whatever Python its Ubuntu base has. `tensorflow[and-cuda]` is
# TensorFlow's documented pip route to GPU support: it installs the CUDA and cuDNN libraries this TF build
# was compiled against as pip wheels, so the host only needs the NVIDIA driver and the NVIDIA Container Toolkit.
# The project's `train` extra names tensorflow-cpu (for CPU-only dev machines); installing it next to
# `tensorflow` would put two distributions in one `tensorflow` package directory, so the extra's other
# requirements are installed here and TensorFlow is chosen by TENSORFLOW_REQUIREMENT
# (docker-compose.cpu.yml sets tensorflow-cpu==2.21.0 for hosts without GPUs).

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm
FROM ${PYTHON_IMAGE}

ARG TENSORFLOW_REQUIREMENT="tensorflow[and-cuda]==2.21.0"
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml requirements/constraints.txt /tmp/build/
# The constraints' tensorflow_cpu line points at a wheel on the developers' machines; every other pin applies.
# Requirements = [project] dependencies + the `train` extra without its TensorFlow line.
RUN grep -v '^tensorflow_cpu @' /tmp/build/constraints.txt > /tmp/build/constraints.image.txt \
    && python -c "import tomllib; p = tomllib.load(open('/tmp/build/pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + [d for d in p['optional-dependencies']['train'] if not d.startswith('tensorflow')]))" \
       > /tmp/build/requirements.txt \
    && pip install -c /tmp/build/constraints.image.txt -r /tmp/build/requirements.txt "${TENSORFLOW_REQUIREMENT}" \
    && pip install -c /tmp/build/constraints.image.txt --no-deps tensorflow-serving-api \
    && rm -rf /tmp/build

COPY protos/ /app/protos/
COPY common/ /app/common/
COPY training/ /app/training/
COPY servectl/ /app/servectl/
# servectl's other commands (bench, status) use the gateway's code; its dependencies are installed above
COPY gateway/ /app/gateway/
# servectl bench-suite loads SavedModels in process the way modelserver does (modelserver.loader)
COPY modelserver/ /app/modelserver/
# the training data sets the jobs read by default (training.datasets: /app/data = the repository's data/)
COPY data/ /app/data/
# `servectl` as a command, as the pip-installed console script would provide it.
RUN printf '#!/bin/sh\nexec python -m servectl "$@"\n' > /usr/local/bin/servectl && chmod 0755 /usr/local/bin/servectl

ENV PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    SERVABLES_DIR=/models \
    KERAS_HOME=/tmp/keras \
    TF_CPP_MIN_LOG_LEVEL=1

CMD ["servectl", "families"]
