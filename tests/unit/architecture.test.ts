// docs/ARCHITECTURE.md checked against the code: every module under src/ is in its module map, every
// import between modules is one its table allows, each goes down its layer diagram, there is no import
// cycle, delivery/ uses no package that does I/O, and only the process entry points touch the process.
// Imports are read with TypeScript's parser (static, re-exports, dynamic import()), type-only included.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SRC = path.join(ROOT, "src");
const DOC = readFileSync(path.join(ROOT, "docs/ARCHITECTURE.md"), "utf8");

/** The module a file belongs to: `folder/` for anything in a folder of src/, else the root file's name. */
function moduleOf(file: string): string {
  const relative = path.relative(SRC, file);
  if (relative.startsWith("..")) return path.relative(ROOT, file);
  const [first, ...rest] = relative.split(path.sep);
  return rest.length > 0 ? `${first}/` : (first as string);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

interface Import {
  specifier: string;
  typeOnly: boolean;
}

/** Every module specifier a file imports or re-exports, statically or with import(). */
function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, false);
  const found: Import[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const namedTypesOnly =
        clause?.namedBindings && ts.isNamedImports(clause.namedBindings) && !clause.name
          ? clause.namedBindings.elements.length > 0 && clause.namedBindings.elements.every((e) => e.isTypeOnly)
          : false;
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: Boolean(clause?.isTypeOnly) || namedTypesOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      found.push({ specifier: node.arguments[0].text, typeOnly: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The module map: module → the modules it may import (from the table's last column). */
function allowedImports(): Map<string, Set<string>> {
  const section = DOC.slice(DOC.indexOf("## Module map"), DOC.indexOf("## Dependency rules"));
  const rules = new Map<string, Set<string>>();
  for (const line of section.split("\n")) {
    const cells = line.split("|").map((cell) => cell.trim());
    // | `module` | holds | may import |
    const name = /^`([^`]+)`$/.exec(cells[1] ?? "")?.[1];
    if (!name || cells.length < 5) continue;
    rules.set(name, new Set([...(cells[3] as string).matchAll(/`([^`]+)`/g)].map((m) => m[1] as string)));
  }
  return rules;
}

/** The layer diagram: module → its row, 0 at the top. */
function layers(): Map<string, number> {
  const start = DOC.indexOf("```", DOC.indexOf("rows below its own"));
  const block = DOC.slice(DOC.indexOf("\n", start) + 1, DOC.indexOf("```", start + 3));
  const rows = new Map<string, number>();
  block
    .split("\n")
    .filter((line) => line.trim())
    .forEach((line, row) => {
      const names = line
        .replace(/\(.*\)/, "")
        .trim()
        .split(/\s+/)
        .slice(1);
      for (const name of names) rows.set(name, row);
    });
  return rows;
}

const files = sourceFiles(SRC).filter((file) => moduleOf(file) !== "generated/");
const modules = new Set(
  readdirSync(SRC, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() || entry.name.endsWith(".ts"))
    .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name)),
);

interface Edge {
  from: string;
  to: string;
  target: string;
}

/** Imports that leave their own module (relative specifiers only; packages are checked apart). */
const edges: Edge[] = files.flatMap((file) =>
  importsOf(file)
    .filter(({ specifier }) => specifier.startsWith("."))
    .map(({ specifier }) => {
      const target = path.resolve(path.dirname(file), specifier);
      return { from: path.relative(ROOT, file), to: moduleOf(target), target: path.relative(ROOT, target) };
    })
    .filter((edge) => edge.to !== moduleOf(path.join(ROOT, edge.from))),
);

describe("docs/ARCHITECTURE.md against the code", () => {
  const rules = allowedImports();

  it("maps every module under src/, and only those", () => {
    expect([...rules.keys()].sort()).toEqual([...modules].sort());
  });

  it("allows only imports the module map lists", () => {
    const forbidden = edges
      .filter((edge) => !rules.get(moduleOf(path.join(ROOT, edge.from)))?.has(edge.to))
      .map((edge) => `${edge.from} imports ${edge.target} (${edge.to} is not in its "may import")`);
    expect(forbidden).toEqual([]);
  });

  it("lists no allowance the code does not use (the map stays exact)", () => {
    const used = new Set(edges.map((edge) => `${moduleOf(path.join(ROOT, edge.from))} → ${edge.to}`));
    const unused = [...rules].flatMap(([from, to]) => [...to].map((t) => `${from} → ${t}`)).filter((e) => !used.has(e));
    expect(unused).toEqual([]);
  });

  it("points every import down the layer diagram", () => {
    const rows = layers();
    expect([...rows.keys()].sort(), "the diagram holds every module once").toEqual([...modules].sort());
    const upward = edges
      .filter((edge) => edge.to in Object.fromEntries(rows))
      .filter((edge) => (rows.get(edge.to) as number) <= (rows.get(moduleOf(path.join(ROOT, edge.from))) as number))
      .map((edge) => `${edge.from} imports ${edge.target}, not below it in the diagram`);
    expect(upward).toEqual([]);
  });
});

describe("imports under src/", () => {
  it("have no cycle between files", () => {
    const graph = new Map(
      files.map((file) => [
        file,
        importsOf(file)
          .filter(({ specifier }) => specifier.startsWith("."))
          .map(({ specifier }) => path.resolve(path.dirname(file), specifier))
          .filter((target) => files.includes(target)),
      ]),
    );
    // Tarjan's strongly connected components: a component of more than one file (or a file importing
    // itself) is a cycle.
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const cycles: string[][] = [];
    const visit = (file: string) => {
      index.set(file, index.size);
      low.set(file, index.get(file) as number);
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (!index.has(next)) {
          visit(next);
          low.set(file, Math.min(low.get(file) as number, low.get(next) as number));
        } else if (stack.includes(next)) {
          low.set(file, Math.min(low.get(file) as number, index.get(next) as number));
        }
      }
      if (low.get(file) !== index.get(file)) return;
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        component.push(path.relative(ROOT, member));
      } while (member !== file);
      if (component.length > 1 || graph.get(file)?.includes(file)) cycles.push(component);
    };
    for (const file of files) if (!index.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  it("keep delivery/ free of packages that do I/O (node:http for its types only)", () => {
    const used = files
      .filter((file) => moduleOf(file) === "delivery/")
      .flatMap((file) =>
        importsOf(file)
          .filter(({ specifier }) => !specifier.startsWith("."))
          .map(({ specifier, typeOnly }) => `${specifier}${typeOnly ? " (types)" : ""}`),
      );
    const allowed = new Set(["i18n-iso-countries", "i18n-iso-countries/langs/en.json", "node:http (types)"]);
    expect(used.filter((name) => !allowed.has(name))).toEqual([]);
  });

  it("touch the process (exit, handlers) only in index.ts and cluster/", () => {
    const touching = files
      .filter((file) => !["index.ts", "cluster/"].includes(moduleOf(file)))
      .filter((file) => /\bprocess\.(exit|on|once)\(/.test(readFileSync(file, "utf8")))
      .map((file) => path.relative(ROOT, file));
    expect(touching).toEqual([]);
  });
});
