# Argus service image. Build: docker build -t argus .
# Run embedded:  docker run -p 8000:8000 -v argus-data:/var/lib/argus argus
# Run on ScyllaDB: add -e ARGUS_STORAGE_ENGINE=scylla -e ARGUS_STORAGE_SCYLLA_HOSTS=host1,host2
#                  -e ARGUS_QUEUE_URL=redis://redis:6379/0 -e ARGUS_QUEUE_EMBEDDED_WORKER=false
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY domain ./domain
COPY infrastructure ./infrastructure
COPY templates ./templates
COPY public ./public
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --home-dir /var/lib/argus --create-home argus
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
ENV ARGUS_SERVER_HOST=0.0.0.0 \
    ARGUS_SERVER_PORT=8000 \
    ARGUS_STORAGE_DATA_DIR=/var/lib/argus \
    ARGUS_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
USER argus
WORKDIR /var/lib/argus
VOLUME ["/var/lib/argus"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
CMD ["argus", "serve"]
