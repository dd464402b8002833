// "Why not serving?" on a campaign page: for an app, os and country, explainDelivery on this replica's
// index (the snapshot /v1/delivery answers from) says whether the campaign serves that device now and,
// if not, every reason, in words with the values involved. The box keeps its inputs and answer across
// the page's reloads, and asks again when the campaign changes while an answer is shown.
import { ApiError } from "./api.ts";
import { day, someOf } from "./format.ts";
import { EXPLAIN, type Explanation, type Targeting } from "./queries.ts";
import type { Device, Session } from "./session.ts";
import { h, setChildren } from "./view.ts";

interface Asked {
  campaignId: string;
  targeting: Targeting;
}

type Request = Explanation["request"];
type Reason = Explanation["campaigns"][number]["reasons"][number];

const DIMENSION = {
  APP: { label: "App", key: "apps", of: (r: Request) => r.app },
  COUNTRY: { label: "Country", key: "countries", of: (r: Request) => r.country },
  OS: { label: "OS", key: "os", of: (r: Request) => r.os },
} as const;

/** One reason in plain words: "Paused", "Country DE is not in its list: US, CA", "App spotify is excluded". */
export function reasonText({ reason, values }: Reason, request: Request, targeting: Targeting): string {
  if (reason === "PAUSED") return "Paused";
  if (reason === "NOT_STARTED") return `Starts ${day(values[0] ?? "")}`;
  if (reason === "ENDED") return `Ended ${day(values[0] ?? "")}`;
  const excluded = reason.endsWith("_EXCLUDED");
  if (reason.startsWith("CATEGORY_")) {
    const total = targeting.include.categories.length;
    if (!excluded) return `In no included category: ${someOf(values, 8, total)}`;
    return `In excluded ${values.length === 1 ? "category" : "categories"}: ${someOf(values)}`;
  }
  const dimension = DIMENSION[reason.slice(0, reason.indexOf("_")) as keyof typeof DIMENSION];
  const value = dimension.of(request);
  if (excluded) return `${dimension.label} ${value} is excluded`;
  return `${dimension.label} ${value} is not in its list: ${someOf(values, 8, targeting.include[dimension.key].length)}`;
}

/** The device to start with: the one last tried or explained, else one from the campaign's own rules. */
function startingDevice(session: Session, targeting: Targeting): Device {
  if (session.lastDevice) return session.lastDevice;
  return {
    app: targeting.include.apps[0] ?? "com.example.app",
    os: targeting.include.os[0] ?? "ios",
    country: targeting.include.countries[0] ?? "US",
  };
}

/** The server's field problems (`missing`, `invalid`) in words. */
function problemText(name: keyof Device, problem: string): string {
  if (problem === "missing") return "required";
  if (problem !== "invalid") return problem;
  return name === "country" ? "not an ISO 3166-1 alpha-2 code or English country name" : `not a valid ${name}`;
}

export interface WhyBox {
  el: HTMLElement;
  /** The campaign as the page last read it. */
  update(campaign: Asked & { revision: number }): void;
}

