# SPDX-License-Identifier: Apache-2.0
# One image for the server and its workers:
#   docker build -t claude-mem-server .
#   docker run -p 127.0.0.1:37777:37777 -v claude-mem-data:/data claude-mem-server          # the server
#   docker run ... claude-mem-server server worker start --processes 2                        # a worker
# BASE_IMAGE: any Debian-based image with python3 (3.11+) and its venv module.
ARG BASE_IMAGE=python:3.12-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python3 -m venv /opt/claude-mem
COPY pyproject.toml README.md LICENSE NOTICE /src/
COPY handlers /src/handlers
COPY runtime /src/runtime
COPY queue /src/queue
COPY storage /src/storage
COPY cli /src/cli
RUN /opt/claude-mem/bin/pip install /src

FROM ${BASE_IMAGE}
RUN (command -v useradd >/dev/null || (apt-get update && apt-get install -y --no-install-recommends passwd)) \
    && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin claude-mem \
    && mkdir -p /data && chown claude-mem:claude-mem /data && chmod 0700 /data
COPY --from=build /opt/claude-mem /opt/claude-mem
ENV PATH=/opt/claude-mem/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CLAUDE_MEM_CONTAINER=1 \
    CLAUDE_MEM_DATA_DIR=/data \
    CLAUDE_MEM_HOST=0.0.0.0 \
    CLAUDE_MEM_PORT=37777 \
    CLAUDE_MEM_AUTH_MODE=api-key \
    CLAUDE_MEM_QUEUE_ENGINE=dramatiq
VOLUME ["/data"]
USER claude-mem
WORKDIR /data
EXPOSE 37777
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:37777/healthz', timeout=2)"]
ENTRYPOINT ["claude-mem"]
CMD ["server", "start"]
