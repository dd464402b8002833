// The fast coercion of large mutation variables must be graphql-js's coercion, or nothing: for any
// value, well-formed or not, it either declines (graphql-js then coerces and reports) or gives exactly
// what graphql-js gives — and it never accepts what graphql-js rejects.
import fc from "fast-check";
import {
  buildSchema,
  coerceInputValue,
  type GraphQLInputType,
  GraphQLList,
  GraphQLNonNull,
  isInputType,
} from "graphql";
import { describe, expect, it } from "vitest";
import { coerceFast } from "../../src/schema/fast-coercion.ts";
import { schema } from "../../src/schema/index.ts";

function graphqlJs(value: unknown, type: GraphQLInputType): { ok: boolean; value: unknown } {
  let ok = true;
  const coerced = coerceInputValue(value, type, () => {
    ok = false;
  });
  return { ok, value: coerced };
}

function expectLikeGraphqlJs(value: unknown, type: GraphQLInputType): boolean {
  const fast = coerceFast(value, type);
  const reference = graphqlJs(value, type);
  if (fast === undefined) return false;
  expect(reference.ok).toBe(true);
  expect(fast.value).toEqual(reference.value);
  return true;
}

const inputType = (name: string) => {
  const type = schema.getType(name);
  if (!isInputType(type)) throw new Error(`${name} is not an input type`);
  return type;
};

/** A value that may be right, wrong in type, null, missing or extra, at any depth. */
const junk = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.string(),
  fc.integer({ min: -5, max: 2_000 }),
  fc.double(),
  fc.boolean(),
  fc.constantFrom("ACTIVE", "PAUSED", "active", "2026-05-01T00:00:00Z", "2026-05-01", "https://img/x.png"),
  fc.constant([]),
  fc.constant({}),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 15, arbitrary: arb }, { weight: 1, arbitrary: junk });
const values = fc.array(maybe(fc.stringMatching(/^[a-zA-Z0-9. _-]{0,12}$/)), { maxLength: 4 });
const dimensions = maybe(
  fc.record(
    { apps: maybe(values), countries: maybe(values), os: maybe(values), categories: maybe(values) },
    { requiredKeys: [] },
  ),
);
const campaignInput = fc
  .tuple(
    fc.record(
      {
        id: maybe(fc.stringMatching(/^[a-z0-9-]{1,10}$/)),
        name: maybe(fc.string({ maxLength: 10 })),
        imageUrl: maybe(fc.constant("https://img/x.png")),
        cta: maybe(fc.string({ maxLength: 5 })),
        status: maybe(fc.constantFrom("ACTIVE", "PAUSED")),
        priority: maybe(fc.integer({ min: 0, max: 1000 })),
        startsAt: maybe(fc.constantFrom("2026-05-01T00:00:00Z", "2026-05-01T00:00:00.123+02:00", null)),
        endsAt: maybe(fc.constantFrom("2027-01-01T00:00:00Z", null)),
        targeting: maybe(fc.record({ include: dimensions, exclude: dimensions }, { requiredKeys: [] })),
      },
      { requiredKeys: ["id", "name", "imageUrl", "cta"] },
    ),
    fc.option(fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), junk, { maxKeys: 2 }), { freq: 5 }),
  )
  .map(([fields, extra]) => ({ ...extra, ...fields }));

describe("fast coercion of large variables", () => {
  it("an import's items: declined, or exactly graphql-js's result (which then succeeded)", () => {
    const item = new GraphQLNonNull(inputType("CreateCampaignInput"));
    let coerced = 0;
    fc.assert(
      fc.property(fc.oneof({ weight: 6, arbitrary: campaignInput }, { weight: 1, arbitrary: junk }), (value) => {
        if (expectLikeGraphqlJs(value, item)) coerced++;
      }),
      { numRuns: 2_000 },
    );
    // The fast path is taken for well-formed items, not only declined.
    expect(coerced).toBeGreaterThan(200);
  });

  it("a category's apps, lists given as a single value, nulls in lists, defaults and @oneOf", () => {
    const apps = new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(inputType("String"))));
    expect(coerceFast(["a", "b"], apps)).toEqual({ value: ["a", "b"] });
    expect(expectLikeGraphqlJs("a", apps)).toBe(true);
    expect(coerceFast(["a", null], apps)).toBeUndefined();
    expect(coerceFast(["a", 1], apps)).toBeUndefined();

    const other = buildSchema(`
      input Settings { mode: Mode = FAST, limit: Int! = 5, tags: [String], nested: Settings }
      enum Mode { FAST SLOW }
      input Choice @oneOf { a: Int, b: String }
      type Query { ok(s: Settings, c: Choice): Int }`);
    const settings = other.getType("Settings") as GraphQLInputType;
    for (const value of [{}, { mode: "SLOW" }, { tags: null }, { tags: [null, "x"] }, { nested: { limit: 1 } }]) {
      expect(expectLikeGraphqlJs(value, settings)).toBe(true);
    }
    for (const value of [{ mode: "fast" }, { limit: null }, { limit: 1.5 }, { other: 1 }, [], "x"]) {
      expect(coerceFast(value, settings)).toBeUndefined();
      expect(graphqlJs(value, settings).ok).toBe(false);
    }
    expect(coerceFast({ a: 1 }, other.getType("Choice") as GraphQLInputType)).toBeUndefined();
  });
});
