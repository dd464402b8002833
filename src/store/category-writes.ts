// A category's app set, written inside the caller's transaction in bounded statements (see
// campaign-writes.ts for why statements stay small).
import { Prisma } from "../generated/prisma/client.ts";
import { chunks, idIn } from "./campaign-writes.ts";

const APPS_PER_STATEMENT = 1_000;
const STORED_APPS_PAGE = 5_000;

/**
 * Makes the category's stored apps exactly `apps` (distinct): the apps no longer listed are deleted,
 * the new ones inserted, and the rest are not touched — a nightly re-send of a 10,000-app category
 * deleted and inserted all 10,000 rows before. The caller holds the category's row lock (its upsert),
 * so concurrent upserts of one category take turns and each reads the other's result.
 */
export async function replaceCategoryApps(tx: Prisma.TransactionClient, id: string, apps: readonly string[]) {
  const stored = await storedApps(tx, id);
  const wanted = new Set(apps);
  const removed = stored.filter((app) => !wanted.has(app));
  const storedSet = new Set(stored);
  const added = apps.filter((app) => !storedSet.has(app));
  for (const part of chunks(removed, APPS_PER_STATEMENT)) {
    await tx.$executeRaw`DELETE FROM category_app WHERE category_id = ${id} AND ${idIn(Prisma.sql`app`, part)}`;
  }
  await insertApps(tx, id, added);
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
