// Large GraphQL request bodies read and parsed in slices. Yoga concatenates a JSON body, decodes it and
// JSON.parses it, each in one turn: a 20,000-campaign import (~10 MB) held the event loop — and
// delivery on this replica — for ~180 ms. Here a body of at least SLICED_BODY_BYTES is copied into one
// buffer as it arrives, then walked as bytes where its structure allows: a container too long to parse
// in one small step is walked member by member, each member decoded and parsed by JSON.parse itself
// (so every value is exactly what JSON.parse makes), the event loop free between steps. The walk stops
// only at ASCII bytes outside strings, which no UTF-8 sequence contains, so decoding piece by piece
// gives the text whole decoding gives. Whatever the walk does not expect, the whole text goes to
// JSON.parse after all: its result or its error is the answer, so nothing is accepted or refused that
// JSON.parse would not.
import { createGraphQLError, type GraphQLParams, type Plugin } from "graphql-yoga";
import { runInSlices, type Steps } from "../delivery/steps.ts";

/** A body this large is parsed in slices (JSON.parse takes ~1–3 ms for it). */
const SLICED_BODY_BYTES = 256 * 1024;
/** A value no longer than this (in bytes) is one JSON.parse (well under a millisecond). */
const PIECE_BYTES = 16 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

class Unexpected extends Error {}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function skipSpace(text: Buffer, i: number): number {
  while (i < text.length && isSpace(text[i] as number)) i++;
  return i;
}

/** The JSON value of these bytes (UTF-8). */
const parse = (text: Buffer, from: number, to: number): unknown => JSON.parse(text.toString("utf8", from, to));

/**
 * Where the value starting at `i` ends (the index after it), when that is before `limit`; else -1.
 * Only finds the boundary (strings skipped, brackets counted): JSON.parse checks what is inside.
 */
function endOf(text: Buffer, i: number, limit: number): number {
  const end = Math.min(limit, text.length);
  let depth = 0;
  let j = i;
  while (j < end) {
    const c = text[j] as number;
    if (c === QUOTE) {
      j++;
      while (j < end) {
        const s = text[j] as number;
        if (s === BACKSLASH) j += 2;
        else if (s === QUOTE) break;
        else j++;
      }
      if (j >= end) return -1;
      j++;
      if (depth === 0) return j;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      depth++;
      j++;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      if (depth === 0) return j; // a number or literal ends here
      depth--;
      j++;
      if (depth === 0) return j;
    } else if (depth === 0 && (c === COMMA || isSpace(c))) {
      return j;
    } else {
      j++;
    }
  }
  return depth === 0 && end === text.length && j > i ? j : -1;
}

/** The value starting at `i` and the index after it; long containers are walked a member at a time. */
function* valueAt(text: Buffer, i: number, pieceBytes: number): Steps<[unknown, number]> {
  const end = endOf(text, i, i + pieceBytes);
  if (end !== -1) {
    yield;
    return [parse(text, i, end), end];
  }
  const c = text[i] as number;
  if (c === OPEN_ARRAY) return yield* arrayAt(text, i, pieceBytes);
  if (c === OPEN_OBJECT) return yield* objectAt(text, i, pieceBytes);
  // A long string or number: one piece, however long (JSON.parse reads those fast).
  const whole = endOf(text, i, text.length);
  if (whole === -1) throw new Unexpected();
  yield;
  return [parse(text, i, whole), whole];
}

/**
 * A long array: consecutive small items are parsed together, up to a piece's length at a time (one
 * JSON.parse of "[…]" per run: thousands of calls for thousands of small items cost 5× the parse).
 */
function* arrayAt(text: Buffer, i: number, pieceBytes: number): Steps<[unknown[], number]> {
  const items: unknown[] = [];
  let j = skipSpace(text, i + 1);
  if ((text[j] as number) === CLOSE_ARRAY) return [items, j + 1];
  for (;;) {
    const runStart = j;
    let end = endOf(text, j, j + pieceBytes);
    if (end === runStart) throw new Unexpected(); // no item where one must be: "[1,]"
    if (end === -1) {
      const [item, after] = yield* valueAt(text, j, pieceBytes);
      items.push(item);
      end = after;
    } else {
      // Extend the run while the next item is small too and the run stays within a piece.
      for (;;) {
        const next = skipSpace(text, end);
        if ((text[next] as number) !== COMMA) break;
        const from = skipSpace(text, next + 1);
        const itemEnd = endOf(text, from, runStart + pieceBytes);
        if (itemEnd === -1 || itemEnd === from) break;
        end = itemEnd;
      }
      yield;
      for (const item of JSON.parse(`[${text.toString("utf8", runStart, end)}]`) as unknown[]) items.push(item);
    }
    j = skipSpace(text, end);
    const c = text[j] as number;
    if (c === CLOSE_ARRAY) return [items, j + 1];
    if (c !== COMMA) throw new Unexpected();
    j = skipSpace(text, j + 1);
  }
}

