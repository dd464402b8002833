// Device request validation (docs/CONTRACT.md §3): raw fields → normalised DeviceRequest, or every bad field
// (`fields`) with the classic message for the first one (`error`: app, then country, then os).

import { normalizeApp, normalizeCountry, normalizeOs } from "./normalize.ts";
import type { DeviceRequest } from "./types.ts";

export type FieldProblem = "missing" | "invalid";

export type ParsedRequest =
  | { ok: true; request: DeviceRequest }
  | { ok: false; error: string; fields: Record<string, FieldProblem> };

/** The classic targeting engine's order: `error` names the first problem in it. */
const FIELDS = [
  ["app", normalizeApp],
  ["country", normalizeCountry],
  ["os", normalizeOs],
] as const;

export function parseDeviceFields(raw: Record<string, unknown>): ParsedRequest {
  const request = { app: "", os: "", country: "" };
  let fields: Record<string, FieldProblem> | undefined;
  let error = "";
  for (const [name, normalize] of FIELDS) {
    const value = raw[name];
    let problem: FieldProblem | undefined;
    if (value === undefined || value === null || (typeof value === "string" && value.trim() === "")) {
      problem = "missing";
    } else if (typeof value !== "string") {
      problem = "invalid";
    } else {
      const normalized = normalize(value);
      if (normalized === undefined) problem = "invalid";
      else request[name] = normalized;
    }
    if (problem) {
      fields ??= {};
      fields[name] = problem;
      error ||= `${problem} ${name} param`;
    }
  }
  if (!fields) return { ok: true, request };
  // Clients of the classic contract compare `error` to one message; `fields` tells the whole story.
  return { ok: false, error, fields };
}
