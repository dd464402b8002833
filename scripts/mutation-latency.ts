// Mutation latency of this checkout against another one (`--base DIR`, e.g. a worktree of main), same
// machine, same run, rounds interleaved (base, this, base, this…) so load drifts hit both alike: each
// round makes a fresh database with that tree's migrations, starts one replica of that tree (Postgres +
// the shared Redis), imports 1,000 campaigns, then times `--mutations` sequential updateCampaign
// (alternately priority and targeting, as bench:propagation does). Prints p50/p99/mean per round and
// overall. Asserts nothing.
//   npx tsx scripts/mutation-latency.ts --base /tmp/bullseye-main [--rounds 2] [--mutations 200]
import { spawn } from "node:child_process";
import path from "node:path";
import { parseArgs } from "node:util";
import { createTestDatabase } from "../tests/helpers/database.ts";
import { graphqlClient } from "../tests/helpers/graphql.ts";
import { SHARED_REDIS_URL, uniquePrefix } from "../tests/helpers/redis.ts";
import { startServerProcess } from "../tests/helpers/server.ts";

const { values: args } = parseArgs({
  options: {
    base: { type: "string" },
    rounds: { type: "string", default: "2" },
    mutations: { type: "string", default: "200" },
  },
});
if (!args.base) throw new Error("usage: mutation-latency.ts --base <checkout to compare with>");
const THIS = path.resolve(import.meta.dirname, "..");
const BASE = path.resolve(args.base);
const TOKEN = "latency-admin-token-0123456789";
const CAMPAIGNS = 1_000;

const UPDATE = `mutation($id: ID!, $input: UpdateCampaignInput!) { updateCampaign(id: $id, input: $input) { version } }`;
const IMPORT = `mutation($c: [CreateCampaignInput!]!) { importCampaigns(campaigns: $c) { count } }`;

function run(cwd: string, command: string[], env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, command, { cwd, env: { ...process.env, ...env }, stdio: "ignore" });
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${command.join(" ")} exited ${code}`))));
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return `p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, mean ${mean.toFixed(1)} ms`;
};

async function round(root: string): Promise<number[]> {
  const database = await createTestDatabase({ migrate: false });
  try {
    await run(root, ["--import", "tsx", "scripts/migrate.ts", "deploy"], { DATABASE_URL: database.url });
    const server = await startServerProcess({
      cwd: root,
      args: ["--import", "tsx", "src/index.ts"],
      env: {
        DATABASE_URL: database.url,
        REDIS_URL: SHARED_REDIS_URL,
        REDIS_PREFIX: uniquePrefix("latency"),
        ADMIN_TOKEN: TOKEN,
        LOG_LEVEL: "info",
      },
    });
    try {
      const gql = graphqlClient(server.url, TOKEN);
      const campaigns = Array.from({ length: CAMPAIGNS }, (_, i) => ({
        id: `c${i}`,
        name: `Campaign ${i}`,
        imageUrl: `https://cdn.example/${i}.png`,
        cta: "Go",
        targeting: { include: { apps: [`app${i}`], countries: ["US"] } },
      }));
      const imported = await gql(IMPORT, { c: campaigns });
      if (imported.errors) throw new Error(JSON.stringify(imported.errors));
      const latencies: number[] = [];
      for (let i = 0; i < Number(args.mutations); i++) {
        const input =
          i % 2 ? { priority: i % 1000 } : { targeting: { include: { apps: [`app${i * 7}`], countries: ["DE"] } } };
        const started = performance.now();
        const res = await gql(UPDATE, { id: `c${i % CAMPAIGNS}`, input });
        latencies.push(performance.now() - started);
        if (res.errors) throw new Error(JSON.stringify(res.errors));
      }
      return latencies;
    } finally {
      await server.stop();
    }
  } finally {
    await database.drop();
  }
}

const all: Record<"base" | "this", number[]> = { base: [], this: [] };
for (let r = 1; r <= Number(args.rounds); r++) {
  for (const [name, root] of [
    ["base", BASE],
    ["this", THIS],
  ] as const) {
    const latencies = await round(root);
    all[name].push(...latencies);
    console.log(`round ${r} ${name.padEnd(4)} (${root}): ${summary(latencies)}`);
  }
}
console.log(`overall base: ${summary(all.base)}`);
console.log(`overall this: ${summary(all.this)}`);
