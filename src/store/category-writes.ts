// A category's app set, written inside the caller's transaction in bounded statements (see
// campaign-writes.ts for why statements stay small).
import { runInSlices, type Steps } from "../delivery/steps.ts";
import { Prisma } from "../generated/prisma/client.ts";
import { type CampaignRow, chunks, idIn } from "./campaign-writes.ts";

const APPS_PER_STATEMENT = 1_000;
const CAMPAIGNS_PER_READ = 1_000;
const STORED_APPS_PAGE = 5_000;

/**
 * Makes the category's stored apps exactly `apps` (distinct): the apps no longer listed are deleted,
 * the new ones inserted, and the rest are not touched — a nightly re-send of a 10,000-app category
 * deleted and inserted all 10,000 rows before. The caller holds the category's row lock (its upsert),
 * so concurrent upserts of one category take turns and each reads the other's result.
 */
export async function replaceCategoryApps(tx: Prisma.TransactionClient, id: string, apps: readonly string[]) {
  const { removed, added } = await runInSlices(difference(await storedApps(tx, id), apps));
  for (const part of chunks(removed, APPS_PER_STATEMENT)) {
    await tx.$executeRaw`DELETE FROM category_app WHERE category_id = ${id} AND ${idIn(Prisma.sql`app`, part)}`;
  }
  await insertApps(tx, id, added);
}

const DIFF_STEP = 256;

/** What to delete and insert to turn `stored` into `wanted`, in steps (10,000 apps took ~10 ms in one turn). */
function* difference(
  stored: readonly string[],
  wanted: readonly string[],
): Steps<{ removed: string[]; added: string[] }> {
  const wantedSet = new Set<string>();
  const storedSet = new Set<string>();
  for (let i = 0; i < wanted.length; i++) {
    wantedSet.add(wanted[i] as string);
    if (i % DIFF_STEP === 0) yield;
  }
  const removed: string[] = [];
  for (let i = 0; i < stored.length; i++) {
    const app = stored[i] as string;
    storedSet.add(app);
    if (!wantedSet.has(app)) removed.push(app);
    if (i % DIFF_STEP === 0) yield;
  }
  const added: string[] = [];
  for (let i = 0; i < wanted.length; i++) {
    const app = wanted[i] as string;
    if (!storedSet.has(app)) added.push(app);
    if (i % DIFF_STEP === 0) yield;
  }
  return { removed, added };
}

async function insertApps(tx: Prisma.TransactionClient, id: string, apps: readonly string[]) {
  for (const part of chunks(apps, APPS_PER_STATEMENT)) {
    await tx.$executeRaw`
      INSERT INTO category_app (category_id, app)
      SELECT ${id}, json_array_elements_text(${JSON.stringify(part)}::json)`;
  }
}

/** The category's apps as stored, a page at a time (keyset on the primary key). */
async function storedApps(tx: Prisma.TransactionClient, id: string): Promise<string[]> {
  const apps: string[] = [];
  let after = "";
  for (;;) {
    const [page] = await tx.$queryRaw<{ apps: string[] | null }[]>`
      SELECT json_agg(app ORDER BY app) AS apps FROM (
        SELECT app FROM category_app WHERE category_id = ${id} AND app > ${after} ORDER BY app LIMIT ${STORED_APPS_PAGE}
      ) page`;
    const list = page?.apps ?? [];
    for (const app of list) apps.push(app);
    if (list.length < STORED_APPS_PAGE) return apps;
    after = list.at(-1) as string;
  }
}

const CATEGORIES_PER_STATEMENT = 1_000;

/** Creates categories with their apps (a seed's: none of them exists yet). */
export async function insertCategories(
  tx: Prisma.TransactionClient,
  categories: readonly { id: string; name: string; apps: readonly string[] }[],
) {
  for (const part of chunks(categories, CATEGORIES_PER_STATEMENT)) {
    const rows = JSON.stringify(part.map(({ id, name }) => ({ id, name })));
    await tx.$executeRaw`
      INSERT INTO category (id, name) SELECT "id", "name" FROM json_to_recordset(${rows}::json) AS x("id" text, "name" text)`;
  }
  for (const { id, apps } of categories) await insertApps(tx, id, apps);
}

/**
 * Deletes the category and every targeting rule naming it; the campaigns that named it get a new
 * revision. Returns those campaigns as the transaction leaves them (their row locks are held, so this is
 * what commits), or null when there is no such category.
 */
export async function deleteCategoryAndRules(tx: Prisma.TransactionClient, id: string): Promise<CampaignRow[] | null> {
  // Campaign rows first: every writer locks campaigns before anything else, so no lock cycles.
  const naming = await tx.campaign.updateManyAndReturn({
    where: { rules: { some: { dimension: "CATEGORY", value: id } } },
    data: { revision: { increment: 1 } },
    select: { id: true },
  });
  await tx.targetingRule.deleteMany({ where: { dimension: "CATEGORY", value: id } });
  const { count } = await tx.category.deleteMany({ where: { id } });
  if (count === 0) return null;
  const ids = naming.map((campaign) => campaign.id);
  const rows: CampaignRow[] = [];
  for (const part of chunks(ids, CAMPAIGNS_PER_READ)) {
    rows.push(
      ...(await tx.campaign.findMany({
        where: { id: { in: part } },
        select: {
          id: true,
          name: true,
          imageUrl: true,
          cta: true,
          status: true,
          priority: true,
          startsAt: true,
          endsAt: true,
          rules: { select: { dimension: true, mode: true, value: true } },
        },
      })),
    );
  }
  return rows;
}
