# Tsunagu production image: gunicorn + WhiteNoise for the web, the same image runs migrate, the
# Celery worker and beat (see docker-compose.yml). All runtime settings come from the
# environment (config/settings.py, DJANGO_ENV=production).
FROM python:3.12-slim

# uv itself comes from PyPI through pip; pin it so builds are reproducible.
ARG UV_VERSION=0.13.9

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.12 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PATH="/app/.venv/bin:${PATH}"

RUN pip install "uv==${UV_VERSION}"

RUN groupadd --system --gid 10001 tsunagu \
    && useradd --system --uid 10001 --gid tsunagu --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin tsunagu

WORKDIR /app

# Dependencies first, from the lock file only, so code changes do not reinstall them.
# The project is not a package ([tool.uv] package = false): only the dependencies are installed.
COPY pyproject.toml uv.lock ./
RUN uv sync --locked --no-dev

COPY . .

# The dummy values below exist only for this RUN line so the production settings import; they are
# not baked into the image's environment. collectstatic touches neither the database, the broker
# nor the mail server.
RUN DJANGO_ENV=production \
    SECRET_KEY=build-only-not-a-secret-collectstatic-needs-some-value-here \
    ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://build:build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    EMAIL_HOST=localhost \
    python manage.py collectstatic --noinput

# The code and collected static files stay root-owned (read-only for the app); only the uploads
# folder (MEDIA_ROOT defaults to var/media) is writable, and docker-compose mounts a volume on it.
RUN mkdir -p /app/var/media \
    && chown -R tsunagu:tsunagu /app/var \
    && chmod 0750 /app/var /app/var/media

USER tsunagu:tsunagu

EXPOSE 8000

# config/gunicorn.py: the access log writes no query string (no name typed into a URL).
CMD ["gunicorn", "--config", "config/gunicorn.py", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
