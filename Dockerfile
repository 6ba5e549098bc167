# syntax=docker/dockerfile:1
# One image for every Blossom service. The service is the argument of `blossom start`:
#   docker run --env-file blossom.env ghcr.io/blossom-commerce/blossom users
# (Kubernetes: `args: ["users"]`; compose: `command: ["users"]`). With no argument the container
# runs the whole platform in one process on embedded databases under /data: a demo, with
# `-e NODE_ENV=development -p 8080:8080`, not a deployment.
# Checked statically by tests/deploy/dockerfile.test.ts (no Docker on the CI machine).
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# Only the package manifests: the `npm ci` layer below is rebuilt when a dependency changes, not
# on every source edit (a COPY --from whose content is unchanged keeps the cache).
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && find . -name node_modules -prune -o \( -name package.json -o -name package-lock.json \) -print \
    | xargs cp --parents -t /manifests

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN npm ci --no-audit --no-fund
COPY . .
# Build every workspace to dist/ (the storefront too: apps/web/dist, which the gateway serves), then drop what the running process never loads: dev
# dependencies, TypeScript sources (packages resolve to dist/ outside the "source" condition),
# build metadata.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && find packages services apps -name node_modules -prune -o -type d -name src -prune -exec rm -rf {} + \
 && find . -name node_modules -prune -o -name "*.tsbuildinfo" -exec rm -f {} +

FROM ${NODE_IMAGE} AS runtime
# Production unless told otherwise: the process then refuses development secrets and demo data.
# HOST 0.0.0.0 so that the port is reachable from outside the container; PORT is the port of the
# one service a container runs (every service listens on 8080 in its own container).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    LOG_FORMAT=json \
    BLOSSOM_DATA_DIR=/data
WORKDIR /app
# The package managers are not needed to run the built code: less to patch, a smaller image.
RUN rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /opt/yarn-v* \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg \
 && mkdir /data && chown 1000:1000 /data
# Owned by root, run as uid 1000: the process cannot modify its own code. Nothing else is
# written outside /data (embedded mode only) and /tmp, so the root file system can be read-only.
COPY --from=build /app ./
USER 1000:1000
# 8080: the HTTP port; 9464: the gateway's internal /metrics listener (GATEWAY_METRICS_PORT).
EXPOSE 8080 9464
# No curl in slim images: Node's own fetch asks the liveness endpoint.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "apps/blossom/bin/blossom.js", "start"]
CMD []
