# syntax=docker/dockerfile:1
# npsbot: build the wheel in one stage, run it from a virtualenv in a slim one.
# Build: docker build -t npsbot .      Run: see compose.yaml and the README's "Deploying".

FROM python:3.11-slim AS builder
WORKDIR /src
# Only what the wheel is built from (the test stand-in, tests and docs stay out).
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
RUN python -m venv /opt/npsbot \
    && /opt/npsbot/bin/pip install --no-cache-dir --upgrade pip \
    && /opt/npsbot/bin/pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && /opt/npsbot/bin/pip install --no-cache-dir /wheels/*.whl

FROM python:3.11-slim
# A dedicated user without a login shell; it owns nothing but /data.
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin npsbot \
    && mkdir /data && chown npsbot:npsbot /data
COPY --from=builder /opt/npsbot /opt/npsbot
ENV PATH=/opt/npsbot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    NPSBOT_DATABASE=/data/npsbot.sqlite3 \
    NPSBOT_API_HOST=0.0.0.0
USER npsbot
WORKDIR /data
# The SQLite database (and its WAL files) live here: mount a volume.
VOLUME ["/data"]
# The ops API: events, /livez, /readyz, /healthz, /metrics (served when NPSBOT_API_TOKENS is set).
EXPOSE 8088
# Liveness through the ops API, with the standard library (the image has no curl).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('NPSBOT_API_PORT', '8088') + '/livez', timeout=4)"]
# The orderly stop (SIGTERM) takes at most 10 s: give it 20 (docker stop -t 20, compose's
# stop_grace_period).
STOPSIGNAL SIGTERM
CMD ["npsbot", "run"]
