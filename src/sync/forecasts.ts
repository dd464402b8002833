// Reach forecasts answered by the whole fleet: the asking replica computes its own part from its
// traffic sample and asks the others on the bus; each answers with its part; the asker combines the
// parts that arrive within a bounded wait and says how many replicas answered. Without Redis (or with
// it down) the answer is this replica's part alone.
import { randomUUID } from "node:crypto";
import { compileCampaign } from "../delivery/compiled-campaign.ts";
import {
  combineForecasts,
  type Flight,
  type Forecast,
  type ForecastPart,
  forecastSteps,
} from "../delivery/forecast.ts";
import { runInSlices } from "../delivery/steps.ts";
import type { DimensionValues } from "../delivery/types.ts";
import type { Logger } from "../logger.ts";
import type { Bus } from "./bus.ts";
import type { IndexSync } from "./index-sync.ts";

export interface ForecastDraft {
  include: DimensionValues;
  exclude: DimensionValues;
  /** ms since epoch, null = open. */
  startsAt: number | null;
  endsAt: number | null;
}

interface ForecastAsk {
  id: string;
  from: string;
  draft: ForecastDraft;
}

interface ForecastAnswer {
  id: string;
  to: string;
  replica: string;
  part: ForecastPart;
}

export interface Forecaster {
  /** Waits for the other live replicas at most `waitMs`. */
  forecast(draft: ForecastDraft, otherReplicas: number): Promise<Forecast>;
}

const ASK = "forecast:ask";
const ANSWER = "forecast:answer";
/** The catalog statistics only choose a filing dimension: a draft is never filed. */
const NO_STATS = { appCount: 0, categorySize: () => 0 };

export function createForecaster(deps: {
  bus: Bus;
  sync: IndexSync;
  replicaId: string;
  log: Logger;
  waitMs?: number;
}): Forecaster {
  const { bus, sync, replicaId, log } = deps;
  const waitMs = deps.waitMs ?? 400;
  const waiting = new Map<string, (answer: ForecastAnswer) => void>();

  const computePart = async (draft: ForecastDraft): Promise<ForecastPart> => {
    const snapshot = sync.snapshot;
    const compiled = compileCampaign(
      {
        id: "(draft)",
        imageUrl: "",
        cta: "",
        status: "ACTIVE",
        priority: 0,
        startsAt: null,
        endsAt: null,
        include: draft.include,
        exclude: draft.exclude,
      },
      NO_STATS,
    );
    if (!snapshot) return { sampledRequests: 0, requests: 0, coveredMs: 0, matchingRequests: 0, overlaps: {} };
    const flight: Flight = {
      startsAt: draft.startsAt ?? Number.NEGATIVE_INFINITY,
      endsAt: draft.endsAt ?? Number.POSITIVE_INFINITY,
    };
    return runInSlices(forecastSteps(snapshot, sync.traffic.recent(), compiled, flight));
  };

  bus.subscribe<ForecastAsk>(ASK, (ask) => {
    if (ask.from === replicaId) return;
    computePart(ask.draft).then(
      (part) => bus.publish(ANSWER, { id: ask.id, to: ask.from, replica: replicaId, part } satisfies ForecastAnswer),
      (error: unknown) => log.warn({ err: error }, "forecast part failed"),
    );
  });
  bus.subscribe<ForecastAnswer>(ANSWER, (answer) => {
    if (answer.to === replicaId) waiting.get(answer.id)?.(answer);
  });

  return {
    async forecast(draft, otherReplicas) {
      const id = randomUUID();
      const parts = new Map<string, ForecastPart>();
      const others = new Promise<void>((resolve) => {
        if (otherReplicas <= 0) return resolve();
        const timer = setTimeout(resolve, waitMs);
        waiting.set(id, (answer) => {
          parts.set(answer.replica, answer.part);
          if (parts.size >= otherReplicas) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      if (otherReplicas > 0) bus.publish(ASK, { id, from: replicaId, draft } satisfies ForecastAsk);
      const own = await computePart(draft);
      await others;
      waiting.delete(id);
      return combineForecasts([own, ...parts.values()]);
    },
  };
}
