// The node flags `npm start` runs the server with. package.json's start script is the one place they
// are written; the Dockerfile's test, the child-process tests and the benches read them from there, so
// every way the compiled server is started runs it alike.
import { readFileSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SCRIPT = /^exec node ((?:--\S+ )*)dist\/src\/index\.js$/;

function startFlags(): string[] {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } };
  const flags = SCRIPT.exec(pkg.scripts.start)?.[1];
  if (flags === undefined) throw new Error(`package.json's start script is not "exec node [flags] dist/src/index.js"`);
  return flags.split(" ").filter(Boolean);
}

export const START_NODE_FLAGS = startFlags();
