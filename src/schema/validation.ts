// Input validation for the GraphQL API (docs/CONTRACT.md §2), in one place: zod schemas that check and
// normalise, and validate* functions that report every bad field at once as BAD_USER_INPUT
// (`extensions.fields`: input path → message). Values are normalised with the same functions the
// delivery path uses, so a rule written "Canada" is stored as "CA" and matches a device sending "ca".
import { z } from "zod";
import { normalizeApp, normalizeCountry, normalizeOs, SLUG } from "../delivery/normalize.ts";
import { runInSlices, type Steps } from "../delivery/steps.ts";
import type { CampaignStatus } from "../generated/prisma/enums.ts";
import type { CampaignRow, RuleRow } from "../store/campaign-writes.ts";
import { badUserInput, type FieldErrors } from "./errors.ts";

export const MAX_LIST_VALUES = 10_000;
export const MAX_IMPORT_CAMPAIGNS = 50_000;
/** A category's apps (bulk writes and index applies are bounded per step, so large sets are fine). */
export const MAX_CATEGORY_APPS = 100_000;

/** Campaign and category ids: trimmed, lower-cased, then `[a-z0-9][a-z0-9._-]*`, 1–64 chars. */
export function normalizeId(raw: string): string | undefined {
  const value = raw.trim().toLowerCase();
  return SLUG.test(value) ? value : undefined;
}

const normalized = (normalize: (raw: string) => string | undefined, message: string) =>
  z.string().transform((raw, ctx) => {
    const value = normalize(raw);
    if (value === undefined) {
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    }
    return value;
  });

const notNull = (what: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === null ? "cannot be null" : `must be ${what}`),
});

export const idSchema = normalized(
  normalizeId,
  "must be 1–64 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit",
);
// Postgres text cannot hold U+0000: refused here as the field's error, not failed later in the INSERT.
const NO_NUL = [(value: string) => !value.includes("\u0000"), "must not contain the NUL character (U+0000)"] as const;
const text = (max: number) =>
  z
    .string(notNull("a string"))
    .trim()
    .min(1, `must be 1–${max} characters`)
    .max(max, `must be 1–${max} characters`)
    .refine(...NO_NUL);
const httpUrl = z
  .string(notNull("a string"))
  .trim()
  .max(2048, "must be at most 2048 characters")
  .refine(...NO_NUL)
  .refine((value) => {
    try {
      const url = new URL(value);
      return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
    } catch {
      return false;
    }
  }, "must be an absolute http or https URL");
const status = z.enum(["ACTIVE", "PAUSED"], notNull("ACTIVE or PAUSED"));
const priority = z
  .number(notNull("an integer"))
  .int("must be an integer")
  .min(0, "must be 0–1000")
  .max(1000, "must be 0–1000");
const instant = z.date({ error: "must be an ISO 8601 instant with offset, e.g. 2026-05-01T00:00:00Z" });

const DIMENSION_FIELDS = [
  ["apps", "APP", normalized(normalizeApp, "must be an app id: 1–255 printable characters without spaces")],
  ["countries", "COUNTRY", normalized(normalizeCountry, "must be an ISO 3166-1 alpha-2 code or English country name")],
  ["os", "OS", normalized(normalizeOs, "must be an os token: 1–32 characters of a-z, 0-9, '.', '_', '-'")],
  // Categories named by rules need not exist (yet): a rule may be written before its category, and a
  // category deleted later takes its rules with it. They must be valid category ids.
  ["categories", "CATEGORY", normalized(normalizeId, "must be a category id")],
] as const;

const valueList = <T extends z.ZodType<string, string>>(item: T) =>
  z.array(item).max(MAX_LIST_VALUES, `at most ${MAX_LIST_VALUES} values`).nullish();

const dimensionValues = z
  .object({
    apps: valueList(DIMENSION_FIELDS[0][2]),
    countries: valueList(DIMENSION_FIELDS[1][2]),
    os: valueList(DIMENSION_FIELDS[2][2]),
    categories: valueList(DIMENSION_FIELDS[3][2]),
  })
  .nullish();

export type RuleData = RuleRow;

const targeting = z
  .object({ include: dimensionValues, exclude: dimensionValues }, notNull("an object (use {} to remove all rules)"))
  .transform((input): RuleData[] => {
    const rules: RuleData[] = [];
    for (const [mode, values] of [
      ["INCLUDE", input.include],
      ["EXCLUDE", input.exclude],
    ] as const) {
      for (const [field, dimension] of DIMENSION_FIELDS) {
        // Distinct after normalisation: "US" and "us" are one rule.
        for (const value of new Set(values?.[field] ?? [])) rules.push({ dimension, mode, value });
      }
    }
    return rules;
  });

export type CampaignData = CampaignRow;

