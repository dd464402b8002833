// @ts-check
// Delivery while admins change campaigns every second (read-your-write must hold, delivery must not
// suffer). Needs a seeded synthetic catalog (npm run db:seed -- --campaigns 5000 --apps 100000).
// k6 run -e BASE_URL=... -e ADMIN_TOKEN=... load/churn.js
import { check } from "k6";
import http from "k6/http";
import { ADMIN_TOKEN, BASE_URL, checkReady, deliverOnce, deliveryThresholds } from "./lib.js";

/** @type {import("k6/options").Options} */
export const options = {
  scenarios: {
    devices: {
      executor: "constant-arrival-rate",
      rate: Number(__ENV.RATE || 2000),
      timeUnit: "1s",
      duration: __ENV.DURATION || "1m",
      preAllocatedVUs: 50,
      maxVUs: 500,
      exec: "devices",
    },
    admins: {
      executor: "constant-arrival-rate",
      rate: 1,
      timeUnit: "1s",
      duration: __ENV.DURATION || "1m",
      preAllocatedVUs: 2,
      exec: "admins",
    },
  },
  thresholds: {
    ...deliveryThresholds,
    "http_req_duration{name:mutation}": ["p(99)<500"],
    "checks{name:mutation}": ["rate>0.99"],
  },
};

export function setup() {
  checkReady();
  if (!ADMIN_TOKEN) throw new Error("set -e ADMIN_TOKEN=...");
}

export const devices = deliverOnce;

export function admins() {
  const id = `c${String(Math.floor(Math.random() * 5000)).padStart(6, "0")}`;
  const res = http.post(
    `${BASE_URL}/graphql`,
    JSON.stringify({
      query: "mutation($id: ID!, $p: Int!) { updateCampaign(id: $id, input: { priority: $p }) { version propagated } }",
      variables: { id, p: Math.floor(Math.random() * 1000) },
    }),
    {
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${ADMIN_TOKEN}` },
      tags: { name: "mutation" },
    },
  );
  check(
    res,
    { "mutation propagated": (r) => r.status === 200 && r.json("data.updateCampaign.propagated") === true },
    { name: "mutation" },
  );
}
