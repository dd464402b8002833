// @ts-check
// Shared pieces of the k6 scripts: base URL, the device request mix of `npm run bench`, checks.
import { check } from "k6";
import http from "k6/http";

export const BASE_URL = __ENV.BASE_URL || "http://localhost:9090";
export const ADMIN_TOKEN = __ENV.ADMIN_TOKEN || "";
const APPS = Number(__ENV.APPS || 100000);
const COUNTRIES = [
  "US",
  "CA",
  "MX",
  "BR",
  "AR",
  "CO",
  "CL",
  "PE",
  "GB",
  "IE",
  "FR",
  "DE",
  "ES",
  "PT",
  "IT",
  "NL",
  "BE",
  "CH",
  "AT",
  "SE",
  "NO",
  "DK",
  "FI",
  "PL",
  "CZ",
  "RO",
  "GR",
  "TR",
  "RU",
  "UA",
  "IN",
  "PK",
  "BD",
  "CN",
  "JP",
  "KR",
  "TW",
  "HK",
  "SG",
  "MY",
  "ID",
  "TH",
  "VN",
  "PH",
  "AU",
  "NZ",
  "ZA",
  "NG",
  "EG",
  "SA",
];
const OSES = ["android", "ios", "harmonyos"];

/** @param {number} n */
const pick = (n) => Math.floor(Math.random() * n);

export function checkReady() {
  const ready = http.get(`${BASE_URL}/readyz`);
  if (ready.status !== 200) throw new Error(`Bullseye is not ready: ${ready.status} ${ready.body}`);
}

/** One device asking for ads; checks the business result, not just the status. */
export function deliverOnce() {
  const app = Math.random() < 0.05 ? `com.unknown.app${pick(1000000)}` : `com.synthetic.app${pick(APPS)}`;
  const os = OSES[pick(Math.random() < 0.95 ? 2 : 3)];
  const country = COUNTRIES[pick(COUNTRIES.length)];
  const res = http.post(`${BASE_URL}/v1/delivery`, JSON.stringify({ app, os, country }), {
    headers: { "Content-Type": "application/json" },
    tags: { name: "delivery" },
  });
  check(res, {
    "200 or 204": (r) => r.status === 200 || r.status === 204,
    "has index version": (r) => /^\d+$/.test(String(r.headers["X-Index-Version"])),
    "200 carries ads": (r) => {
      if (r.status !== 200) return true;
      const ads = /** @type {{cid: string, img: string, cta: string}[]} */ (r.json());
      return Array.isArray(ads) && ads.length > 0 && ads.every((ad) => ad.cid && ad.img.startsWith("http") && ad.cta);
    },
  });
}

export const deliveryThresholds = {
  http_req_failed: ["rate<0.001"],
  "http_req_duration{name:delivery}": ["p(95)<10", "p(99)<25"],
  checks: ["rate>0.999"],
};
