# syntax=docker/dockerfile:1
# The operator's image. The Node major here is the one the tests run on (scripts/ensure-node.sh).
# `npm run image` (scripts/image.sh) builds it with docker, podman or buildah; CI builds it on
# every run and starts it (test/integration/image.test.ts, docs/install.md#the-image).
ARG NODE_VERSION=24
# The official Node image. Where Docker Hub is out of reach, scripts/build-base-image.sh
# assembles an equivalent one (Debian bookworm + the same Node build) and passes its name here.
ARG BASE_IMAGE=node:${NODE_VERSION}-bookworm-slim

# Compiled JavaScript is the same on every platform: build it once, on the builder's own.
FROM --platform=$BUILDPLATFORM ${BASE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM ${BASE_IMAGE} AS prod-deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM ${BASE_IMAGE}
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/imagestream-operator/imagestream-operator
LABEL org.opencontainers.image.title="imagestream-operator" \
      org.opencontainers.image.description="OpenShift ImageStreams (image.openshift.io/v1) for any Kubernetes cluster" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
# glibc gives every thread that allocates its own arena (V8's GC and compiler workers, libuv's
# pool) and keeps freed chunks there: at 10,000 streams 32 MiB in four arenas. Two arenas hold
# the same work in about half that (docs/benchmarks.md, run E).
ENV NODE_ENV=production MALLOC_ARENA_MAX=2
WORKDIR /app
COPY --from=prod-deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
# The node image's unprivileged user; the chart also sets runAsNonRoot and a read-only root
# filesystem (with an emptyDir on /tmp). The operator writes no files.
USER 1000:1000
EXPOSE 8080 8081
# Half of the container's memory limit for V8's old space: Node reads the limit from the cgroup,
# and the other half is for what lives outside the JavaScript heap (code, buffers, TLS). Without
# it V8 sizes its heap to about the whole limit and the pod is OOM-killed first (docs/install.md).
ENTRYPOINT ["node", "--max-old-space-size-percentage=50", "dist/main.js"]
