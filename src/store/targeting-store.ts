// Reads what the delivery index needs from Postgres: everything (for a build) or only what changed
// after a version (for an incremental apply). Each read is one REPEATABLE READ transaction (or one
// statement), so the data and the version it is labelled with always agree. Large reads come in pages
// (keyset paging), so no single result is big enough to hold the event loop while it is converted.
// Value lists travel as JSON, not Postgres arrays: the array parser builds each value character by
// character (a rope), and matching against ropes measured ~10× slower than against JSON's flat strings.

import type { Db } from "../db/client.ts";
import { ShardedMap } from "../delivery/sharded-map.ts";
import { runInSlices, type Steps } from "../delivery/steps.ts";
import type { CampaignDef, CategoryDef, IndexChange } from "../delivery/types.ts";
import { Prisma } from "../generated/prisma/client.ts";
import { chunks, idIn } from "./campaign-writes.ts";

type Tx = Prisma.TransactionClient;

export interface FullIndexData {
  version: number;
  campaigns: CampaignDef[];
  categories: CategoryDef[];
}

export type ChangesSince =
  | { kind: "current"; version: number }
  | { kind: "delta"; change: IndexChange }
  | { kind: "full"; data: FullIndexData };

/** Up to this many changed entities are read in one statement (the common, latency-critical case). */
export const SMALL_DELTA_ITEMS = 500;
// Pages small enough that converting one (pg's row parsing, then Prisma's) takes a few ms even on a
// busy 2-core machine: a replica reads a bulk import while it serves.
const CAMPAIGN_PAGE = 250;
const CATEGORY_APP_PAGE = 5_000;

const DIMENSION_KEYS = { APP: "app", COUNTRY: "country", OS: "os", CATEGORY: "category" } as const;
/** A stored rule: (dimension, mode, value). */
export type RuleTuple = [keyof typeof DIMENSION_KEYS, "INCLUDE" | "EXCLUDE", string];

const snapshotRead = { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead, timeout: 300_000 };

async function currentVersion(tx: Tx): Promise<number> {
  const [row] = await tx.$queryRaw<{ version: number }[]>`SELECT "version" FROM "change_counter" WHERE "id" = 1`;
  return row?.version ?? 0;
}

interface CampaignRow {
  id: string;
  imageUrl: string;
  cta: string;
  status: "ACTIVE" | "PAUSED";
  priority: number;
  startsAt: Date | string | null;
  endsAt: Date | string | null;
  rules: Record<
    "appIn" | "appEx" | "countryIn" | "countryEx" | "osIn" | "osEx" | "categoryIn" | "categoryEx",
    string[]
  >;
}

const toDate = (value: Date | string | null) => (value === null ? null : new Date(value));

function toCampaignDef(row: CampaignRow): CampaignDef {
  const r = row.rules;
  return {
    id: row.id,
    imageUrl: row.imageUrl,
    cta: row.cta,
    status: row.status,
    priority: row.priority,
    startsAt: toDate(row.startsAt),
    endsAt: toDate(row.endsAt),
    include: { app: r.appIn, country: r.countryIn, os: r.osIn, category: r.categoryIn },
    exclude: { app: r.appEx, country: r.countryEx, os: r.osEx, category: r.categoryEx },
  };
}

/** Campaigns, a page at a time: all of them (keyset paging by id), or exactly `ids` (in chunks). */
async function readCampaigns(tx: Tx, ids: string[] | null): Promise<CampaignDef[]> {
  const defs: CampaignDef[] = [];
  if (ids) {
    for (const chunk of chunks(ids, CAMPAIGN_PAGE)) {
      for (const row of await campaignPage(tx, idIn(Prisma.sql`"id"`, chunk), false)) {
        defs.push(toCampaignDef(row));
      }
    }
    return defs;
  }
  let after = "";
  for (;;) {
    const rows = await campaignPage(tx, Prisma.sql`"id" > ${after}`, true);
    for (const row of rows) defs.push(toCampaignDef(row));
    if (rows.length < CAMPAIGN_PAGE) return defs;
    after = (rows.at(-1) as CampaignRow).id;
  }
}