export function whyNotServing(session: Session, campaign: Asked & { revision: number }): WhyBox {
  let current = campaign;
  let answered = false;
  let inFlight: AbortController | undefined;
  const start = startingDevice(session, campaign.targeting);
  const errors = new Map<string, HTMLElement>();
  const input = (name: keyof Device) => {
    const control = h("input", {
      id: `why-${name}`,
      name,
      class: "input",
      autocomplete: "off",
      spellcheck: "false",
      value: start[name],
    });
    const error = h("span", { class: "field-error", "data-error-for": name, hidden: true });
    errors.set(name, error);
    return h("label", { class: "field" }, h("span", { class: "field-label" }, name), control, error);
  };
  const submit = h("button", { type: "submit", class: "btn btn-secondary", id: "why-submit" }, "Explain");
  const result = h("div", { id: "why-result", class: "why-result", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "why-form", id: "why", novalidate: true },
    input("app"),
    input("os"),
    input("country"),
    submit,
  );
  const el = h(
    "div",
    { class: "why" },
    h("p", { class: "hint" }, "Whether this replica's index serves it to a device now, and if not, why."),
    form,
    result,
  );

  const value = (name: keyof Device) => (form.elements.namedItem(name) as HTMLInputElement).value;

  function showFieldErrors(fields: Record<string, string>): void {
    for (const [name, error] of errors) {
      const problem = fields[name];
      error.hidden = problem === undefined;
      error.textContent = problem === undefined ? "" : problemText(name as keyof Device, problem);
      const control = form.elements.namedItem(name) as HTMLInputElement;
      if (problem === undefined) control.removeAttribute("aria-invalid");
      else control.setAttribute("aria-invalid", "true");
    }
  }

  async function explain(): Promise<void> {
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    const device = { app: value("app"), os: value("os"), country: value("country") };
    session.lastDevice = device;
    const asked = current;
    submit.disabled = true;
    result.classList.add("stale");
    try {
      const { explainDelivery } = await session.api.query<{ explainDelivery: Explanation }>(
        EXPLAIN,
        { ...device, ids: [asked.campaignId] },
        { signal: controller.signal },
      );
      if (inFlight !== controller) return;
      showFieldErrors({});
      answered = true;
      draw(explainDelivery, asked.targeting);
    } catch (e) {
      if (inFlight !== controller || (e instanceof ApiError && e.code === "ABORTED")) return;
      answered = false;
      if (e instanceof ApiError && e.code === "BAD_USER_INPUT" && Object.keys(e.fields).length) {
        showFieldErrors(e.fields);
        result.replaceChildren();
      } else if (!(e instanceof ApiError && e.code === "UNAUTHENTICATED")) {
        showFieldErrors({});
        result.replaceChildren(h("p", { class: "field-error" }, (e as Error).message));
      }
    } finally {
      if (inFlight === controller) {
        inFlight = undefined;
        submit.disabled = false;
        result.classList.remove("stale");
      }
    }
  }

  function draw(explanation: Explanation, targeting: Targeting): void {
    const { request, version } = explanation;
    const verdict = explanation.campaigns[0];
    const echo = h(
      "p",
      { class: "muted small", id: "why-device" },
      "As delivery sees it: app ",
      h("strong", { class: "mono" }, request.app),
      " · os ",
      h("strong", { class: "mono" }, request.os),
      " · country ",
      h("strong", { class: "mono" }, request.country),
      " · ",
      request.categories.length ? `categories ${someOf(request.categories)}` : "its app is in no category",
      " · ",
      h("span", { id: "why-version" }, `index v${version}`),
    );
    let verdictEl: HTMLElement;
    if (!verdict)
      verdictEl = h(
        "p",
        { class: "why-verdict why-absent", id: "why-verdict" },
        "Not in this replica's index (yet): it has not applied this campaign, or the campaign is gone.",
      );
    else if (verdict.matched)
      verdictEl = h("p", { class: "why-verdict why-serving", id: "why-verdict" }, "Serving this device now");
    else
      verdictEl = h(
        "div",
        { id: "why-verdict", class: "why-verdict why-not" },
        h(
          "p",
          {},
          `Not serving this device: ${verdict.reasons.length === 1 ? "1 reason" : `${verdict.reasons.length} reasons`}`,
        ),
        h(
          "ul",
          { class: "why-reasons", id: "why-reasons" },
          verdict.reasons.map((reason) =>
            h("li", { "data-reason": reason.reason }, reasonText(reason, request, targeting)),
          ),
        ),
      );
    setChildren(result, verdictEl, echo);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void explain();
  });

  return {
    el,
    update(campaign) {
      const changed = campaign.revision !== current.revision;
      current = campaign;
      // An answer about an older revision would mislead: ask again.
      if (changed && answered) void explain();
    },
  };
}
