// The editor's live reach estimate: 400 ms after the last change to the rules or the flight, `forecast`
// with the draft as it is in the form (nothing is saved): the share of the last hour's traffic it would
// match, the requests per hour that is, how many replicas answered, and the active campaigns it overlaps
// with most. A newer draft aborts the request in flight; the previous figure stays, dimmed, until the
// new one arrives. Invalid values are handed to the editor (marked where they are) and named here.
import { ApiError } from "./api.ts";
import { count, percent } from "./format.ts";
import { FORECAST, type Forecast, type Targeting } from "./queries.ts";
import type { Session } from "./session.ts";
import { h, setChildren } from "./view.ts";

export const ESTIMATE_DEBOUNCE_MS = 400;

export interface ReachDraft {
  targeting: Targeting;
  startsAt: string | null;
  endsAt: string | null;
}

export interface ReachOptions {
  /** The rules and flight as they are in the form now. */
  draft(): ReachDraft;
  /** The campaign being edited (its saved version may show among the overlaps). */
  campaignId?: string;
  /** The forecast's BAD_USER_INPUT fields (`targeting.include.countries.2`, `endsAt`), {} once valid. */
  invalid(fields: Record<string, string>): void;
}

export interface ReachEstimate {
  el: HTMLElement;
  /** The draft changed: estimate again once it has been still for a moment. */
  schedule(): void;
}

/** "include countries “Narnia”: must be …" for a field path of the draft. */
function describe(path: string, message: string, draft: ReachDraft): string {
  const rule = /^targeting\.(include|exclude)\.(\w+)(?:\.(\d+))?$/.exec(path);
  if (rule) {
    const [, mode = "", key = "", index] = rule;
    const values = draft.targeting[mode as "include"][key as "apps"] ?? [];
    const value = index === undefined ? "" : ` “${values[Number(index)] ?? "?"}”`;
    return `${mode} ${key}${value}: ${message}`;
  }
  const label = { startsAt: "starts", endsAt: "ends" }[path] ?? path;
  return `${label}: ${message}`;
}

export function reachEstimate(session: Session, options: ReachOptions): ReachEstimate {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | undefined;
  let shown = false;
  const state = h("span", { class: "muted small", id: "reach-state" });
  const body = h("div", { class: "reach-body", id: "reach-body" }, h("p", { class: "muted" }, "Estimating…"));
  const el = h(
    "section",
    { class: "reach", id: "reach", "aria-live": "polite" },
    h(
      "div",
      { class: "reach-head" },
      h("h3", {}, "Estimated reach"),
      h("span", { class: "muted small" }, "last hour's traffic · the draft, not saved"),
      state,
    ),
    body,
  );

  function schedule(): void {
    clearTimeout(timer);
    timer = setTimeout(() => void estimate(), ESTIMATE_DEBOUNCE_MS);
  }

  async function estimate(): Promise<void> {
    inFlight?.abort();
    // The editor was closed (saved, cancelled, another page): nothing to estimate for.
    if (!el.isConnected || !session.active) return;
    const controller = new AbortController();
    inFlight = controller;
    const draft = options.draft();
    let stale = false;
    el.classList.add("loading");
    el.setAttribute("aria-busy", "true");
    state.textContent = shown ? "updating…" : "";
    try {
      const { forecast } = await session.api.query<{ forecast: Forecast }>(
        FORECAST,
        { ...draft },
        {
          signal: controller.signal,
        },
      );
      if (inFlight !== controller) return;
      options.invalid({});
      draw(forecast);
      shown = true;
      state.textContent = "";
    } catch (e) {
      if (inFlight !== controller || !(e instanceof ApiError) || e.code === "ABORTED") return;
      if (e.code === "BAD_USER_INPUT" && Object.keys(e.fields).length) {
        options.invalid(e.fields);
        const problems = Object.entries(e.fields).map(([path, message]) => describe(path, message, draft));
        setChildren(body, h("p", { class: "field-error", id: "reach-error" }, `Not estimated: ${problems.join("; ")}`));
        shown = false;
        state.textContent = "";
      } else if (e.code !== "UNAUTHENTICATED") {
        // Unreachable or unavailable: the last figure stays, dimmed, saying why it is not newer.
        stale = shown;
        state.textContent = e.code === "UNREACHABLE" ? "cannot reach the server" : `not updated: ${e.message}`;
        if (!shown) body.replaceChildren();
      }
    } finally {
      if (inFlight === controller) {
        inFlight = undefined;
        el.removeAttribute("aria-busy");
        el.classList.toggle("loading", stale);
      }
    }
  }

  function draw(f: Forecast): void {
    if (f.sampledRequests === 0) {
      setChildren(
        body,
        h(
          "p",
          { class: "muted", id: "reach-empty" },
          `No traffic sampled yet (${f.replicasAnswered} ${f.replicasAnswered === 1 ? "replica" : "replicas"} answered): the estimate appears once devices ask for ads.`,
        ),
      );
      return;
    }
    const figure = (id: string, label: string, value: string) =>
      h("div", {}, h("dt", {}, label), h("dd", { id }, value));
    setChildren(
      body,
      h(
        "dl",
        { class: "figures" },
        figure("reach-share", "share of traffic", percent(f.matchingShare)),
        figure("reach-rate", "requests per hour", count(Math.round(f.requestsPerHour))),
        figure("reach-replicas", "replicas answered", count(f.replicasAnswered)),
      ),
      h("p", { class: "muted small" }, `From ${count(f.sampledRequests)} sampled requests.`),
      h("h4", {}, "Overlaps with ", h("span", { class: "small" }, "(share of these requests they match too)")),
      f.overlaps.length
        ? h(
            "ul",
            { class: "overlaps", id: "reach-overlaps" },
            f.overlaps.map((o) =>
              h(
                "li",
                { "data-cid": o.campaign.id },
                h("span", { class: "overlap-share" }, percent(o.share)),
                h(
                  "span",
                  { class: "overlap-who" },
                  h(
                    "a",
                    {
                      href: `#/campaign/${encodeURIComponent(o.campaign.id)}`,
                      target: "_blank",
                      rel: "opener",
                      title: "Opens in a new tab: your edits stay here",
                    },
                    h("span", { class: "mono" }, o.campaign.id),
                    o.campaign.name !== o.campaign.id ? h("span", { class: "muted" }, ` ${o.campaign.name}`) : null,
                  ),
                  o.campaign.id === options.campaignId
                    ? h("span", { class: "muted small" }, " (this one, as saved)")
                    : null,
                ),
              ),
            ),
          )
        : h(
            "p",
            { class: "muted small", id: "reach-overlaps-none" },
            f.matchingShare === 0
              ? "None: the draft matches none of the sampled requests."
              : "No active campaign matches the same requests.",
          ),
    );
  }

  schedule();
  return { el, schedule };
}