/**
 * The campaigns matching `where`, in id order, with their rules as JSON lists: the first CAMPAIGN_PAGE
 * when `paged` (keyset paging), else all (a list of at most CAMPAIGN_PAGE ids). A list is not limited:
 * `ORDER BY id LIMIT` made the planner walk the whole primary key in order, testing each id against
 * the list (~65 ms a page at 55,000 campaigns, most of the ids deleted), instead of looking them up.
 */
function campaignPage(tx: Tx, where: Prisma.Sql, paged: boolean): Promise<CampaignRow[]> {
  const limit = paged ? Prisma.sql`ORDER BY "id" LIMIT ${CAMPAIGN_PAGE}` : Prisma.empty;
  return tx.$queryRaw<CampaignRow[]>`
      WITH page AS (SELECT * FROM "campaign" WHERE ${where} ${limit})
      SELECT p."id", p."image_url" AS "imageUrl", p."cta", p."status"::text AS "status", p."priority",
        p."starts_at" AS "startsAt", p."ends_at" AS "endsAt", r."rules"
      FROM page p LEFT JOIN LATERAL (
        SELECT json_build_object(
          'appIn', coalesce(json_agg("value") FILTER (WHERE "dimension" = 'APP' AND "mode" = 'INCLUDE'), '[]'),
          'appEx', coalesce(json_agg("value") FILTER (WHERE "dimension" = 'APP' AND "mode" = 'EXCLUDE'), '[]'),
          'countryIn', coalesce(json_agg("value") FILTER (WHERE "dimension" = 'COUNTRY' AND "mode" = 'INCLUDE'), '[]'),
          'countryEx', coalesce(json_agg("value") FILTER (WHERE "dimension" = 'COUNTRY' AND "mode" = 'EXCLUDE'), '[]'),
          'osIn', coalesce(json_agg("value") FILTER (WHERE "dimension" = 'OS' AND "mode" = 'INCLUDE'), '[]'),
          'osEx', coalesce(json_agg("value") FILTER (WHERE "dimension" = 'OS' AND "mode" = 'EXCLUDE'), '[]'),
          'categoryIn', coalesce(json_agg("value") FILTER (WHERE "dimension" = 'CATEGORY' AND "mode" = 'INCLUDE'), '[]'),
          'categoryEx', coalesce(json_agg("value") FILTER (WHERE "dimension" = 'CATEGORY' AND "mode" = 'EXCLUDE'), '[]')
        ) AS "rules"
        FROM "targeting_rule" WHERE "campaign_id" = p."id"
      ) r ON true
      ORDER BY p."id"`;
}

