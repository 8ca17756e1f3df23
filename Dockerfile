# The stratgate image: worker (`python worker.py`) and API (`stratgate api`).
FROM python:3.11.10-slim-bookworm
WORKDIR /app
COPY pyproject.toml README.md ./
COPY governance governance
COPY store store
COPY evidence evidence
COPY workflows workflows
COPY activities activities
COPY api api
COPY cli cli
COPY worker.py settings.py ./
RUN pip install --no-cache-dir . && useradd --system stratgate
USER stratgate
ENV STRATGATE_HOME=/var/lib/stratgate
CMD ["python", "worker.py"]
