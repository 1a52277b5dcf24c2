# subsync's container image: a static binary on distroless/static, run as
# a numbered non-root user. Build from the repository root:
#   docker build --build-arg VERSION=1.0.0 --build-arg REVISION=$(git rev-parse HEAD) -t subsync:1.0.0 .
# deploy/chartcheck tests this file's structure (stages, CGO_ENABLED=0,
# USER) without a Docker engine; see docs/operations.md.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
ARG REVISION=""
# CGO_ENABLED=0: no libc in the final image, so the binary must not need one.
ENV CGO_ENABLED=0
RUN go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" \
      -o /out/subsync ./cmd/subsync

FROM gcr.io/distroless/static-debian12:nonroot AS runtime
COPY --from=build /out/subsync /usr/local/bin/subsync
# 65532 is distroless' "nonroot"; numeric, so Kubernetes' runAsNonRoot
# can verify it without reading /etc/passwd.
USER 65532:65532
# /metrics, /healthz, /readyz (metricsAddress). The JSON API (apiAddress)
# stays on loopback inside the container.
EXPOSE 9479
ENTRYPOINT ["/usr/local/bin/subsync"]
CMD ["run", "--config", "/etc/subsync/subsync.yaml"]
