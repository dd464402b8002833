// The start banner: where to reach this server and, when ADMIN_TOKEN was not set, the admin token
// generated for it. Someone at a terminal (stderr is a TTY) reads plain text; a log collector gets one
// structured line instead (warn when it carries a generated token: not a production setup).
import type { Logger } from "./logger.ts";

export interface BannerInfo {
  host: string;
  port: number;
  /** Only a token generated at start; a configured ADMIN_TOKEN is never printed. */
  generatedAdminToken?: string;
  /** Where the data lives: "embedded (<dir>)" or the database host. */
  database: string;
  redis: string;
  workers: number;
}

export interface BannerUrls {
  delivery: string;
  graphql: string;
  dashboard: string;
  openapi: string;
}

export function bannerUrls(host: string, port: number): BannerUrls {
  const name = host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  const base = `http://${name}:${port}`;
  return {
    delivery: `${base}/v1/delivery`,
    graphql: `${base}/graphql`,
    dashboard: `${base}/dashboard`,
    openapi: `${base}/v1/openapi.json`,
  };
}

export function bannerText(info: BannerInfo): string {
  const urls = bannerUrls(info.host, info.port);
  const lines = [
    "",
    `Bullseye is listening on ${info.host}:${info.port}${info.workers > 1 ? ` (${info.workers} workers)` : ""}`,
    "",
    `  Delivery   ${urls.delivery}   (POST {"app","os","country"} or GET ?app=&os=&country=)`,
    `  GraphQL    ${urls.graphql}   (GraphiQL in a browser)`,
    `  Dashboard  ${urls.dashboard}`,
    `  OpenAPI    ${urls.openapi}`,
    "",
    `  Database   ${info.database}`,
    `  Redis      ${info.redis}`,
  ];
  if (info.generatedAdminToken) {
    lines.push(
      "",
      "  Admin token, generated for this run because ADMIN_TOKEN is not set (shown once; set ADMIN_TOKEN to keep one):",
      `    ${info.generatedAdminToken}`,
    );
  }
  lines.push("", `  Try: curl -s '${urls.delivery}?app=candycrush&os=ios&country=CA'`, "", "");
  return lines.join("\n");
}

export function printBanner(info: BannerInfo, log: Logger, stderr: NodeJS.WriteStream = process.stderr): void {
  if (stderr.isTTY) {
    stderr.write(bannerText(info));
    return;
  }
  const fields = { urls: bannerUrls(info.host, info.port), database: info.database, redis: info.redis };
  if (info.generatedAdminToken) {
    log.warn(
      { ...fields, adminToken: info.generatedAdminToken },
      "started; ADMIN_TOKEN is not set: generated an admin token for this run (logged once)",
    );
  } else {
    log.info(fields, "started");
  }
}