const createCampaign = z
  .object({
    id: idSchema,
    name: text(200),
    imageUrl: httpUrl,
    cta: text(50),
    status: status.nullish(),
    priority: priority.nullish(),
    startsAt: instant.nullish(),
    endsAt: instant.nullish(),
    targeting: targeting.nullish(),
  })
  .transform(
    (input): CampaignData => ({
      id: input.id,
      name: input.name,
      imageUrl: input.imageUrl,
      cta: input.cta,
      status: input.status ?? "ACTIVE",
      priority: input.priority ?? 0,
      startsAt: input.startsAt ?? null,
      endsAt: input.endsAt ?? null,
      rules: input.targeting ?? [],
    }),
  );

/** Absent = keep; `startsAt`/`endsAt` null = clear; `rules` present = replace all rules. */
export interface CampaignPatch {
  name?: string;
  imageUrl?: string;
  cta?: string;
  status?: CampaignStatus;
  priority?: number;
  startsAt?: Date | null;
  endsAt?: Date | null;
  rules?: RuleData[];
  expectedRevision?: number;
}

const updateCampaign = z.object({
  name: text(200).optional(),
  imageUrl: httpUrl.optional(),
  cta: text(50).optional(),
  status: status.optional(),
  priority: priority.optional(),
  startsAt: instant.nullish(),
  endsAt: instant.nullish(),
  targeting: targeting.optional(),
  expectedRevision: z.number().int().min(1, "must be a revision (≥ 1)").nullish(),
});

export interface CategoryData {
  id: string;
  name: string;
  apps: string[];
}

// A category's apps are checked apart from its other fields, in slices (see validateCategory).
const categoryFields = z.object({ id: idSchema, name: text(200) });
const appsField = z.object({
  apps: z.array(z.unknown()).max(MAX_CATEGORY_APPS, `at most ${MAX_CATEGORY_APPS} values`),
});
const appList = z.array(DIMENSION_FIELDS[0][2]);
const APPS_PER_STEP = 1_000;

function issuesToFields(error: z.ZodError, prefix: string, into: FieldErrors): void {
  for (const issue of error.issues) {
    const key = [prefix, ...issue.path.map(String)].filter((p) => p !== "").join(".");
    into[key] ??= issue.message;
  }
}

/** Parses with `schema`; problems are added to `fields` under `prefix` (result then undefined). */
function check<T>(schema: z.ZodType<T>, input: unknown, prefix: string, fields: FieldErrors): T | undefined {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  issuesToFields(result.error, prefix, fields);
  return undefined;
}

/** Throws BAD_USER_INPUT naming every bad field, if there is any. */
function assertValid(fields: FieldErrors): void {
  if (Object.keys(fields).length > 0) throw badUserInput(fields);
}

/** endsAt > startsAt when both are given (an update checks the stored values too, in its transaction). */
function flightProblems(input: unknown, prefix: string, fields: FieldErrors): void {
  const { startsAt, endsAt } = (input ?? {}) as { startsAt?: unknown; endsAt?: unknown };
  if (startsAt instanceof Date && endsAt instanceof Date && endsAt.getTime() <= startsAt.getTime()) {
    fields[prefix ? `${prefix}.endsAt` : "endsAt"] ??= "must be after startsAt";
  }
}

export function validateCreateCampaign(input: unknown, prefix = "input"): CampaignData {
  const fields: FieldErrors = {};
  const data = check(createCampaign, input, prefix, fields);
  flightProblems(input, prefix, fields);
  assertValid(fields);
  return data as CampaignData;
}

export function validateUpdateCampaign(rawId: string, input: unknown): { id: string; patch: CampaignPatch } {
  const fields: FieldErrors = {};
  const id = check(idSchema, rawId, "id", fields);
  const data = check(updateCampaign, input, "input", fields);
  flightProblems(input, "input", fields);
  assertValid(fields);
  const { targeting: rules, expectedRevision, ...rest } = data as z.infer<typeof updateCampaign>;
  return { id: id as string, patch: { ...rest, rules, expectedRevision: expectedRevision ?? undefined } };
}

/**
 * Validated in time slices (steps.ts): an import of 20,000 campaigns never holds the event loop for long.
 * `onBatch` gets the valid campaigns `batchSize` at a time while the rest is still being checked (none
 * more once one item failed), so they can be written meanwhile; the result, or BAD_USER_INPUT naming every
 * bad item and field, comes when all were checked.
 */
export function validateImport(
  campaigns: readonly unknown[],
  onBatch?: (batch: CampaignData[]) => void,
  batchSize = 200,
): Promise<CampaignData[]> {
  return runInSlices(importSteps(campaigns, onBatch, batchSize));
}