function* objectAt(text: Buffer, i: number, pieceBytes: number): Steps<[Record<string, unknown>, number]> {
  const object: Record<string, unknown> = {};
  let j = skipSpace(text, i + 1);
  if ((text[j] as number) === CLOSE_OBJECT) return [object, j + 1];
  for (;;) {
    if ((text[j] as number) !== QUOTE) throw new Unexpected();
    const keyEnd = endOf(text, j, text.length);
    if (keyEnd === -1) throw new Unexpected();
    const key = parse(text, j, keyEnd) as string;
    j = skipSpace(text, keyEnd);
    if ((text[j] as number) !== COLON) throw new Unexpected();
    const [value, end] = yield* valueAt(text, skipSpace(text, j + 1), pieceBytes);
    // As JSON.parse does: an own property even for "__proto__", the last of duplicate keys wins.
    Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
    j = skipSpace(text, end);
    const c = text[j] as number;
    if (c === CLOSE_OBJECT) return [object, j + 1];
    if (c !== COMMA) throw new Unexpected();
    j = skipSpace(text, j + 1);
  }
}

function* documentOf(text: Buffer, pieceBytes: number): Steps<unknown> {
  const start = skipSpace(text, 0);
  if (start === text.length) throw new Unexpected();
  const [value, end] = yield* valueAt(text, start, pieceBytes);
  if (skipSpace(text, end) !== text.length) throw new Unexpected();
  return value;
}

/** The walk alone: rejects whatever it does not expect, valid JSON or not (tests check it never does). */
export function walkJson(text: Buffer, pieceBytes = PIECE_BYTES): Promise<unknown> {
  return runInSlices(documentOf(text, pieceBytes));
}

/** JSON.parse of the text (UTF-8 bytes), in slices: the same value, or the same error. */
export async function parseJsonInSlices(text: Buffer, pieceBytes = PIECE_BYTES): Promise<unknown> {
  try {
    return await walkJson(text, pieceBytes);
  } catch {
    return JSON.parse(text.toString("utf8"));
  }
}

/**
 * The body's bytes, copied into one buffer of the announced length chunk by chunk as they arrive:
 * Request#text() concatenates and decodes the whole body in one turn (~5 ms per MB). Read as fast as
 * it comes, so the stream never holds more than a chunk or two (a reader that paused let megabytes
 * collect, which the stream then concatenated into one chunk).
 */
async function bodyBytes(request: Request, length: number): Promise<Buffer> {
  if (!request.body) return Buffer.alloc(0);
  const bytes = Buffer.allocUnsafe(length);
  const beyond: Uint8Array[] = []; // Node's parser stops at Content-Length; kept should it not
  let at = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    if (beyond.length === 0 && at + chunk.byteLength <= length) {
      bytes.set(chunk, at);
      at += chunk.byteLength;
    } else {
      beyond.push(chunk);
    }
  }
  return beyond.length === 0 ? bytes.subarray(0, at) : Buffer.concat([bytes.subarray(0, at), ...beyond]);
}

function isJsonPost(request: Request): boolean {
  if (request.method !== "POST") return false;
  const type = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
  return type === "application/json" || type === "application/graphql+json";
}

/** Yoga's own errors for a POST body that is not a JSON object (plugins/request-parser/post-json). */
function badBody(message: string, originalError?: Error): Error {
  return createGraphQLError(message, {
    extensions: {
      http: { spec: originalError !== undefined, status: 400 },
      code: "BAD_REQUEST",
      ...(originalError ? { originalError: { name: originalError.name, message: originalError.message } } : {}),
    },
  });
}

/**
 * JSON bodies of SLICED_BODY_BYTES to `maxBytes` (by Content-Length; larger ones are refused before
 * parsing) read and parsed in slices; others by Yoga.
 */
export function slicedJsonBodies(maxBytes: number, minBytes = SLICED_BODY_BYTES): Plugin {
  return {
    onRequestParse({ request, setRequestParser }) {
      const length = Number(request.headers.get("content-length"));
      if (!isJsonPost(request) || !(length >= minBytes && length <= maxBytes)) return;
      setRequestParser(async (request) => {
        const text = await bodyBytes(request, length);
        let body: unknown;
        try {
          body = await parseJsonInSlices(text);
        } catch (error) {
          throw badBody("POST body sent invalid JSON.", error as Error);
        }
        if (body === null || typeof body !== "object") {
          throw badBody(`POST body is expected to be object but received ${body === null ? null : typeof body}`);
        }
        return body as GraphQLParams;
      });
    },
  };
}
