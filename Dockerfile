# Seeker: the web dashboard (`seeker serve`, port 8000) and the runner (`seeker run`) in one
# container, as a non-root user. See compose.yaml and the README's "Docker quick start".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CONFIG_PATH=/app/config/seeker.toml

WORKDIR /app
COPY pyproject.toml README.md ./
COPY seeker ./seeker
RUN pip install . \
    && useradd --create-home --uid 10001 --user-group seeker \
    && mkdir -p /app/data \
    && chown seeker:seeker /app/data
# the shipped config, used when no ./config is mounted over it
COPY config /app/config

USER seeker
WORKDIR /app/data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
# journals in /app/data/logs, the API's decisions in /app/data/decisions.jsonl, edited configs
# in /app/data/config (the config folder is mounted read-only); the token, if any, from
# SEEKER_WEB_TOKEN. SIGTERM (docker stop) stops the runner cleanly, then the server.
CMD ["seeker", "serve", "--host", "0.0.0.0", "--port", "8000", "--run", "--log-dir", "/app/data/logs", "--data-dir", "/app/data", "--edits-dir", "/app/data/config"]
