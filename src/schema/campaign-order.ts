// CampaignOrder (docs/CONTRACT.md §4) and the opaque cursors of campaignsPage: each order is a total order
// (its key, then id), and a cursor is the last node's position in it, so the next page starts right
// after that node (keyset paging: no OFFSET, as fast on page 1,000 as on page 1).
import type { Prisma } from "../generated/prisma/client.ts";
import { builder } from "./builder.ts";
import { badUserInput } from "./errors.ts";

export const ORDERS = ["ID", "PRIORITY", "SERVED_LAST_HOUR", "UPDATED_AT"] as const;
export type Order = (typeof ORDERS)[number];

export const CampaignOrder = builder.enumType("CampaignOrder", {
  values: {
    ID: { description: "Id ascending" },
    PRIORITY: { description: "Priority descending, then id ascending (the order delivery serves in)" },
    SERVED_LAST_HOUR: {
      description:
        "Deliveries in the last hour (Campaign.stats.servedLastHour) descending, then id ascending; " +
        "UNAVAILABLE while the stats store cannot be read",
    },
    UPDATED_AT: { description: "Most recently changed first, then id ascending" },
  } as const,
});

/** A node's position in its order: the order's key (number; a time as epoch ms) and its id. */
export interface Position {
  key: number;
  id: string;
}

export function encodeCursor(order: Order, position: Position): string {
  return Buffer.from(JSON.stringify([order, position.key, position.id])).toString("base64url");
}

/** The position a cursor names, or BAD_USER_INPUT when it is not a cursor of this order. */
export function decodeCursor(order: Order, cursor: string): Position {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(parsed) && parsed.length === 3) {
      const [of, key, id] = parsed as unknown[];
      if (of === order && typeof key === "number" && Number.isFinite(key) && typeof id === "string") return { key, id };
    }
  } catch {}
  throw badUserInput({ after: `must be an endCursor of a campaignsPage ordered by ${order}` });
}

interface KeysetOrder {
  orderBy: Prisma.CampaignOrderByWithRelationInput[];
  key: (row: { priority: number; updatedAt: Date }) => number;
  after: (position: Position) => Prisma.CampaignWhereInput;
}

/** The orders Postgres sorts itself (indexes in the campaign_list_orders migration). */
export const KEYSET: Record<Exclude<Order, "SERVED_LAST_HOUR">, KeysetOrder> = {
  ID: {
    orderBy: [{ id: "asc" }],
    key: () => 0,
    after: ({ id }) => ({ id: { gt: id } }),
  },
  PRIORITY: {
    orderBy: [{ priority: "desc" }, { id: "asc" }],
    key: (row) => row.priority,
    after: ({ key, id }) => ({ OR: [{ priority: { lt: key } }, { priority: key, id: { gt: id } }] }),
  },
  UPDATED_AT: {
    orderBy: [{ updatedAt: "desc" }, { id: "asc" }],
    key: (row) => row.updatedAt.getTime(),
    after: ({ key, id }) => {
      const at = new Date(key);
      return { OR: [{ updatedAt: { lt: at } }, { updatedAt: at, id: { gt: id } }] };
    },
  },
};
