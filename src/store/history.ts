// Reads of campaign and category history (written by the commit-time trigger of the change log, see
// the *_audit_history_api_keys migration): a page of revisions, newest first, for many entities in one
// statement (a request listing campaigns with their history costs one query, not one per campaign).

import type { Db } from "../db/client.ts";
import { Prisma } from "../generated/prisma/client.ts";

/** A campaign as a revision stores it (JSON field names as in GraphQL; instants as ISO strings). */
export interface CampaignStateJson {
  name: string;
  imageUrl: string;
  cta: string;
  status: "ACTIVE" | "PAUSED";
  priority: number;
  startsAt: string | null;
  endsAt: string | null;
  targeting: {
    include: { apps: string[]; countries: string[]; os: string[]; categories: string[] };
    exclude: { apps: string[]; countries: string[]; os: string[]; categories: string[] };
  };
}

export interface CategoryStateJson {
  name: string;
  apps: string[];
}

export interface Revision<S> {
  /** The campaign or category id. */
  id: string;
  revision: number;
  version: number;
  at: Date;
  deleted: boolean;
  state: S;
  actor: string;
  reason: string | null;
}

export type HistoryOf = "campaign" | "category";

const TABLE = {
  campaign: { table: Prisma.raw('"campaign_revision"'), key: Prisma.raw('"campaign_id"') },
  category: { table: Prisma.raw('"category_revision"'), key: Prisma.raw('"category_id"') },
};

/**
 * For each id, up to `first` revisions older than `before` (all when null), newest first. Revisions
 * whose change_log row is gone say `unknown` as their actor.
 */
export async function loadHistory<S>(
  db: Db,
  of: HistoryOf,
  ids: readonly string[],
  first: number,
  before: number | null,
): Promise<Revision<S>[][]> {
  const { table, key } = TABLE[of];
  const rows = await db.$queryRaw<Revision<S>[]>`
    SELECT t.id, r.revision, r.version, r.at, r.deleted, r.state,
           coalesce(l.actor, 'unknown') AS actor, l.reason
    FROM unnest(${[...ids]}::text[]) AS t(id)
    CROSS JOIN LATERAL (
      SELECT * FROM ${table} r WHERE r.${key} = t.id AND r.revision < ${before ?? 2 ** 31 - 1}
      ORDER BY r.revision DESC LIMIT ${first}) r
    LEFT JOIN change_log l ON l.version = r.version
    ORDER BY t.id, r.revision DESC`;
  const byId = new Map<string, Revision<S>[]>();
  for (const row of rows) {
    const list = byId.get(row.id);
    if (list) list.push(row);
    else byId.set(row.id, [row]);
  }
  return ids.map((id) => byId.get(id) ?? []);
}

/** One revision of one campaign, or null; read inside the caller's transaction. */
export async function findCampaignRevision(
  tx: Prisma.TransactionClient,
  id: string,
  revision: number,
): Promise<{ deleted: boolean; state: CampaignStateJson } | null> {
  const [row] = await tx.$queryRaw<{ deleted: boolean; state: CampaignStateJson }[]>`
    SELECT deleted, state FROM campaign_revision WHERE campaign_id = ${id} AND revision = ${revision}`;
  return row ?? null;
}

/** The newest revision history holds of a campaign (its deletion, when it is deleted), or null. */
export async function latestCampaignRevision(tx: Prisma.TransactionClient, id: string): Promise<number | null> {
  const [row] = await tx.$queryRaw<{ revision: number | null }[]>`
    SELECT max(revision) AS revision FROM campaign_revision WHERE campaign_id = ${id}`;
  return row?.revision ?? null;
}
