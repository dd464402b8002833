// @ts-check
// Spike: from a calm base to 10× in seconds and back. k6 run -e BASE_URL=... [-e BASE_RATE=500] load/spike.js
import { checkReady, deliverOnce, deliveryThresholds } from "./lib.js";

const base = Number(__ENV.BASE_RATE || 500);

/** @type {import("k6/options").Options} */
export const options = {
  scenarios: {
    spike: {
      executor: "ramping-arrival-rate",
      startRate: base,
      timeUnit: "1s",
      preAllocatedVUs: 100,
      maxVUs: 2000,
      stages: [
        { target: base, duration: "30s" },
        { target: base * 10, duration: "10s" },
        { target: base * 10, duration: "30s" },
        { target: base, duration: "10s" },
        { target: base, duration: "30s" },
      ],
    },
  },
  thresholds: { ...deliveryThresholds, "http_req_duration{name:delivery}": ["p(99)<50"] },
};

export const setup = checkReady;
export default deliverOnce;
