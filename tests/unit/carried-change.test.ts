// A change carried on the bus must arrive exactly as it left: split into parts, each through JSON (as
// Redis carries it), put together again — or not at all, when a part went missing.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CampaignDef, CategoryDef } from "../../src/delivery/types.ts";
import {
  type CarriedChange,
  ChangeAssembler,
  type ChangePart,
  campaignDefOf,
  splitChange,
} from "../../src/sync/carried-change.ts";
import { campaignArbitrary } from "../helpers/targeting.ts";

const campaignsArbitrary = fc
  .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,4}$/), { maxLength: 60 })
  .chain((ids) => fc.tuple(...ids.map((id) => fc.option(campaignArbitrary(id), { freq: 4 }))))
  .map((defs) => defs.filter((def): def is CampaignDef => def !== null));

/** Categories of up to a few hundred apps (so small parts split them in runs), some removed (null). */
const categoriesArbitrary = fc.uniqueArray(fc.stringMatching(/^k[a-z0-9]{0,3}$/), { maxLength: 6 }).chain((ids) =>
  fc.tuple(
    ...ids.map((id) =>
      fc.option(
        fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9.]{0,8}$/), { maxLength: 400 }).map((apps) => ({ id, apps })),
        { freq: 5 },
      ),
    ),
  ),
);

const wire = (part: ChangePart) => JSON.parse(JSON.stringify(part)) as ChangePart;

/** The parts splitChange sends (without the turns it asks for while it groups). */
const partsOf = (change: CarriedChange, partValues?: number) =>
  [...splitChange(change, partValues)].filter((part): part is ChangePart => part !== null);

/** An assembled change with plain Maps (the assembler's are sharded, and iterate in another order). */
const plain = (change: CarriedChange | null | undefined) =>
  change && { campaigns: new Map(change.campaigns), categories: new Map(change.categories) };

describe("carried changes", () => {
  it("split into parts of any size and put together again, they are the change that was sent", () => {
    fc.assert(
      fc.property(
        campaignsArbitrary,
        fc.uniqueArray(fc.stringMatching(/^x[a-z0-9]{0,3}$/), { maxLength: 10 }),
        categoriesArbitrary,
        fc.integer({ min: 1, max: 200 }),
        (defs, removed, categoryDefs, partValues) => {
          const campaigns = new Map<string, CampaignDef | null>(defs.map((def) => [def.id, def]));
          for (const id of removed) campaigns.set(id, null);
          const categories = new Map<string, CategoryDef | null>();
          categoryDefs.forEach((def, i) => {
            categories.set(def?.id ?? `gone${i}`, def);
          });
          const parts = partsOf({ campaigns, categories }, partValues);
          expect(parts.every((part) => part.count === parts.length)).toBe(true);
          const assembler = new ChangeAssembler();
          const results = parts.map((part) => assembler.add("t9", wire(part)));
          if (campaigns.size === 0 && categories.size === 0) {
            expect(parts).toEqual([]);
            return;
          }
          expect(results.slice(0, -1).every((result) => result === undefined)).toBe(true);
          expect(plain(results.at(-1))).toEqual({ campaigns, categories });
          // A part holds at most partValues values, unless one campaign alone holds more.
          for (const part of parts) {
            const apps = part.categories.reduce((n, c) => n + (c.apps?.length ?? 0), 0);
            if (part.campaigns.length + part.removed.length === 0) expect(apps).toBeLessThanOrEqual(partValues);
          }
        },
      ),
    );
  });

  it("grouping a large change into parts gives the event loop turns before the first part", () => {
    const campaigns = new Map<string, CampaignDef | null>(
      Array.from({ length: 5_000 }, (_, i): [string, null] => [`gone${i}`, null]),
    );
    const steps = [...splitChange({ campaigns, categories: new Map() })];
    const first = steps.findIndex((step) => step !== null);
    expect(first).toBeGreaterThanOrEqual(2);
    expect(steps.slice(first).every((step) => step !== null)).toBe(true);
    expect(partsOf({ campaigns, categories: new Map() }).flatMap((part) => part.removed)).toHaveLength(5_000);
  });

  it("a change with a part missing is not put together: the replica reads the log instead", () => {
    const campaigns = new Map(
      Array.from({ length: 30 }, (_, i): [string, CampaignDef] => [
        `c${i}`,
        {
          id: `c${i}`,
          imageUrl: "https://img/c.png",
          cta: "Go",
          status: "ACTIVE",
          priority: i,
          startsAt: null,
          endsAt: new Date(1_800_000_000_000),
          include: { app: [`a${i}`], country: ["US"], os: [], category: [] },
          exclude: { app: [], country: [], os: ["web"], category: [] },
        },
      ]),
    );
    const parts = partsOf({ campaigns, categories: new Map() }, 40);
    expect(parts.length).toBeGreaterThan(2);
    const assembler = new ChangeAssembler();
    const other = partsOf({ campaigns: new Map([["d", null]]), categories: new Map() }, 40);
    // Parts of two changes interleaved; the first lost its second part.
    expect(assembler.add("a", wire(parts[0] as ChangePart))).toBeUndefined();
    expect(plain(assembler.add("b", wire(other[0] as ChangePart)))).toEqual({
      campaigns: new Map([["d", null]]),
      categories: new Map(),
    });
    for (const part of parts.slice(2, -1)) expect(assembler.add("a", wire(part))).toBeUndefined();
    expect(assembler.add("a", wire(parts.at(-1) as ChangePart))).toBeNull();
    // Sent again whole, the same token assembles; dropped halfway, it starts over.
    const again = parts.map((part) => assembler.add("a", wire(part))).at(-1);
    expect(plain(again)).toEqual({ campaigns, categories: new Map() });
    for (const part of parts.slice(0, -1)) assembler.add("c", wire(part));
    assembler.drop("c");
    expect(assembler.add("c", wire(parts.at(-1) as ChangePart))).toBeNull();
  });

  it("an import item becomes the index's campaign: rules by dimension and mode, fields as written", () => {
    const fields = {
      id: "imp",
      imageUrl: "https://img/imp.png",
      cta: "Buy",
      status: "PAUSED" as const,
      priority: 7,
      startsAt: new Date(1_700_000_000_000),
      endsAt: null,
    };
    const def = campaignDefOf({
      ...fields,
      name: "Import",
      rules: [
        { dimension: "APP", mode: "INCLUDE", value: "com.a" },
        { dimension: "COUNTRY", mode: "INCLUDE", value: "US" },
        { dimension: "COUNTRY", mode: "INCLUDE", value: "FR" },
        { dimension: "OS", mode: "EXCLUDE", value: "web" },
        { dimension: "CATEGORY", mode: "EXCLUDE", value: "games" },
      ],
    });
    expect(def).toEqual({
      ...fields,
      include: { app: ["com.a"], country: ["US", "FR"], os: [], category: [] },
      exclude: { app: [], country: [], os: ["web"], category: ["games"] },
    });
  });
});
