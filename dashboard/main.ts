// The Bullseye dashboard: a single page on the public GraphQL API only. Sign in with a token (kept in
// sessionStorage), then: campaigns with their delivery stats, a live feed of rule changes (SSE, resumed
// from the last version seen), replica status, a "try a device" box and, for admins, pause/resume.
import { type Api, ApiError, createApi } from "./api.ts";
import { ago, type DimensionValues, h, shortDate, sparkline, targetingSummary } from "./view.ts";

const TOKEN_KEY = "bullseye.token";
const PAGE = 500;
const MAX_CAMPAIGNS = 5_000;
const FEED_LENGTH = 50;

interface CampaignRow {
  id: string;
  name: string;
  status: "ACTIVE" | "PAUSED";
  priority: number;
  startsAt: string | null;
  endsAt: string | null;
  targeting: { include: DimensionValues; exclude: DimensionValues };
  /** Null while the server cannot read its stats store (Redis down). */
  stats: { servedLastHour: number; series: number[] } | null;
}

interface RuleChange {
  version: number;
  kind: string;
  campaignId: string | null;
  categoryId: string | null;
  at: string;
}

interface IndexStatus {
  version: number;
  campaigns: number;
  builtAt: string;
  replicas: { id: string; version: number; seenAt: string }[];
}

const DIMS = "apps countries os categories";
// `first` as a variable: graphql-armor multiplies a literal `first` into the operation's cost.
const CAMPAIGNS = `query Campaigns($first: Int, $after: String) {
  campaigns(first: $first, after: $after) {
    id name status priority startsAt endsAt
    targeting { include { ${DIMS} } exclude { ${DIMS} } }
    stats { servedLastHour series(minutes: 60) }
  }
}`;
const STATUS = "query IndexStatus { indexStatus { version campaigns builtAt replicas { id version seenAt } } }";
const CHANGES = `subscription RuleChanges($since: Int) {
  ruleChanges(sinceVersion: $since) { version kind campaignId categoryId at }
}`;
const DELIVERY = `query TryDevice($app: String!, $os: String!, $country: String!) {
  delivery(app: $app, os: $os, country: $country) { version ads { cid img cta } }
}`;
const SET_STATUS = `mutation SetStatus($id: ID!, $status: CampaignStatus!) {
  updateCampaign(id: $id, input: { status: $status }) { version propagated }
}`;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

function showError(where: HTMLElement, error: unknown): void {
  where.textContent = error instanceof Error ? error.message : String(error);
  where.hidden = false;
}

// ---- sign in ---------------------------------------------------------------------------------------

function start(): void {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) void signIn(token);
  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    void signIn(($("token") as HTMLInputElement).value.trim());
  });
  $("signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  });
}

async function signIn(token: string): Promise<void> {
  const api = createApi(token);
  const error = $("signin-error");
  error.hidden = true;
  try {
    const { me } = await api.query<{ me: { role: "ADMIN" | "VIEWER" } }>("query Me { me { role } }");
    sessionStorage.setItem(TOKEN_KEY, token);
    $("signin").hidden = true;
    $("app").hidden = false;
    $("role").textContent = me.role.toLowerCase();
    new Dashboard(api, me.role === "ADMIN").run();
  } catch (e) {
    sessionStorage.removeItem(TOKEN_KEY);
    showError(error, e instanceof ApiError && e.code === "UNAUTHENTICATED" ? new Error("Unknown token") : e);
  }
}

// ---- the signed-in page ----------------------------------------------------------------------------

class Dashboard {
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private loading = false;
  private reloadAgain = false;
  private lastVersion: number | undefined;
  /** Items of `lastVersion` already shown: a resumed stream replays that version, duplicates skipped. */
  private seenOfLast = new Set<string>();

  constructor(
    private readonly api: Api,
    private readonly admin: boolean,
  ) {}

  run(): void {
    void this.loadCampaigns();
    void this.loadStatus();
    // Served counts move without rule changes: refresh them now and then; replicas more often.
    setInterval(() => void this.loadCampaigns(), 5_000);
    setInterval(() => void this.loadStatus(), 2_000);
    void this.follow();
    $("device").addEventListener("submit", (event) => {
      event.preventDefault();
      void this.tryDevice();
    });
  }

