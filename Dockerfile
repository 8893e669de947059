ARG BASE=python:3.12-slim
# stuf-bridge as a container image. Two stages: the first builds the wheel and installs it (with its dependencies)
# into a virtual environment under /opt/stuf-bridge; the second is the base image plus that environment only.
#
#   docker build -t stuf-bridge .                               (or: podman build --format docker -t stuf-bridge .)
#   docker run -p 8080:8080 -v stuf-bridge-data:/var/lib/stuf-bridge stuf-bridge
#
# The base must provide `python3` (3.11+) with `venv`; another base: --build-arg BASE=... (CI builds on a Debian
# bookworm base made with debootstrap, see .ci/container). All settings come from STUF_BRIDGE_* environment variables;
# a config file and a mappings directory can be mounted (README, Run as a container).

FROM ${BASE} AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
COPY xsd ./xsd
COPY mappings ./mappings
RUN python3 -m venv /opt/stuf-bridge \
 && /opt/stuf-bridge/bin/python3 -m pip install --no-cache-dir --disable-pip-version-check --upgrade pip \
 && /opt/stuf-bridge/bin/python3 -m pip wheel --no-cache-dir --disable-pip-version-check --no-deps -w /dist . \
 && /opt/stuf-bridge/bin/python3 -m pip install --no-cache-dir --disable-pip-version-check /dist/*.whl \
 && /opt/stuf-bridge/bin/python3 -m pip uninstall -y pip \
 && /opt/stuf-bridge/bin/stuf-bridge --version

FROM ${BASE}
# A fixed numeric user (Kubernetes' runAsNonRoot can check a number), group 0 so that a platform that runs the image
# under an arbitrary uid in group 0 (OpenShift) can still write the data directory.
RUN useradd --system --uid 10001 --gid 0 --home-dir /var/lib/stuf-bridge --no-create-home \
      --shell /usr/sbin/nologin stuf-bridge \
 && mkdir -p /var/lib/stuf-bridge /etc/stuf-bridge \
 && chown 10001:0 /var/lib/stuf-bridge && chmod 0770 /var/lib/stuf-bridge
COPY --from=build /opt/stuf-bridge /opt/stuf-bridge
ENV PATH=/opt/stuf-bridge/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    STUF_BRIDGE_DATA_DIR=/var/lib/stuf-bridge \
    STUF_BRIDGE_PORT=8080
# The gateway's own store (SQLite, unless STUF_BRIDGE_DATABASE_URL names PostgreSQL) and files.
VOLUME ["/var/lib/stuf-bridge"]
WORKDIR /var/lib/stuf-bridge
USER 10001:0
EXPOSE 8080
# python3, not curl: the image has no curl. Follows STUF_BRIDGE_PORT.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('STUF_BRIDGE_PORT', '8080'), timeout=4)"]
STOPSIGNAL SIGTERM
CMD ["stuf-bridge", "serve", "--host", "0.0.0.0"]
