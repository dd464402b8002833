// Prometheus metrics (prom-client) for /metrics. Labels are bounded: status codes, fixed names,
// GraphQL operation names capped — never an app, a campaign or a device value.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { AnswerCacheUsage } from "./delivery/snapshot.ts";
import type { ApplyKind } from "./delivery/types.ts";
import { monitorLoopBlocks } from "./loop-blocks.ts";

/**
 * nodejs_eventloop_lag_* sample the loop with a timer this often, and record the time between two
 * samples: an idle loop reads ~10 ms, a 30 ms block ~40 ms. A stall is lag − this. The block monitor
 * (loop-blocks.ts) samples as often.
 */
export const EVENT_LOOP_SAMPLE_MS = 10;

/** Live values read when /metrics is scraped (nothing to update on the hot path). */
export interface MetricSources {
  indexVersion(): number;
  indexCampaigns(): number;
  /** Entries and bytes of the delivery answer cache (ANSWER_CACHE_MB bounds the bytes). */
  answerCache(): AnswerCacheUsage | undefined;
  /** Newest version this replica knows exists: from change messages, peers' reports, its own index. */
  latestKnownVersion(): number;
  postgresUp(): boolean;
  redisUp(): boolean;
  /** Open ruleChanges subscriptions on this replica. */
  subscriptions?(): number;
  /** Mutations waiting for a write slot in this process. */
  writesQueued?(): number;
}

