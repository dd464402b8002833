// The /v1/delivery endpoint (docs/CONTRACT.md §3) on plain node:http: parse, validate, match against the
// current snapshot, write pre-serialised bytes. No database, Redis or GraphQL on this path.
import type { IncomingMessage, ServerResponse } from "node:http";
import { type Answer, bodyOf, NO_ADS } from "./answers.ts";
import { parseDeviceFields } from "./request.ts";
import type { TargetingSnapshot } from "./snapshot.ts";
import type { TrafficSample } from "./traffic-sample.ts";
import type { DeviceRequest } from "./types.ts";

export const MAX_BODY_BYTES = 4 * 1024;

/** Where the handler finds the snapshot to answer from; replaced whole when a new one is ready. */
export interface SnapshotSource {
  readonly snapshot: TargetingSnapshot | null;
  /** Where valid requests are sampled for reach forecasts (optional). */
  readonly traffic?: TrafficSample;
}

/**
 * Called once per response. `startedAt` is a performance.now() reading (milliseconds); `served` is the
 * answer given (NO_ADS for errors and 204s); `now` the Date.now() the answer was chosen at.
 */
export type DeliveryObserver = (status: number, startedAt: number, served: Answer, now: number) => void;

const JSON_TYPE = "application/json; charset=utf-8";

class BodyError {
  constructor(readonly message: string) {}
}

/** A request's fields, or what is wrong with its body. */
type Fields = Record<string, unknown> | BodyError;

function jsonFields(text: string): Fields {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return new BodyError("body is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return new BodyError("body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

/** The request of a text the device cache holds an answer for: it was valid when the answer was kept. */
function cachedRequest(fields: Fields): DeviceRequest {
  const parsed = fields instanceof BodyError ? undefined : parseDeviceFields(fields);
  if (!parsed?.ok) throw new Error("a cached delivery request no longer parses");
  return parsed.request;
}

const queryFields = (key: string): Fields => Object.fromEntries(new URLSearchParams(key.slice(1)));

/**
 * A request header's value read from the raw list: `req.headers` builds an object of every header on
 * first use, a cost the hot path does not need to pay for the one or two it reads.
 */
export function rawHeader(req: IncomingMessage, lowerCaseName: string): string | undefined {
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === lowerCaseName.length && name.toLowerCase() === lowerCaseName) return raw[i + 1];
  }
  return undefined;
}

// The request's own text (a body, or "?" and a query: a JSON text cannot start with "?") is its device
// cache key, so a device asking again is answered without parsing, validating or matching.
export function createDeliveryHandler(source: SnapshotSource, observe?: DeliveryObserver) {
  function send(res: ServerResponse, startedAt: number, now: number, served: Answer, version: string): void {
    const body = bodyOf(served);
    if (body === null) {
      res.writeHead(204, { "Cache-Control": "no-store", "X-Index-Version": version });
      res.end();
    } else {
      res.writeHead(200, {
        "Cache-Control": "no-store",
        "X-Index-Version": version,
        "Content-Type": JSON_TYPE,
        "Content-Length": served.bytes,
      });
      // A body of ASCII only (its UTF-8 length is its length) is written without UTF-8 encoding.
      res.end(body, typeof body === "string" && body.length === served.bytes ? "latin1" : "utf8");
    }
    observe?.(body === null ? 204 : 200, startedAt, served, now);
  }

  function fail(res: ServerResponse, startedAt: number, status: number, error: string, fields?: object): void {
    const body = JSON.stringify(fields ? { error, fields } : { error });
    const headers: Record<string, string | number> = {
      "Cache-Control": "no-store",
      "X-Index-Version": source.snapshot?.versionHeader ?? "0",
    };
    if (status === 405) headers.Allow = "GET, POST";
    headers["Content-Type"] = JSON_TYPE;
    headers["Content-Length"] = Buffer.byteLength(body);
    res.writeHead(status, headers);
    res.end(body);
    observe?.(status, startedAt, NO_ADS, Date.now());
  }

  function tooLarge(res: ServerResponse, startedAt: number): void {
    res.setHeader("Connection", "close");
    fail(res, startedAt, 413, `body larger than ${MAX_BODY_BYTES} bytes`);
  }

  /** Answers the request whose text is `key`; `fieldsOf` parses it. */
  function deliver(res: ServerResponse, startedAt: number, key: string, fieldsOf: (key: string) => Fields): void {
    const snapshot = source.snapshot;
    const now = Date.now();
    if (snapshot) {
      const cached = snapshot.cached(key, now);
      if (cached !== undefined) {
        // Only valid requests are cached: parsed again only when the traffic sample takes this one.
        const traffic = source.traffic;
        if (traffic?.counts(now)) traffic.add(cachedRequest(fieldsOf(key)));
        return send(res, startedAt, now, cached, snapshot.versionHeader);
      }
    }
    const raw = fieldsOf(key);
    if (raw instanceof BodyError) return fail(res, startedAt, 400, raw.message, { body: "invalid" });
    if (!snapshot) return fail(res, startedAt, 503, "index not loaded yet");
    const parsed = parseDeviceFields(raw);
    if (!parsed.ok) return fail(res, startedAt, 400, parsed.error, parsed.fields);
    source.traffic?.record(parsed.request, now);
    send(res, startedAt, now, snapshot.matchUncached(parsed.request, now, key), snapshot.versionHeader);
  }

  return function handleDelivery(req: IncomingMessage, res: ServerResponse, query: string): void {
    const startedAt = performance.now();
    if (req.method === "GET" || req.method === "HEAD") return deliver(res, startedAt, `?${query}`, queryFields);
    if (req.method !== "POST") {
      req.resume();
      return fail(res, startedAt, 405, `method ${req.method} not allowed`);
    }
    const length = Number(rawHeader(req, "content-length")); // NaN when absent
    if (length > MAX_BODY_BYTES) {
      req.resume();
      return tooLarge(res, startedAt);
    }
    readBody(req, length, (body) =>
      body === null ? tooLarge(res, startedAt) : deliver(res, startedAt, body.toString("utf8"), jsonFields),
    );
  };
}

/**
 * Collects at most MAX_BODY_BYTES; calls back with null when the body is larger. A body of a stated
 * length is complete when that many bytes came (Node's parser holds a body to its Content-Length), so
 * one listener does; a chunked or empty one ends with 'end'. No 'error' listener: a request cut short
 * just never calls back (Node emits its error only to listeners).
 */
function readBody(req: IncomingMessage, length: number, done: (body: Buffer | null) => void): void {
  // Almost always the whole body comes as one chunk: no list of chunks until a second one does.
  let first: Buffer | null = null;
  let chunks: Buffer[] | null = null;
  let size = 0;
  let finished = false;
  req.on("data", (chunk: Buffer) => {
    if (finished) return;
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      finished = true;
      first = chunks = null;
      done(null);
      return;
    }
    if (first === null) {
      first = chunk;
    } else {
      chunks ??= [first];
      chunks.push(chunk);
    }
    if (size === length) {
      finished = true;
      done(joined(first, chunks));
    }
  });
  if (!(length > 0)) {
    req.on("end", () => {
      if (finished) return;
      finished = true;
      done(joined(first, chunks));
    });
  }
}

const NO_BODY = Buffer.alloc(0);

/** The body read: its one chunk as it came, or its chunks joined. */
function joined(first: Buffer | null, chunks: Buffer[] | null): Buffer {
  return chunks !== null ? Buffer.concat(chunks) : (first ?? NO_BODY);
}