  /** Reloads the table soon; several changes in a burst cost one reload. */
  private refreshSoon(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      void this.loadCampaigns();
      void this.loadStatus();
    }, 100);
  }

  private async loadCampaigns(): Promise<void> {
    if (this.loading) {
      this.reloadAgain = true;
      return;
    }
    this.loading = true;
    try {
      const rows: CampaignRow[] = [];
      let after: string | undefined;
      let statsError = "";
      const partial = (errors: { message: string }[]) => {
        statsError = errors[0]?.message ?? "";
      };
      while (rows.length < MAX_CAMPAIGNS) {
        const { campaigns } = await this.api.query<{ campaigns: CampaignRow[] }>(
          CAMPAIGNS,
          { first: PAGE, after },
          { partial },
        );
        rows.push(...campaigns);
        if (campaigns.length < PAGE) break;
        after = campaigns.at(-1)?.id;
      }
      this.renderCampaigns(rows);
      if (statsError) showError($("campaigns-error"), statsError);
      else $("campaigns-error").hidden = true;
    } catch (e) {
      showError($("campaigns-error"), e);
    } finally {
      this.loading = false;
      if (this.reloadAgain) {
        this.reloadAgain = false;
        void this.loadCampaigns();
      }
    }
  }

  private renderCampaigns(rows: CampaignRow[]): void {
    $("campaign-count").textContent = String(rows.length);
    $("campaign-rows").replaceChildren(
      ...rows.map((c) =>
        h(
          "tr",
          { "data-cid": c.id, class: c.status === "PAUSED" ? "paused" : undefined },
          h("td", { class: "mono" }, h("span", { title: c.name }, c.id)),
          h("td", { class: "status" }, c.status),
          h("td", { class: "num" }, c.priority),
          h("td", { class: "dates" }, `${shortDate(c.startsAt)} → ${shortDate(c.endsAt)}`),
          h("td", { class: "targeting" }, targetingSummary(c.targeting)),
          h("td", { class: "num served" }, c.stats ? c.stats.servedLastHour : "—"),
          h("td", {}, c.stats ? sparkline(c.stats.series) : null),
          this.admin ? h("td", {}, this.toggleButton(c)) : null,
        ),
      ),
    );
    $("actions-head").hidden = !this.admin;
  }

  private toggleButton(c: CampaignRow): HTMLButtonElement {
    const next = c.status === "ACTIVE" ? "PAUSED" : "ACTIVE";
    const button = h(
      "button",
      {
        class: "toggle",
        "data-action": next === "PAUSED" ? "pause" : "resume",
        onclick: async () => {
          button.disabled = true;
          try {
            await this.api.query(SET_STATUS, { id: c.id, status: next });
            await this.loadCampaigns();
          } catch (e) {
            showError($("campaigns-error"), e);
            button.disabled = false;
          }
        },
      },
      next === "PAUSED" ? "Pause" : "Resume",
    );
    return button;
  }

  private async loadStatus(): Promise<void> {
    try {
      const { indexStatus: s } = await this.api.query<{ indexStatus: IndexStatus }>(STATUS);
      const newest = Math.max(s.version, ...s.replicas.map((r) => r.version));
      $("index-version").textContent = `index v${s.version} · ${s.campaigns} active campaigns`;
      $("replica-rows").replaceChildren(
        ...s.replicas.map((r) =>
          h(
            "tr",
            { "data-replica": r.id },
            h("td", { class: "mono" }, r.id),
            h("td", { class: "num" }, r.version),
            h("td", { class: newest - r.version > 0 ? "num lagging" : "num" }, newest - r.version),
            h("td", {}, ago(r.seenAt)),
          ),
        ),
      );
      $("status-error").hidden = true;
    } catch (e) {
      showError($("status-error"), e);
    }
  }

  /** The live feed: follows ruleChanges over SSE forever, resuming after the last version seen. */
  private async follow(): Promise<void> {
    const state = $("feed-state");
    for (let attempt = 0; ; attempt++) {
      const abort = new AbortController();
      try {
        if (this.lastVersion === undefined) {
          // Start with a little history: the last few versions.
          const { indexStatus } = await this.api.query<{ indexStatus: IndexStatus }>(STATUS);
          this.lastVersion = Math.max(0, indexStatus.version - 10);
        }
        state.textContent = "live";
        state.className = "live";
        // Resume at the last version itself: items of it not yet seen come again, seen ones are skipped.
        await this.api.subscribe<{ ruleChanges: RuleChange }>(
          CHANGES,
          { since: Math.max(0, this.lastVersion - 1) },
          ({ ruleChanges }) => {
            attempt = 0;
            this.onChange(ruleChanges);
          },
          abort.signal,
        );
      } catch {
        // Dropped (network, restart, shutdown): reconnect below.
      }
      abort.abort();
      state.textContent = "reconnecting…";
      state.className = "down";
      await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
    }
  }

  private onChange(change: RuleChange): void {
    const key = `${change.kind}/${change.campaignId ?? ""}/${change.categoryId ?? ""}`;
    if (this.lastVersion !== undefined && change.version < this.lastVersion) return;
    if (change.version === this.lastVersion) {
      if (this.seenOfLast.has(key)) return;
    } else {
      this.lastVersion = change.version;
      this.seenOfLast = new Set();
    }
    this.seenOfLast.add(key);
    const feed = $("feed");
    feed.prepend(
      h(
        "li",
        { "data-version": change.version, "data-campaign": change.campaignId ?? undefined },
        h("span", { class: "version" }, `v${change.version}`),
        h("span", { class: "kind" }, change.kind.toLowerCase().replace("_", " ")),
        h("span", { class: "mono" }, change.campaignId ?? change.categoryId ?? ""),
        h("time", { datetime: change.at, title: change.at }, change.at.slice(11, 19)),
      ),
    );
    while (feed.children.length > FEED_LENGTH) feed.lastElementChild?.remove();
    this.refreshSoon();
  }

  private async tryDevice(): Promise<void> {
    const value = (name: string) => ($(name) as HTMLInputElement).value;
    const out = $("device-result");
    try {
      const { delivery } = await this.api.query<{
        delivery: { version: number; ads: { cid: string; img: string; cta: string }[] };
      }>(DELIVERY, { app: value("device-app"), os: value("device-os"), country: value("device-country") });
      out.replaceChildren(
        h("p", { class: "muted" }, `index v${delivery.version}: ${delivery.ads.length || "no"} ads`),
        h(
          "ol",
          { class: "ads" },
          ...delivery.ads.map((ad) =>
            h("li", { "data-cid": ad.cid }, h("b", { class: "mono" }, ad.cid), ` “${ad.cta}” `, h("small", {}, ad.img)),
          ),
        ),
      );
    } catch (e) {
      out.replaceChildren(h("p", { class: "error" }, e instanceof Error ? e.message : String(e)));
    }
  }
}

start();
