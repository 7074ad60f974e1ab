# syntax=docker/dockerfile:1
#
# One image per service, all built from the same `base` stage:
#
#   docker build --target profile       -t mentorlink-profile .
#   docker build --target matching      -t mentorlink-matching .
#   docker build --target notifications -t mentorlink-notifications .
#
# docker-compose.yml builds these targets; see docs/deploy-compose.md.

FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # uv: use the image's interpreter, never download one; compile .pyc at build time;
    # copy out of the cache mount (a different filesystem) instead of hard-linking.
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy

RUN pip install uv==0.13.8

WORKDIR /app

# Dependencies only: this layer is rebuilt when pyproject.toml or uv.lock change, not on
# every source edit.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

# The project itself. The wheel target packages shared, services and devenv
# ([tool.hatch.build.targets.wheel]), so all three are copied; README.md is the project's
# `readme`, and hatchling refuses to build without it. uv installs the project editable (a
# .pth pointing at /app), so the code runs from /app; compile it here since the runtime user
# cannot write __pycache__.
COPY README.md ./
COPY shared/ shared/
COPY services/ services/
COPY devenv/ devenv/
COPY ops/ ops/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev \
 && python -m compileall -q shared services

# Numba caches compiled code only where it can write, and refuses to import the matching
# service's kernels when it can write nowhere; the runtime user cannot write /app and has no
# home. So its cache is under /tmp (an emptyDir in Kubernetes), and the kernels are compiled
# here into a seed that the service copies into that empty cache at start: a start loads them
# instead of compiling (seconds, and a few hundred MB of peak memory). See
# services/matching/adapters/compiled_cache.py. On a CPU unlike the build machine's, numba
# compiles again into the cache.
ENV NUMBA_CACHE_DIR=/tmp/numba-cache \
    MATCHING_NUMBA_SEED_DIR=/app/numba-seed
RUN NUMBA_CACHE_DIR=/app/numba-seed /app/.venv/bin/python -c \
    "from services.matching.adapters.warm_up import compile_kernels; compile_kernels()"

# Run as an unprivileged user; the code and the venv stay owned by root (read-only to it).
RUN groupadd --system --gid 10001 mentorlink \
 && useradd --system --uid 10001 --gid mentorlink --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin mentorlink

ENV PATH="/app/.venv/bin:${PATH}" \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=8000

USER mentorlink:mentorlink

EXPOSE 8000

# /healthz answers once the service has started (dependencies reached, migrations applied);
# python, since the slim image has no curl. Honours HTTP_PORT if it is overridden.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HTTP_PORT', '8000'), timeout=4)"]


FROM base AS profile
ENV HTTP_HOST=0.0.0.0
EXPOSE 8000
CMD ["python", "-m", "services.profile"]


FROM base AS matching
ENV HTTP_HOST=0.0.0.0
EXPOSE 8000
CMD ["python", "-m", "services.matching"]


FROM base AS notifications
ENV HTTP_HOST=0.0.0.0
EXPOSE 8000
CMD ["python", "-m", "services.notifications"]
