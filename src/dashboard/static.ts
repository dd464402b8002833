// Serves the dashboard's built files (dist/dashboard/, from `npm run build`) at /dashboard.
// The page talks to the public GraphQL API only; this module just hands out its static files.
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { PROJECT_ROOT } from "../project-root.ts";

const DIST = path.join(PROJECT_ROOT, "dist/dashboard");

const FILES: Record<string, [file: string, type: string]> = {
  "/dashboard": ["index.html", "text/html; charset=utf-8"],
  "/dashboard/": ["index.html", "text/html; charset=utf-8"],
  "/dashboard/app.js": ["app.js", "text/javascript; charset=utf-8"],
  "/dashboard/app.js.map": ["app.js.map", "application/json; charset=utf-8"],
  "/dashboard/style.css": ["style.css", "text/css; charset=utf-8"],
};

/** Everything from this origin only: no CDN, no inline script, no third-party connection. */
const SECURITY_HEADERS = {
  "Content-Security-Policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** One route per file, for the app's exact-path routing. Files are read once, then kept in memory. */
export function dashboardRoutes(dir = DIST): Record<string, Listener> {
  const cache = new Map<string, Buffer>();
  const serve = (file: string, type: string): Listener => {
    return (req, res) => {
      req.resume();
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { Allow: "GET, HEAD", "Content-Type": "application/json" });
        res.end(JSON.stringify({ error: `method ${req.method} not allowed` }));
        return;
      }
      const cached = cache.get(file);
      const body = cached ? Promise.resolve(cached) : readFile(path.join(dir, file));
      body.then(
        (bytes) => {
          cache.set(file, bytes);
          res.writeHead(200, {
            ...SECURITY_HEADERS,
            "Content-Type": type,
            "Content-Length": bytes.length,
            "Cache-Control": "no-cache",
          });
          res.end(req.method === "HEAD" ? undefined : bytes);
        },
        () => {
          const text = JSON.stringify({ error: "dashboard not built: run `npm run build`" });
          res.writeHead(503, { "Content-Type": "application/json", "Cache-Control": "no-store" });
          res.end(text);
        },
      );
    };
  };
  return Object.fromEntries(Object.entries(FILES).map(([route, [file, type]]) => [route, serve(file, type)]));
}