export function createMetrics(sources: MetricSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

  // The hot path only bumps plain numbers; they are turned into Prometheus text when scraped.
  const delivery = new DeliveryMetrics();
  registry.registerMetric(delivery.requestsMetric() as never);
  registry.registerMetric(delivery.latencyMetric() as never);
  new Gauge({
    name: "bullseye_index_version",
    help: "Change-log version the index serves",
    registers: [registry],
    collect() {
      this.set(sources.indexVersion());
    },
  });
  new Gauge({
    name: "bullseye_changelog_lag_versions",
    help: "Newest change-log version known to exist minus the version the index serves",
    registers: [registry],
    collect() {
      this.set(Math.max(0, sources.latestKnownVersion() - sources.indexVersion()));
    },
  });
  new Gauge({
    name: "bullseye_index_campaigns",
    help: "Campaigns in the index (ACTIVE)",
    registers: [registry],
    collect() {
      this.set(sources.indexCampaigns());
    },
  });
  new Gauge({
    name: "bullseye_answer_cache_bytes",
    help: "Estimated bytes held by the delivery answer cache: interned answers, remembered devices",
    labelNames: ["cache"] as const,
    registers: [registry],
    collect() {
      const usage = sources.answerCache();
      this.labels("answers").set(usage?.answerBytes ?? 0);
      this.labels("devices").set(usage?.deviceBytes ?? 0);
    },
  });
  new Gauge({
    name: "bullseye_answer_cache_entries",
    help: "Entries in the delivery answer cache: interned answers, remembered devices",
    labelNames: ["cache"] as const,
    registers: [registry],
    collect() {
      const usage = sources.answerCache();
      this.labels("answers").set(usage?.answers ?? 0);
      this.labels("devices").set(usage?.devices ?? 0);
    },
  });
  const indexApply = new Histogram({
    name: "bullseye_index_apply_duration_seconds",
    help: "Time to read and apply changes to the index, by kind (full rebuild, delta read from the change log, change carried on the bus: from its commit message to serving it)",
    labelNames: ["kind"] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });
  new Gauge({
    name: "bullseye_dependency_up",
    help: "1 when the dependency is reachable (postgres: last index read succeeded; redis: connected)",
    labelNames: ["dependency"] as const,
    registers: [registry],
    collect() {
      this.labels("postgres").set(sources.postgresUp() ? 1 : 0);
      this.labels("redis").set(sources.redisUp() ? 1 : 0);
    },
  });
  const blocks = monitorLoopBlocks(EVENT_LOOP_SAMPLE_MS);
  new Gauge({
    name: "bullseye_eventloop_block_max_seconds",
    help:
      "Longest event-loop block since the last scrape: the loop's lag less the time its thread waited " +
      "for a CPU (Linux schedstat), i.e. what this process's own work held it; the lag where not on Linux",
    registers: [registry],
    collect() {
      this.set(blocks.take().blockMs / 1000);
    },
  });
  new Gauge({
    name: "bullseye_graphql_subscriptions",
    help: "Open ruleChanges subscriptions (SSE and WebSocket) on this replica",
    registers: [registry],
    collect() {
      this.set(sources.subscriptions?.() ?? 0);
    },
  });
  new Gauge({
    name: "bullseye_graphql_writes_queued",
    help: "Mutations waiting for one of the process's WRITE_CONCURRENCY write slots",
    registers: [registry],
    collect() {
      this.set(sources.writesQueued?.() ?? 0);
    },
  });
  const graphqlOperations = new Counter({
    name: "bullseye_graphql_operations_total",
    help: "GraphQL operations by operation type, name (capped) and outcome",
    labelNames: ["type", "name", "outcome"] as const,
    registers: [registry],
  });

  const graphqlReads = new Counter({
    name: "bullseye_graphql_reads_total",
    help: "GraphQL queries by the database they read (replica only with DATABASE_REPLICA_URL)",
    labelNames: ["database"] as const,
    registers: [registry],
  });

  const knownOperations = new Set<string>();

  return {
    registry,
    /** Ends the event-loop block sampling (the replica is releasing its services). */
    stop: () => blocks.stop(),
    observeDelivery(status: number, startedAt: number): void {
      delivery.observe(status, (performance.now() - startedAt) / 1000);
    },
    indexApplied(kind: ApplyKind, seconds: number): void {
      indexApply.labels(kind).observe(seconds);
    },
    graphqlOperation(type: string, name: string | undefined, outcome: "ok" | "error"): void {
      // Operation names come from clients: keep the first 100 distinct ones, fold the rest.
      let label = name ?? "anonymous";
      if (!knownOperations.has(label)) {
        if (knownOperations.size >= 100) label = "other";
        else knownOperations.add(label);
      }
      graphqlOperations.labels(type, label, outcome).inc();
    },
    graphqlRead(database: "primary" | "replica"): void {
      graphqlReads.labels(database).inc();
    },
    async handle(_req: IncomingMessage, res: ServerResponse): Promise<void> {
      const body = await registry.metrics();
      res.writeHead(200, { "Content-Type": registry.contentType, "Cache-Control": "no-store" });
      res.end(body);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05];

/**
 * Delivery request count by status and latency histogram, kept in plain numbers (a prom-client
 * observe per request cost ~5 % of delivery throughput) and exposed in prom-client's metric shape.
 */
class DeliveryMetrics {
  /** Requests by HTTP status (the index). */
  private readonly byStatus = new Float64Array(600);
  private readonly buckets = new Float64Array(LATENCY_BUCKETS.length);
  private count = 0;
  private sum = 0;

  observe(status: number, seconds: number): void {
    this.byStatus[status] = (this.byStatus[status] as number) + 1;
    this.count++;
    this.sum += seconds;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= (LATENCY_BUCKETS[i] as number)) {
        this.buckets[i] = (this.buckets[i] as number) + 1;
        break;
      }
    }
  }

  requestsMetric() {
    const name = "bullseye_delivery_requests_total";
    const help = "Delivery requests by HTTP status";
    return {
      name,
      help,
      type: "counter",
      aggregator: "sum",
      get: async () => ({
        name,
        help,
        type: "counter",
        aggregator: "sum",
        values: [...this.byStatus.entries()]
          .filter(([, value]) => value > 0)
          .map(([status, value]) => ({ labels: { status: String(status) }, value })),
      }),
      reset: () => undefined,
    };
  }

  latencyMetric() {
    const name = "bullseye_delivery_duration_seconds";
    const help = "Server time of a delivery request, from request to response written";
    return {
      name,
      help,
      type: "histogram",
      aggregator: "sum",
      get: async () => {
        let cumulative = 0;
        const values = LATENCY_BUCKETS.map((le, i) => {
          cumulative += this.buckets[i] as number;
          return { labels: { le }, value: cumulative, metricName: `${name}_bucket` };
        });
        values.push({ labels: { le: "+Inf" as never }, value: this.count, metricName: `${name}_bucket` });
        return {
          name,
          help,
          type: "histogram",
          aggregator: "sum",
          values: [
            ...values,
            { labels: {} as never, value: this.sum, metricName: `${name}_sum` },
            { labels: {} as never, value: this.count, metricName: `${name}_count` },
          ],
        };
      },
      reset: () => undefined,
    };
  }
}