/** Categories with their apps, a page of memberships at a time: all, or exactly `ids`. */
async function readCategories(tx: Tx, ids: string[] | null): Promise<CategoryDef[]> {
  if (ids && ids.length > CAMPAIGN_PAGE) {
    const defs: CategoryDef[] = [];
    for (const chunk of chunks(ids, CAMPAIGN_PAGE)) defs.push(...(await readCategories(tx, chunk)));
    return defs;
  }
  const only = ids ? Prisma.sql`AND ${idIn(Prisma.sql`"id"`, ids)}` : Prisma.empty;
  const existing = await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "category" WHERE true ${only} ORDER BY "id"`;
  const apps = new Map<string, string[]>(existing.map((c) => [c.id, []]));
  const onlyApps = ids ? Prisma.sql`AND ${idIn(Prisma.sql`"category_id"`, ids)}` : Prisma.empty;
  let after = { id: "", app: "" };
  for (;;) {
    const rows = await tx.$queryRaw<{ id: string; apps: string[]; last: string; n: number }[]>`
      SELECT "category_id" AS "id", json_agg("app" ORDER BY "app") AS "apps", max("app") AS "last",
        count(*)::int AS "n"
      FROM (
        SELECT "category_id", "app" FROM "category_app"
        WHERE ("category_id", "app") > (${after.id}, ${after.app}) ${onlyApps}
        ORDER BY "category_id", "app" LIMIT ${CATEGORY_APP_PAGE}
      ) page
      GROUP BY "category_id" ORDER BY "category_id"`;
    let read = 0;
    for (const row of rows) {
      const list = apps.get(row.id);
      if (list) for (const app of row.apps) list.push(app);
      read += row.n;
    }
    if (read < CATEGORY_APP_PAGE) break;
    const last = rows.at(-1) as { id: string; last: string };
    after = { id: last.id, app: last.last };
  }
  return Array.from(apps, ([id, list]) => ({ id, apps: list }));
}

export function loadFullIndexData(db: Db): Promise<FullIndexData> {
  return db.$transaction(async (tx) => {
    const version = await currentVersion(tx);
    const categories = await readCategories(tx, null);
    return { version, categories, campaigns: await readCampaigns(tx, null) };
  }, snapshotRead);
}

interface DeltaRow {
  version: number;
  items: number;
  campaign_ids: string[] | null;
  category_ids: string[] | null;
  campaigns:
    | (Omit<CampaignDef, "include" | "exclude" | "startsAt" | "endsAt"> & {
        startsAt: string | null;
        endsAt: string | null;
        rules: RuleTuple[];
      })[]
    | null;
  categories: CategoryDef[] | null;
}

/**
 * What changed after `since`. Up to SMALL_DELTA_ITEMS changed entities are read in ONE statement (one
 * round trip, one consistent snapshot): this runs on every replica after every change, so its latency
 * is the propagation latency. More are read in pages (largeDelta). A log behind `since` (another
 * database) gives a full read.
 */
export async function loadChangesSince(db: Db, since: number): Promise<ChangesSince> {
  const [row] = await db.$queryRaw<DeltaRow[]>`
    WITH head AS (SELECT "version" FROM "change_counter" WHERE "id" = 1),
    changed AS (
      SELECT "campaign_id", "category_id" FROM "change_log_item"
      WHERE "version" > ${since} AND "version" <= (SELECT "version" FROM head)
      LIMIT ${SMALL_DELTA_ITEMS + 1}
    )
    SELECT
      (SELECT "version" FROM head) AS "version",
      (SELECT count(*)::int FROM changed) AS "items",
      (SELECT json_agg(DISTINCT "campaign_id") FROM changed WHERE "campaign_id" IS NOT NULL) AS "campaign_ids",
      (SELECT json_agg(DISTINCT "category_id") FROM changed WHERE "category_id" IS NOT NULL) AS "category_ids",
      -- A delta too large for this query is read by largeDelta: its rows are not built here at all.
      CASE WHEN (SELECT count(*) FROM changed) <= ${SMALL_DELTA_ITEMS} THEN (SELECT json_agg(json_build_object(
          'id', c."id", 'imageUrl', c."image_url", 'cta', c."cta", 'status', c."status", 'priority', c."priority",
          'startsAt', c."starts_at", 'endsAt', c."ends_at",
          'rules', (SELECT coalesce(json_agg(json_build_array(r."dimension", r."mode", r."value")), '[]'::json)
                    FROM "targeting_rule" r WHERE r."campaign_id" = c."id")))
        FROM "campaign" c WHERE c."id" IN (SELECT "campaign_id" FROM changed)) END AS "campaigns",
      CASE WHEN (SELECT count(*) FROM changed) <= ${SMALL_DELTA_ITEMS} THEN (SELECT json_agg(json_build_object(
          'id', k."id",
          'apps', (SELECT coalesce(json_agg(a."app"), '[]'::json) FROM "category_app" a WHERE a."category_id" = k."id")))
        FROM "category" k WHERE k."id" IN (SELECT "category_id" FROM changed)) END AS "categories"`;
  const version = row?.version ?? 0;
  if (version === since) return { kind: "current", version };
  if (!row || version < since) return { kind: "full", data: await loadFullIndexData(db) };
  if (row.items > SMALL_DELTA_ITEMS) return largeDelta(db, since);

  const campaigns = new Map<string, CampaignDef | null>((row.campaign_ids ?? []).map((id) => [id, null]));
  for (const c of row.campaigns ?? []) campaigns.set(c.id, fromRuleTuples(c));
  const categories = new Map<string, CategoryDef | null>((row.category_ids ?? []).map((id) => [id, null]));
  for (const category of row.categories ?? []) categories.set(category.id, category);
  return { kind: "delta", change: { version, campaigns, categories } };
}

function fromRuleTuples(c: NonNullable<DeltaRow["campaigns"]>[number]): CampaignDef {
  const { rules, startsAt, endsAt, ...fields } = c;
  return { ...fields, startsAt: toDate(startsAt), endsAt: toDate(endsAt), ...targetingOf(rules) };
}

/** A campaign's include and exclude lists, as the index takes them, from its rules as stored. */
export function targetingOf(rules: Iterable<Readonly<RuleTuple>>): Pick<CampaignDef, "include" | "exclude"> {
  const include: Record<keyof CampaignDef["include"], string[]> = { app: [], country: [], os: [], category: [] };
  const exclude: Record<keyof CampaignDef["exclude"], string[]> = { app: [], country: [], os: [], category: [] };
  for (const [dimension, mode, value] of rules)
    (mode === "INCLUDE" ? include : exclude)[DIMENSION_KEYS[dimension]].push(value);
  return { include, exclude };
}

/**
 * Each changed id → its state as read (null: deleted), in steps: a map of 20,000 ids built at once held
 * a replica's event loop ~10 ms, and a plain Map's growth rehashes all its keys in one call.
 */
function* changedById<V extends { id: string }>(
  ids: readonly string[],
  read: readonly V[],
): Steps<ShardedMap<V | null>> {
  const byId = new ShardedMap<V | null>();
  for (let i = 0; i < ids.length; i++) {
    byId.set(ids[i] as string, null);
    if (i % 1_024 === 1_023) yield;
  }
  for (let i = 0; i < read.length; i++) {
    const def = read[i] as V;
    byId.set(def.id, def);
    if (i % 1_024 === 1_023) yield;
  }
  return byId;
}

/** A delta of any size: the changed ids, then their current state, in pages, in one transaction. */
function largeDelta(db: Db, since: number): Promise<ChangesSince> {
  return db.$transaction(async (tx): Promise<ChangesSince> => {
    const version = await currentVersion(tx);
    // JSON, not Postgres arrays (see the top of this file): parsing a 2,000-id array cost ~14 ms.
    const [ids] = await tx.$queryRaw<{ campaigns: string[] | null; categories: string[] | null }[]>`
      SELECT json_agg(DISTINCT "campaign_id") FILTER (WHERE "campaign_id" IS NOT NULL) AS "campaigns",
             json_agg(DISTINCT "category_id") FILTER (WHERE "category_id" IS NOT NULL) AS "categories"
      FROM "change_log_item" WHERE "version" > ${since} AND "version" <= ${version}`;
    const campaignIds = ids?.campaigns ?? [];
    const categoryIds = ids?.categories ?? [];
    const campaignDefs = campaignIds.length ? await readCampaigns(tx, campaignIds) : [];
    const campaigns = await runInSlices(changedById(campaignIds, campaignDefs));
    const categoryDefs = categoryIds.length ? await readCategories(tx, categoryIds) : [];
    const categories = await runInSlices(changedById(categoryIds, categoryDefs));
    return { kind: "delta", change: { version, campaigns, categories } };
  }, snapshotRead);
}