function* importSteps(
  campaigns: readonly unknown[],
  onBatch: ((batch: CampaignData[]) => void) | undefined,
  batchSize: number,
): Steps<CampaignData[]> {
  const fields: FieldErrors = {};
  if (campaigns.length === 0) fields.campaigns = "must hold at least one campaign";
  if (campaigns.length > MAX_IMPORT_CAMPAIGNS) {
    fields.campaigns = `at most ${MAX_IMPORT_CAMPAIGNS} campaigns per import`;
    assertValid(fields);
  }
  const data: CampaignData[] = [];
  const seen = new Map<string, number>();
  let handedOver = 0;
  const valid = () => Object.keys(fields).length === 0;
  for (let i = 0; i < campaigns.length; i++) {
    if (i > 0) yield;
    const campaign = campaigns[i];
    const parsed = check(createCampaign, campaign, `campaigns.${i}`, fields);
    if (parsed) data.push(parsed as CampaignData);
    flightProblems(campaign, `campaigns.${i}`, fields);
    const raw = (campaign as { id?: unknown }).id;
    const id = typeof raw === "string" ? normalizeId(raw) : undefined;
    if (id !== undefined) {
      const first = seen.get(id);
      if (first === undefined) seen.set(id, i);
      else fields[`campaigns.${i}.id`] ??= `duplicate of campaigns.${first}.id`;
    }
    if (onBatch && data.length - handedOver >= batchSize && valid()) {
      onBatch(data.slice(handedOver));
      handedOver = data.length;
    }
  }
  assertValid(fields);
  if (onBatch && data.length > handedOver) onBatch(data.slice(handedOver));
  return data;
}

/** Validated in time slices: a category of 100,000 apps never holds the event loop for long. */
export function validateCategory(input: unknown): Promise<CategoryData> {
  return runInSlices(categorySteps(input));
}

function* categorySteps(input: unknown): Steps<CategoryData> {
  const fields: FieldErrors = {};
  const head = check(categoryFields, input, "input", fields);
  const list = check(appsField, input, "input", fields)?.apps ?? [];
  const apps = new Set<string>();
  for (let start = 0; start < list.length; start += APPS_PER_STEP) {
    yield;
    const result = appList.safeParse(list.slice(start, start + APPS_PER_STEP));
    if (result.success) for (const app of result.data) apps.add(app);
    else
      for (const issue of result.error.issues) {
        const [index, ...rest] = issue.path;
        fields[["input", "apps", start + Number(index), ...rest.map(String)].join(".")] ??= issue.message;
      }
  }
  assertValid(fields);
  const { id, name } = head as z.infer<typeof categoryFields>;
  return { id, name, apps: [...apps] };
}

/** An id argument of a mutation, normalised, or BAD_USER_INPUT. */
export function validateId(raw: string, path = "id"): string {
  const fields: FieldErrors = {};
  const id = check(idSchema, raw, path, fields);
  assertValid(fields);
  return id as string;
}

/** A paging cursor (any string the database can compare: no U+0000), or BAD_USER_INPUT. */
export function validateCursor(raw: string, path: string): string {
  if (NO_NUL[0](raw)) return raw;
  throw badUserInput({ [path]: NO_NUL[1] });
}

/** Integer arguments, each within its [min, max], or BAD_USER_INPUT naming every one out of range. */
export function validateIntArgs<K extends string>(
  args: Record<K, [value: number, min: number, max: number]>,
): Record<K, number> {
  const fields: FieldErrors = {};
  const out = {} as Record<K, number>;
  for (const [name, [value, min, max]] of Object.entries(args) as [K, [number, number, number]][]) {
    const message = `must be ${min}–${max}`;
    out[name] = check(z.number().int(message).min(min, message).max(max, message), value, name, fields) as number;
  }
  assertValid(fields);
  return out;
}

export const MAX_REASON_LENGTH = 1_000;
export const REASON_DESCRIPTION = `Why: recorded with the actor in the audit trail (at most ${MAX_REASON_LENGTH.toLocaleString("en")} characters)`;

/** A mutation's `reason`: trimmed; empty or absent → null. */
export function validateReason(raw: string | null | undefined, path = "reason"): string | null {
  if (raw == null) return null;
  const value = raw.trim();
  if (value.length > MAX_REASON_LENGTH)
    throw badUserInput({ [path]: `must be at most ${MAX_REASON_LENGTH} characters` });
  if (!NO_NUL[0](value)) throw badUserInput({ [path]: NO_NUL[1] });
  return value === "" ? null : value;
}

/** Draft targeting and flight (forecasts): normalised like a campaign's, nothing stored. */
export function validateTargetingDraft(input: { targeting: unknown; startsAt?: unknown; endsAt?: unknown }): {
  rules: RuleData[];
  startsAt: Date | null;
  endsAt: Date | null;
} {
  const fields: FieldErrors = {};
  const rules = check(targeting, input.targeting, "targeting", fields);
  const startsAt = check(instant.nullish(), input.startsAt, "startsAt", fields);
  const endsAt = check(instant.nullish(), input.endsAt, "endsAt", fields);
  flightProblems(input, "", fields);
  assertValid(fields);
  return { rules: rules as RuleData[], startsAt: startsAt ?? null, endsAt: endsAt ?? null };
}
