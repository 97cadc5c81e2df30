# h2h serve in a container: slim, non-root, a health check on /readyz.
# Not built on the machine it was written on (no Docker there); see docs/serve.md.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY rewriter ./rewriter
COPY guardrails ./guardrails
COPY prompts ./prompts
COPY evals ./evals
COPY examples ./examples
RUN pip install '.[serve]' && rm -rf /app/*

RUN useradd --create-home --uid 10001 h2h
USER h2h
ENV H2H_CACHE_DIR=/home/h2h/.cache/h2h

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status != 200)"]

# Listening on 0.0.0.0 needs H2H_API_TOKEN (the server refuses to start without it).
CMD ["h2h", "serve", "--host", "0.0.0.0", "--port", "8000"]
