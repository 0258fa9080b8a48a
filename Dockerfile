# memorybot: the Discord bot, with the offline embedding model inside the image.
# Build: docker build -t memorybot .
# Run:   docker run -e DISCORD_TOKEN -e OPENAI_API_KEY -v memorybot-data:/data -p 127.0.0.1:8080:8080 memorybot
#        (a config of your own: -v "$PWD/config.yaml:/app/config.yaml:ro", keeping docker/config.yaml's ops section)
# With a Chroma server and PostgreSQL: docker-compose.yml.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
# The CPU build of torch first: a plain requirement would pull the multi-GB CUDA build.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
WORKDIR /src
COPY pyproject.toml README.md ./
COPY memory/ memory/
COPY bot/ bot/
RUN pip install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 memorybot \
    && mkdir /data \
    && chown memorybot:memorybot /data
COPY --from=build /opt/venv /opt/venv
# The shipped defaults, with the ops endpoint on 0.0.0.0:8080 (/healthz, /metrics).
COPY docker/config.yaml /app/config.yaml
WORKDIR /app
# The model's ONNX export for queries is made on the first start and kept in the volume (XDG_CACHE_HOME).
ENV PATH=/opt/venv/bin:$PATH \
    XDG_CACHE_HOME=/data/.cache \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    PYTHONUNBUFFERED=1
USER 10001
VOLUME ["/data"]
EXPOSE 8080
# 200 once connected to Discord with both stores answering; the first start exports the model to ONNX (~15 s).
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
    CMD ["python", "-m", "bot.ops.probe", "--config", "/app/config.yaml"]
CMD ["memorybot", "--config", "/app/config.yaml", "--data-dir", "/data", "run"]
