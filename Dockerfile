# syntax=docker/dockerfile:1
# Countersign callback handler image. Build from the repository root:
#   docker build -t countersign:0.1.0 .
#   docker run --rm countersign:0.1.0 --help
# Run with a read-only root filesystem; the only writable places are the data volume and /tmp:
#   docker run --read-only --tmpfs /tmp -v countersign-data:/var/lib/countersign \
#     -v "$PWD/config:/etc/countersign:ro" -p 8443:8443 countersign:0.1.0
# See docs/deployment.md.

# Build stage: all dependencies (TypeScript, the native SQLite driver's build), then dist/ and a pruned
# node_modules with production dependencies only.
FROM node:24-slim AS build
# The SQLite driver downloads a prebuilt binary; the compilers are its fallback when none matches.
# hadolint ignore=DL3008
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
# `npm ci` runs the `prepare` script, which builds dist/ with the sources copied above.
RUN npm ci --no-audit --no-fund \
  && npm prune --omit=dev --no-audit --no-fund \
  && npm cache clean --force
COPY bin ./bin
COPY schemas ./schemas
COPY examples ./examples
COPY fixtures ./fixtures
COPY LICENSE ./

# Runtime stage: Node.js, the built package, nothing writable but the data volume.
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/LICENSE ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/schemas ./schemas
COPY --from=build /app/examples ./examples
COPY --from=build /app/fixtures ./fixtures
# The data folder (SQLite store) belongs to the unprivileged `node` user of the base image (uid 1000).
RUN mkdir -p /var/lib/countersign /etc/countersign \
  && chown node:node /var/lib/countersign \
  && chmod 0700 /var/lib/countersign \
  && ln -s /app/bin/countersign.js /usr/local/bin/countersign
USER node
VOLUME ["/var/lib/countersign"]
EXPOSE 8443
# Node.js is PID 1: SIGTERM drains in-flight requests and stops, SIGHUP reloads the policy
# (`docker kill --signal HUP`). `--init` is not needed.
ENTRYPOINT ["node", "/app/bin/countersign.js"]
CMD ["handler", "start", "--config", "/etc/countersign/countersign.yaml"]
