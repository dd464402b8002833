// The response kept by keepResponseShape is a real ServerResponse built in fast mode, and responses built
// after full collections still have its shape (V8's own map checks, through natives syntax).
import { IncomingMessage, ServerResponse } from "node:http";
import v8 from "node:v8";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { keepResponseShape } from "../../src/runtime/response-shape.ts";

v8.setFlagsFromString("--allow-natives-syntax");
v8.setFlagsFromString("--expose-gc");
const sameShape = new Function("a", "b", "return %HaveSameMap(a, b)") as (a: object, b: object) => boolean;
const fastProperties = new Function("o", "return %HasFastProperties(o)") as (o: object) => boolean;
const collectGarbage = vm.runInNewContext("gc") as () => void;

describe("keepResponseShape", () => {
  it("keeps a fast-mode response whose shape responses built after full collections share", () => {
    const kept = keepResponseShape();
    expect(kept).toBeInstanceOf(ServerResponse);
    expect(kept.req).toBeInstanceOf(IncomingMessage);
    expect(keepResponseShape()).toBe(kept);
    expect(fastProperties(kept)).toBe(true);
    for (let i = 0; i < 4; i++) collectGarbage();
    const later = new ServerResponse(new IncomingMessage(null as never));
    expect(fastProperties(later)).toBe(true);
    expect(sameShape(later, kept)).toBe(true);
  });
});
