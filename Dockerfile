# syntax=docker/dockerfile:1
# tighten, packaged the way tighten wants images to be: base pinned by digest, numeric
# non-root user, no curl/wget in the shipped stage.
FROM python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY fixer fixer
COPY rules rules
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.12-slim@sha256:78387bc3881b8273120a12ebe6c1ab22b018ccc2c9adf565ae1ac9b536e184ea
COPY --from=build /install /usr/local
RUN groupadd --gid 10001 tighten \
    && useradd --no-log-init --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin tighten
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["tighten"]
CMD ["check", "."]
