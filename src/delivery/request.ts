// Device request validation (CONTRACT §3): raw fields → normalised DeviceRequest, or every bad field.

import { normalizeApp, normalizeCountry, normalizeOs } from "./normalize.ts";
import type { DeviceRequest } from "./types.ts";

export type FieldProblem = "missing" | "invalid";

export type ParsedRequest =
  | { ok: true; request: DeviceRequest }
  | { ok: false; error: string; fields: Record<string, FieldProblem> };

const FIELDS = [
  ["app", normalizeApp],
  ["os", normalizeOs],
  ["country", normalizeCountry],
] as const;

export function parseDeviceFields(raw: Record<string, unknown>): ParsedRequest {
  const request = { app: "", os: "", country: "" };
  let fields: Record<string, FieldProblem> | undefined;
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
    }
  }
  if (!fields) return { ok: true, request };
  const error = Object.entries(fields)
    .map(([name, problem]) => `${problem} ${name} param`)
    .join(", ");
  return { ok: false, error, fields };
}
