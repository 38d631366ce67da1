# Obraz produkcyjny Sight: ten sam dla procesu web (daphne), workerów RQ i crona.
FROM python:3.12-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 DJANGO_DEBUG=0
WORKDIR /app
COPY . .
RUN pip install --upgrade pip && pip install . && DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput \
    && useradd --create-home sight && chown -R sight /app
USER sight
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "sight.asgi:application"]
