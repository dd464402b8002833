// Targeting as GraphQL shows it (include/exclude × four dimensions) and its input types; rules are
// stored one row per value (TargetingRule).
import type { Dimension, RuleMode } from "../generated/prisma/enums.ts";
import { builder } from "./builder.ts";

export interface DimensionValuesShape {
  apps: string[];
  countries: string[];
  os: string[];
  categories: string[];
}

export interface TargetingShape {
  include: DimensionValuesShape;
  exclude: DimensionValuesShape;
}

const FIELD_OF: Record<Dimension, keyof DimensionValuesShape> = {
  APP: "apps",
  COUNTRY: "countries",
  OS: "os",
  CATEGORY: "categories",
};

const empty = (): DimensionValuesShape => ({ apps: [], countries: [], os: [], categories: [] });

export function toTargeting(rules: readonly { dimension: Dimension; mode: RuleMode; value: string }[]): TargetingShape {
  const targeting = { include: empty(), exclude: empty() };
  for (const rule of rules) {
    targeting[rule.mode === "INCLUDE" ? "include" : "exclude"][FIELD_OF[rule.dimension]].push(rule.value);
  }
  for (const values of [targeting.include, targeting.exclude]) {
    for (const list of Object.values(values)) list.sort();
  }
  return targeting;
}

export const DimensionValues = builder.objectRef<DimensionValuesShape>("DimensionValues").implement({
  description: "Normalised values per dimension: apps and os lower-case, countries ISO 3166-1 alpha-2",
  fields: (t) => ({
    apps: t.exposeStringList("apps"),
    countries: t.exposeStringList("countries"),
    os: t.exposeStringList("os"),
    categories: t.exposeStringList("categories"),
  }),
});

export const Targeting = builder.objectRef<TargetingShape>("Targeting").implement({
  fields: (t) => ({
    include: t.expose("include", { type: DimensionValues }),
    exclude: t.expose("exclude", { type: DimensionValues }),
  }),
});

export const DimensionValuesInput = builder.inputType("DimensionValuesInput", {
  description: `Each list at most 10,000 values; values are trimmed and normalised ("Canada" → "CA")`,
  fields: (t) => ({
    apps: t.stringList(),
    countries: t.stringList(),
    os: t.stringList(),
    categories: t.stringList(),
  }),
});

export const TargetingInput = builder.inputType("TargetingInput", {
  fields: (t) => ({
    include: t.field({ type: DimensionValuesInput }),
    exclude: t.field({ type: DimensionValuesInput }),
  }),
});
