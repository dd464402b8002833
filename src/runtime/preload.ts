// The services' third-party packages, loaded one at a time with the event loop turning between them,
// before the services' own modules. Importing those evaluates their whole module graph in one
// synchronous pass (every CommonJS package's require tree with it): ~440 ms in one block on a slow
// 2-core machine, while the replica already listens and answers /healthz and /readyz. Loaded first,
// each package is a block of its own (graphql's, ~100 ms there, is the longest); the services' modules
// then find them loaded. Direct dependencies only, dependencies before their dependents (graphql first).
export const PRELOADED_PACKAGES = [
  "graphql",
  "graphql-yoga",
  "zod",
  "prom-client",
  "ioredis",
  "graphql-redis-subscriptions",
  "@prisma/client/runtime/client",
  "@prisma/adapter-pg",
  "ws",
  "graphql-ws",
  "@pothos/core",
  "@pothos/plugin-prisma",
  "@pothos/plugin-zod",
  "@pothos/plugin-scope-auth",
  "@escape.tech/graphql-armor",
  "dataloader",
];

export async function preloadPackages(signal?: AbortSignal): Promise<void> {
  for (const name of PRELOADED_PACKAGES) {
    if (signal?.aborted) return;
    await import(name);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
