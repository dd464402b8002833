// The tick object kept by keepTickObjectShape is a real `process.nextTick` object, and tick objects made
// after full collections still have its shape (V8's own map check, through natives syntax).
import v8 from "node:v8";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { captureTickObject, keepTickObjectShape } from "../../src/runtime/tick-shape.ts";

v8.setFlagsFromString("--allow-natives-syntax");
v8.setFlagsFromString("--expose-gc");
const sameShape = new Function("a", "b", "return %HaveSameMap(a, b)") as (a: object, b: object) => boolean;
const collectGarbage = vm.runInNewContext("gc") as () => void;

describe("keepTickObjectShape", () => {
  it("keeps a tick object whose shape later tick objects share, across full collections", () => {
    const kept = keepTickObjectShape();
    expect(kept).toBeDefined();
    expect(Object.keys(kept as object)).toEqual(["callback", "args"]);
    expect(keepTickObjectShape()).toBe(kept);
    for (let i = 0; i < 4; i++) collectGarbage();
    const later = captureTickObject() as object;
    expect(later).not.toBe(kept);
    expect(sameShape(later, kept as object)).toBe(true);
    expect(sameShape(later, { callback: null, args: null })).toBe(false);
  });
});
