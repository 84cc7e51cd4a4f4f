# careplan REST service and care map: `careplan serve` on port 8000.
# Mirrors .ci/run: the same Debian packages, then `pip install -e` of this repository.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CAREPLAN_DATA_DIR=/data

# chromium: care-map browser test; gdal-bin: GeoPackage checks; libpango + fonts-noto-cjk:
# WeasyPrint PDF reports in Chinese; poppler-utils: PDF checks. Wheels bundle GDAL/PROJ/libosmium, so nothing else is compiled.
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium gdal-bin libpango-1.0-0 libpangoft2-1.0-0 \
        fonts-noto-cjk poppler-utils \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY planner ./planner
COPY maps ./maps
COPY api ./api
COPY data ./data

# Build with --build-arg EXTRAS=test to get the test tools, exactly as .ci/run installs them.
ARG EXTRAS=""
RUN python -m pip install --upgrade pip \
 && if [ -n "$EXTRAS" ]; then python -m pip install -e ".[$EXTRAS]"; else python -m pip install -e .; fi

RUN useradd --create-home --uid 10001 careplan \
 && mkdir -p /data \
 && chown careplan:careplan /data
USER careplan
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status == 200 else 1)"

CMD ["careplan", "serve", "--host", "0.0.0.0", "--port", "8000"]
