# lenta in a container: `lenta serve` as an unprivileged user, its SQLite
# database on the volume /data; PostgreSQL by LENTA_DB=postgresql://…
# (the driver is in the image). See the README's "Running in production".
#
#   docker build -t lenta .
#   docker run -d --init -p 8080:8080 -v lenta-data:/data lenta
#   docker exec -it CONTAINER lenta user add admin --admin
#
# LENTA_EXTRAS="" builds an image without the PostgreSQL driver.

FROM python:3.11-slim AS build
ARG LENTA_EXTRAS=postgres
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# Every dependency ships wheels with its C libraries inside (libcurl, libxml2,
# libpq…): no compiler, no apt packages. The virtualenv gets no pip of its own.
RUN python -m venv --without-pip /opt/lenta
COPY pyproject.toml README.md LICENSE /src/
COPY src /src/src
RUN pip --python /opt/lenta/bin/python install "/src${LENTA_EXTRAS:+[$LENTA_EXTRAS]}" \
    && /opt/lenta/bin/lenta --version
# Babel's locale data (35 MB) cut down to the UI's languages, src/lenta/locale
# (tests/test_packaging.py keeps the two lists the same).
RUN keep="en ru" \
    && cd /opt/lenta/lib/python3.11/site-packages/babel/locale-data \
    && for file in *.dat; do \
        name="${file%.dat}"; \
        case " root $keep " in *" ${name%%_*} "*) ;; *) rm "$file" ;; esac; \
    done
COPY packaging/docker/healthcheck.py /opt/lenta/healthcheck.py

FROM python:3.11-slim
LABEL org.opencontainers.image.title="lenta" \
      org.opencontainers.image.description="Feed aggregator: RSS, Atom and JSON Feed collected and published" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="https://github.com/lenta-aggregator/lenta"
RUN groupadd --system --gid 10001 lenta \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home --shell /usr/sbin/nologin lenta \
    && install -d -o 10001 -g 10001 -m 0700 /data
COPY --from=build /opt/lenta /opt/lenta
# The host names the site answers to (its Host header check) come from
# LENTA_ALLOWED_HOSTS or LENTA_BASE_URL: set one at `docker run` unless the site
# is reached as localhost.
ENV PATH=/opt/lenta/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LENTA_DB=/data/lenta.sqlite \
    LENTA_HOST=0.0.0.0 \
    LENTA_PORT=8080
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["/opt/lenta/bin/python", "/opt/lenta/healthcheck.py"]
CMD ["lenta", "serve"]
