// @ts-check
// Steady delivery load: k6 run -e BASE_URL=http://localhost:9090 [-e RATE=2000 -e DURATION=1m] load/delivery.js
import { checkReady, deliverOnce, deliveryThresholds } from "./lib.js";

/** @type {import("k6/options").Options} */
export const options = {
  scenarios: {
    steady: {
      executor: "constant-arrival-rate",
      rate: Number(__ENV.RATE || 2000),
      timeUnit: "1s",
      duration: __ENV.DURATION || "1m",
      preAllocatedVUs: 50,
      maxVUs: 500,
    },
  },
  thresholds: deliveryThresholds,
};

export const setup = checkReady;
export default deliverOnce;
