// The /v1/delivery endpoint (docs/CONTRACT.md §3) on plain node:http: parse, validate, match against the
// current snapshot, write pre-serialised bytes. No database, Redis or GraphQL on this path.
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Answer, bodyOf, NO_ADS } from "./answers.ts";
import { parseDeviceFields } from "./request.ts";
import type { TargetingSnapshot } from "./snapshot.ts";
import type { TrafficSample } from "./traffic-sample.ts";

export const MAX_BODY_BYTES = 4 * 1024;

/** Where the handler finds the snapshot to answer from; replaced whole when a new one is ready. */
export interface SnapshotSource {
  readonly snapshot: TargetingSnapshot | null;
  /** Where valid requests are sampled for reach forecasts (optional). */
  readonly traffic?: TrafficSample;
}

/**
 * `startedAt` is a performance.now() reading (milliseconds); `oneOff`: the ids array is this response's
 * own (answers.ts), not a kept answer's.
 */
export type DeliveryObserver = (
  status: number,
  startedAt: number,
  campaignIds: readonly string[],
  oneOff: boolean,
) => void;

const JSON_TYPE = "application/json; charset=utf-8";

export function createDeliveryHandler(source: SnapshotSource, observe?: DeliveryObserver) {
  return function handleDelivery(req: IncomingMessage, res: ServerResponse, query: string): void {
    const startedAt = performance.now();
    const reply = (status: number, body: Buffer | string | null, served: Answer = NO_ADS) => {
      const headers: Record<string, string | number> = {
        "Cache-Control": "no-store",
        "X-Index-Version": source.snapshot?.versionHeader ?? "0",
      };
      if (status === 405) headers.Allow = "GET, POST";
      if (body !== null) {
        headers["Content-Type"] = JSON_TYPE;
        headers["Content-Length"] = served.bytes || Buffer.byteLength(body);
      }
      res.writeHead(status, headers);
      res.end(body ?? undefined);
      observe?.(status, startedAt, served.campaignIds, served.oneOff);
    };
    const fail = (status: number, error: string, fields?: Record<string, string>) =>
      reply(status, JSON.stringify(fields ? { error, fields } : { error }));

    const answer = (raw: Record<string, unknown>): void => {
      const snapshot = source.snapshot;
      if (!snapshot) {
        fail(503, "index not loaded yet");
        return;
      }
      const parsed = parseDeviceFields(raw);
      if (!parsed.ok) {
        fail(400, parsed.error, parsed.fields);
        return;
      }
      source.traffic?.record(parsed.request);
      const result = snapshot.match(parsed.request);
      const body = bodyOf(result);
      if (body !== null) reply(200, body, result);
      else reply(204, null);
    };

    if (req.method === "GET" || req.method === "HEAD") {
      return answer(Object.fromEntries(new URLSearchParams(query)));
    }
    if (req.method !== "POST") {
      req.resume();
      return fail(405, `method ${req.method} not allowed`);
    }
    const declared = Number(req.headers["content-length"]);
    if (declared > MAX_BODY_BYTES) {
      res.setHeader("Connection", "close");
      req.resume();
      return fail(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    }
    readBody(req, (body) => {
      if (body === null) {
        res.setHeader("Connection", "close");
        return fail(413, `body larger than ${MAX_BODY_BYTES} bytes`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString("utf8"));
      } catch {
        return fail(400, "body is not valid JSON", { body: "invalid" });
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        return fail(400, "body must be a JSON object", { body: "invalid" });
      }
      answer(parsed as Record<string, unknown>);
    });
  };
}

/** Collects at most MAX_BODY_BYTES; calls back with null when the body is larger. */
function readBody(req: IncomingMessage, done: (body: Buffer | null) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  req.on("data", (chunk: Buffer) => {
    if (finished) return;
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      finished = true;
      chunks.length = 0;
      done(null);
      return;
    }
    chunks.push(chunk);
  });
  req.on("end", () => {
    if (finished) return;
    finished = true;
    done(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
  });
  req.on("error", () => {
    finished = true;
  });
}
