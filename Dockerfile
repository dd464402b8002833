# Bullseye replica image. Two stages: `build` installs everything and runs `npm run build` (Prisma client,
# dashboard, TypeScript → dist/); the runtime stage holds production dependencies, dist/ and the Prisma
# schema and migrations, and runs the compiled server with node under tini as the unprivileged `node` user.
# Migrations are applied by the `migrate` service of docker-compose.yml (node dist/scripts/migrate.js deploy).

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Dependencies' install scripts are not needed: Prisma generates offline (prisma.config.ts), esbuild's
# binary comes from its platform package.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:20-bookworm-slim AS runtime
# tini as PID 1: forwards SIGTERM/SIGINT to node and reaps zombies, whatever `docker run` flags are used.
# hadolint ignore=DL3008
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# TINI_SUBREAPER: still reaps when `docker run --init` puts its own init in front of tini.
ENV NODE_ENV=production TINI_SUBREAPER=1
COPY package.json package-lock.json ./
# --omit=optional as well: the Prisma CLI and TypeScript are optional peers of @prisma/client that npm
# would otherwise keep (devOptional); the server needs neither at run time.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY prisma/schema.prisma ./prisma/schema.prisma
COPY prisma/migrations ./prisma/migrations
# The embedded Postgres (no DATABASE_URL) keeps its data under /app/.data: the only place it writes.
RUN mkdir .data && chown node:node .data
USER node
EXPOSE 9090
HEALTHCHECK --interval=5s --timeout=2s --retries=12 CMD ["node", "-e", "fetch('http://127.0.0.1:9090/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--max-semi-space-size=4", "dist/src/index.js"]
