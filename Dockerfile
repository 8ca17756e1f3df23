# The stratgate image: worker (`python worker.py`) and API (`stratgate api`).
# The approver UI's chart library, from the npm registry pinned by its lock file (no CDN).
FROM node:20-bookworm-slim AS ui-assets
WORKDIR /ui
COPY tools/ui-assets/package.json tools/ui-assets/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11.10-slim-bookworm
# The commit the image is built from, for each record's runtime_fingerprint.git_sha: the image
# has no .git to read it from. `docker compose build` passes it (see docker-compose.yml).
ARG GIT_SHA
RUN test -n "$GIT_SHA" || { echo "build with --build-arg GIT_SHA=\$(git rev-parse --short=12 HEAD)" >&2; exit 1; }
WORKDIR /app
COPY pyproject.toml README.md ./
COPY governance governance
COPY app app
COPY store store
COPY evidence evidence
COPY workflows workflows
COPY activities activities
COPY api api
COPY cli cli
COPY reports reports
COPY --from=ui-assets /ui/node_modules/uplot/dist /app/ui-assets/uplot
COPY worker.py settings.py logging_setup.py tracing_setup.py cpu_tuning.py malloc_tuning.py data_dirs.py ./
RUN pip install --no-cache-dir . && useradd --system stratgate
USER stratgate
ENV STRATGATE_HOME=/var/lib/stratgate \
    STRATGATE_UI_ASSETS=/app/ui-assets/uplot \
    STRATGATE_GIT_SHA=$GIT_SHA
CMD ["python", "worker.py"]
