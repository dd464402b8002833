// Builds the dashboard (dashboard/*.ts, plain TypeScript, no framework) into dist/dashboard/: one
// esbuild bundle plus the page and its stylesheet. Everything is served locally by /dashboard.
import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { build } from "esbuild";

const ROOT = path.resolve(import.meta.dirname, "..");
export const DASHBOARD_OUT = path.join(ROOT, "dist/dashboard");

export async function buildDashboard(outdir = DASHBOARD_OUT): Promise<void> {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: [path.join(ROOT, "dashboard/main.ts")],
    outfile: path.join(outdir, "app.js"),
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    sourcemap: "linked",
    logLevel: "warning",
  });
  for (const file of ["index.html", "style.css"])
    await copyFile(path.join(ROOT, "dashboard", file), path.join(outdir, file));
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  await buildDashboard();
  console.log(`dashboard built into ${path.relative(process.cwd(), DASHBOARD_OUT)}/`);
}
