# careplan REST service and care map: `careplan serve` on port 8000.
#
#   docker build -t careplan .                 # runtime image: the service only
#   docker build --target test -t careplan-test . && docker run --rm careplan-test
#
# Runtime: a wheel built from this repository (it carries data/ as careplan_data and the map
# assets), installed without the editable source tree; only what `careplan serve` needs: no
# chromium, poppler or gdal-bin. Map pages, /docs and /redoc load nothing from the internet.

# ---- build: the wheel, exactly as .ci/run builds it ----
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY planner ./planner
COPY maps ./maps
COPY api ./api
COPY data ./data
RUN python -m pip wheel --no-deps -w /wheels .

# ---- runtime: `careplan serve` ----
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CAREPLAN_DATA_DIR=/data

# libpango + fonts-noto-cjk: the service renders PDF reports (WeasyPrint) in Chinese. The wheels
# bundle GDAL/PROJ/libosmium/HiGHS, so nothing is compiled and no GDAL tools are needed.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

COPY --from=build /wheels /wheels
RUN python -m pip install /wheels/careplan-*.whl && rm -rf /wheels

RUN useradd --create-home --uid 10001 careplan \
 && mkdir -p /data \
 && chown careplan:careplan /data
USER careplan
WORKDIR /home/careplan
# Compile the what-if kernels (numba) once, into a cache the service's user owns (numba only
# uses a cache folder it can write to, and site-packages is root's), so no container compiles
# them again (seconds) on its first what-if; .ci/run runs the same command.
ENV NUMBA_CACHE_DIR=/home/careplan/.cache/numba
RUN python -m planner.warmup
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"

# Listening on 0.0.0.0 exposes the write endpoints: `careplan serve` refuses to start off
# loopback without CAREPLAN_API_KEY (service hardening, issue 13), so this container fails fast
# unless it is run with `-e CAREPLAN_API_KEY=...` (clients then send the X-API-Key header).
CMD ["careplan", "serve", "--host", "0.0.0.0", "--port", "8000"]

# ---- test: the source tree, tests/ and the test tools, mirroring .ci/run ----
FROM python:3.11-slim AS test
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CI=true
# The same Debian packages as .ci/run (chromium: browser tests; gdal-bin: ogrinfo; pango and
# Noto CJK: PDF reports; poppler-utils: pdftoppm; postgresql: the persistence test).
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium gdal-bin libpango-1.0-0 libpangoft2-1.0-0 \
        fonts-noto-cjk poppler-utils postgresql \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN python -m pip install -e '.[test]'
CMD ["bash", ".ci/run"]
