// What this replica's in-memory index answers: the delivery query (exactly /v1/delivery's answer) and
// indexStatus. Neither touches the database.
import { bodyOf } from "../delivery/answers.ts";
import { parseDeviceFields } from "../delivery/request.ts";
import type { TargetingSnapshot } from "../delivery/snapshot.ts";
import { builder } from "./builder.ts";
import type { Context } from "./context.ts";
import { badUserInput, unavailable } from "./errors.ts";

interface AdShape {
  cid: string;
  img: string;
  cta: string;
}

const Ad = builder.objectRef<AdShape>("Ad").implement({
  fields: (t) => ({
    cid: t.exposeID("cid"),
    img: t.exposeString("img"),
    cta: t.exposeString("cta"),
  }),
});

const Delivery = builder.objectRef<{ version: number; ads: AdShape[] }>("Delivery").implement({
  fields: (t) => ({
    version: t.exposeInt("version", { description: "The index version that answered (X-Index-Version)" }),
    ads: t.expose("ads", { type: [Ad], description: "Ordered by priority desc, then cid asc" }),
  }),
});

const ReplicaStatus = builder.objectRef<{ id: string; version: number; seenAt: Date }>("ReplicaStatus").implement({
  fields: (t) => ({
    id: t.exposeID("id"),
    version: t.exposeInt("version"),
    seenAt: t.expose("seenAt", { type: "DateTime" }),
  }),
});

const IndexStatus = builder.objectRef<{ snapshot: TargetingSnapshot }>("IndexStatus").implement({
  fields: (t) => ({
    version: t.int({ resolve: ({ snapshot }) => snapshot.version }),
    campaigns: t.int({
      description: "Campaigns in the index (ACTIVE ones)",
      resolve: ({ snapshot }) => snapshot.campaignCount,
    }),
    builtAt: t.field({ type: "DateTime", resolve: ({ snapshot }) => snapshot.builtAt }),
    replicas: t.field({
      type: [ReplicaStatus],
      description:
        "Replicas that reported in the last 5 s on Redis or in Postgres, each with the newest version either shows " +
        "(what a mutation's `propagated` waits for); Postgres unreachable: what Redis shows",
      resolve: (_status, _args, ctx) => ctx.liveReplicas(),
    }),
  }),
});

export function currentSnapshot(ctx: Context): TargetingSnapshot {
  const snapshot = ctx.sync.snapshot;
  if (!snapshot) throw unavailable("the delivery index is not loaded yet");
  return snapshot;
}

builder.queryFields((t) => ({
  delivery: t.field({
    type: Delivery,
    description: "What /v1/delivery answers on this replica for this device",
    args: {
      app: t.arg.string({ required: true }),
      os: t.arg.string({ required: true }),
      country: t.arg.string({ required: true }),
    },
    resolve: (_root, args, ctx) => {
      const parsed = parseDeviceFields(args);
      if (!parsed.ok) throw badUserInput(parsed.fields);
      const snapshot = currentSnapshot(ctx);
      const result = snapshot.match(parsed.request);
      // The pre-serialised /v1/delivery body is the answer; parsing it keeps the two identical.
      const body = bodyOf(result);
      const ads = body !== null ? (JSON.parse(String(body)) as AdShape[]) : [];
      return { version: snapshot.version, ads };
    },
  }),
  indexStatus: t.field({
    type: IndexStatus,
    resolve: (_root, _args, ctx) => {
      return { snapshot: currentSnapshot(ctx) };
    },
  }),
}));
