// Large request bodies parsed in slices must be exactly what JSON.parse makes of them — the same value,
// or the same error — however the text is laid out and wherever it is cut into pieces.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseJsonInSlices, walkJson } from "../../src/schema/sliced-json.ts";

type Outcome = { value: unknown } | { error: string };

/** What Yoga makes of a body: its bytes decoded whole, then JSON.parse. */
function jsonParse(text: string): Outcome {
  try {
    return { value: JSON.parse(Buffer.from(text).toString("utf8")) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

async function sliced(text: string, pieceBytes: number): Promise<Outcome> {
  try {
    return { value: await parseJsonInSlices(Buffer.from(text), pieceBytes) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const space = fc.constantFrom("", " ", "\n", "\t", "\r\n  ");

/** A JSON text of `value`, compact, indented, or with whitespace anywhere JSON allows it. */
function layouts(value: unknown) {
  return fc.oneof(
    fc.constant(JSON.stringify(value)),
    fc.constant(JSON.stringify(value, null, 2)),
    fc.array(space, { minLength: 64, maxLength: 64 }).map((spaces) => {
      let n = 0;
      const pad = () => spaces[n++ % spaces.length] as string;
      const write = (v: unknown): string => {
        if (Array.isArray(v)) return `[${pad()}${v.map((item) => `${pad()}${write(item)}${pad()}`).join(",")}]`;
        if (v !== null && typeof v === "object") {
          const members = Object.entries(v).map(
            ([k, item]) => `${pad()}${JSON.stringify(k)}${pad()}:${pad()}${write(item)}`,
          );
          return `{${members.join(",")}${pad()}}`;
        }
        return JSON.stringify(v);
      };
      return `${pad()}${write(value)}${pad()}`;
    }),
  );
}

describe("JSON parsed in slices", () => {
  it("gives JSON.parse's value for any JSON text, cut into pieces of any size", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.jsonValue(), fc.jsonValue({ stringUnit: "binary" })).chain((value) => layouts(value)),
        fc.integer({ min: 1, max: 80 }),
        async (text, pieceBytes) => {
          // The walk itself, not the fallback to one JSON.parse: valid JSON never needs it.
          expect(await walkJson(Buffer.from(text), pieceBytes)).toEqual(JSON.parse(text));
        },
      ),
      { numRuns: 500 },
    );
  });

  it("accepts and refuses exactly what JSON.parse does, with its error", async () => {
    const junk = fc.constantFrom(",", ":", "[", "]", "{", "}", '"', "\\", " ", "0", "-", "e", "a", "n", "\u0001");
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.jsonValue(), fc.jsonValue({ stringUnit: "binary" })).map((value) => JSON.stringify(value)),
        fc.nat(),
        fc.nat({ max: 2 }),
        junk,
        fc.integer({ min: 1, max: 40 }),
        async (text, at, removed, inserted, pieceBytes) => {
          const i = at % (text.length + 1);
          const mangled = text.slice(0, i) + inserted + text.slice(i + removed);
          expect(await sliced(mangled, pieceBytes)).toEqual(jsonParse(mangled));
        },
      ),
      { numRuns: 1000 },
    );
    for (const text of ["", " ", "[1,]", "[1 2]", '{"a" 1}', '{"a":1,}', "[01]", '["\u0001"]', "{}x", "nul"]) {
      expect(await sliced(text, 2), text).toEqual(jsonParse(text));
    }
  });

  it('makes "__proto__" an own property and keeps the last of duplicate keys, as JSON.parse does', async () => {
    const text = `{"__proto__": {"polluted": true}, "a": 1, "padding": "${"x".repeat(100)}", "a": 2}`;
    const value = (await parseJsonInSlices(Buffer.from(text), 8)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(Object.keys(JSON.parse(text)));
    expect(value.a).toBe(2);
    expect(Object.getOwnPropertyDescriptor(value, "__proto__")?.value).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("gives the event loop back while it parses a large body", async () => {
    const campaigns = Array.from({ length: 20_000 }, (_, i) => ({
      id: `c${i}`,
      name: `Campaign ${i}`,
      targeting: { include: { apps: Array.from({ length: 10 }, (_, j) => `com.app${i}.n${j}`) } },
    }));
    const text = JSON.stringify({ query: "mutation($c: [CreateCampaignInput!]!) { x }", variables: { campaigns } });
    let turns = 0;
    let running = true;
    const spin = () => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    const started = performance.now();
    const value = await walkJson(Buffer.from(text));
    const slicedMs = performance.now() - started;
    running = false;
    const once = performance.now();
    JSON.parse(text);
    console.log(
      `${(text.length / 1e6).toFixed(1)} MB: in slices ${slicedMs.toFixed(0)} ms, JSON.parse ${(performance.now() - once).toFixed(0)} ms`,
    );
    expect(value).toEqual(JSON.parse(text));
    expect(turns).toBeGreaterThan(5);
  });
});
