// A category's app set, written whole inside the caller's transaction: the old set deleted, the new
// one inserted in bounded statements (see campaign-writes.ts for why statements stay small).
import type { Prisma } from "../generated/prisma/client.ts";
import { chunks } from "./campaign-writes.ts";

const APPS_PER_STATEMENT = 1_000;

export async function replaceCategoryApps(tx: Prisma.TransactionClient, id: string, apps: readonly string[]) {
  await tx.$executeRaw`DELETE FROM category_app WHERE category_id = ${id}`;
  for (const part of chunks(apps, APPS_PER_STATEMENT)) {
    await tx.$executeRaw`
      INSERT INTO category_app (category_id, app)
      SELECT ${id}, json_array_elements_text(${JSON.stringify(part)}::json)`;
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
  for (const { id, apps } of categories) await replaceCategoryApps(tx, id, apps);
}
