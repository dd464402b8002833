// CampaignFilter (docs/CONTRACT.md §4): the input type, its validation (values normalised like rules are, so
// `targets: { countries: ["Canada"] }` finds rules stored as "CA"), and the Prisma `where` it means.
import { normalizeApp, normalizeCountry, normalizeOs } from "../delivery/normalize.ts";
import type { Prisma } from "../generated/prisma/client.ts";
import type { CampaignStatus as CampaignStatusValue, Dimension } from "../generated/prisma/enums.ts";
import { builder } from "./builder.ts";
import { CampaignStatus } from "./campaign.ts";
import type { FieldErrors } from "./errors.ts";
import { DimensionValuesInput } from "./targeting.ts";
import { normalizeId } from "./validation.ts";

export const MAX_SEARCH_LENGTH = 200;
export const MAX_FILTER_VALUES = 500;

export const CampaignFilter = builder.inputType("CampaignFilter", {
  description: "Every given condition must hold",
  fields: (t) => ({
    search: t.string({ description: "Part of the id or the name, case-insensitive" }),
    status: t.field({ type: CampaignStatus }),
    live: t.boolean({
      description: "true: ACTIVE and within its flight now (what delivery may serve); false: the others",
    }),
    targets: t.field({
      type: DimensionValuesInput,
      description:
        "Campaigns whose include rules name one of the given values, for every dimension given " +
        `(values normalised like rules; at most ${MAX_FILTER_VALUES} per dimension)`,
    }),
    ids: t.idList({ description: `Only these campaigns (at most ${MAX_FILTER_VALUES})` }),
  }),
});

type FilterInput = typeof CampaignFilter.$inferInput;

export interface ValidFilter {
  search?: string;
  status?: CampaignStatusValue;
  live?: boolean;
  targets: { dimension: Dimension; values: string[] }[];
  ids?: string[];
}

const TARGET_FIELDS = [
  ["apps", "APP", normalizeApp, "must be an app id"],
  ["countries", "COUNTRY", normalizeCountry, "must be an ISO 3166-1 alpha-2 code or English country name"],
  ["os", "OS", normalizeOs, "must be an os token"],
  ["categories", "CATEGORY", normalizeId, "must be a category id"],
] as const;

/** The filter normalised; problems are added to `fields` under `filter.…`. */
export function validateFilter(input: FilterInput | null | undefined, fields: FieldErrors): ValidFilter {
  const filter: ValidFilter = { targets: [] };
  if (!input) return filter;
  const search = input.search?.trim();
  if (search) {
    if (search.length > MAX_SEARCH_LENGTH) fields["filter.search"] = `must be at most ${MAX_SEARCH_LENGTH} characters`;
    else if (search.includes("\u0000")) fields["filter.search"] = "must not contain the NUL character (U+0000)";
    else filter.search = search.toLowerCase();
  }
  if (input.status) filter.status = input.status;
  if (input.live !== null && input.live !== undefined) filter.live = input.live;
  for (const [field, dimension, normalize, message] of TARGET_FIELDS) {
    const raw = input.targets?.[field];
    if (!raw) continue;
    const values = new Set<string>();
    if (raw.length > MAX_FILTER_VALUES) fields[`filter.targets.${field}`] = `at most ${MAX_FILTER_VALUES} values`;
    raw.slice(0, MAX_FILTER_VALUES).forEach((value, i) => {
      const normalized = normalize(value);
      if (normalized === undefined) fields[`filter.targets.${field}.${i}`] = message;
      else values.add(normalized);
    });
    if (values.size > 0) filter.targets.push({ dimension, values: [...values] });
  }
  if (input.ids) {
    if (input.ids.length > MAX_FILTER_VALUES) fields["filter.ids"] = `at most ${MAX_FILTER_VALUES} ids`;
    // An id that cannot exist matches nothing; it is not an error.
    filter.ids = input.ids.flatMap((id) => normalizeId(id) ?? []);
  }
  return filter;
}

/** LIKE pattern for "contains": Prisma passes `contains` to LIKE/ILIKE without escaping `%`, `_`, `\`. */
const containing = (text: string) => text.replace(/[\\%_]/g, "\\$&");

/** ACTIVE and within [startsAt, endsAt) at `now`: what the delivery index may serve. */
export function liveWhere(now: Date): Prisma.CampaignWhereInput {
  return {
    status: "ACTIVE",
    AND: [
      { OR: [{ startsAt: null }, { startsAt: { lte: now } }] },
      { OR: [{ endsAt: null }, { endsAt: { gt: now } }] },
    ],
  };
}

export function filterWhere(filter: ValidFilter, now: Date): Prisma.CampaignWhereInput {
  const and: Prisma.CampaignWhereInput[] = [];
  if (filter.search !== undefined) {
    const pattern = containing(filter.search);
    // Ids are stored lower-case, so a plain LIKE on them is case-insensitive already.
    and.push({ OR: [{ id: { contains: pattern } }, { name: { contains: pattern, mode: "insensitive" } }] });
  }
  if (filter.status) and.push({ status: filter.status });
  if (filter.live === true) and.push(liveWhere(now));
  if (filter.live === false) and.push({ NOT: liveWhere(now) });
  for (const { dimension, values } of filter.targets) {
    and.push({ rules: { some: { mode: "INCLUDE", dimension, value: { in: values } } } });
  }
  if (filter.ids) and.push({ id: { in: filter.ids } });
  return and.length ? { AND: and } : {};
}
