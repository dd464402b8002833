// A campaign's history on its page: revisions newest first, each with who, why, when, what it changed
// against the one before and its whole state; "Show older revisions" pages back. Every diff needs the
// revision before it, so a page asks for one revision more than it shows. The box keeps what it shows
// (older pages, an open revert form) while the campaign's revision stays the same.
import { ApiError } from "./api.ts";
import { byline } from "./byline.ts";
import { describeChanges, describeNew } from "./diff.ts";
import { errorText } from "./error-text.ts";
import { flight, targetingSummary, utc } from "./format.ts";
import { type CampaignRevision, campaignHistory } from "./queries.ts";
import { revertForm } from "./revert-form.ts";
import type { Session } from "./session.ts";
import { button, h, setChildren } from "./view.ts";

/** Revisions shown per page. */
export const HISTORY_PAGE = 10;

export interface HistorySource {
  campaignId: string;
  /** The revision the campaign is at: its newest, a deletion's for a deleted campaign. */
  revision: number;
  /** Newest first, up to HISTORY_PAGE + 1: the extra one is only the base of the last one's diff. */
  revisions: CampaignRevision[];
}

export interface HistoryBox {
  el: HTMLElement;
  update(source: HistorySource): void;
}

/** What a revision changed, in words; `previous` is the revision before it, if known. */
export function revisionChanges(revision: CampaignRevision, previous: CampaignRevision | undefined): string {
  if (revision.deleted) return "deleted";
  if (!previous) {
    const what = describeNew(revision.campaign).join(" · ");
    return revision.revision === 1 ? `created: ${what}` : `earliest revision kept: ${what}`;
  }
  const changes = describeChanges(previous.campaign, revision.campaign);
  const said = changes.length ? changes.join(" · ") : "no field or rule changed";
  return previous.deleted ? `created again: ${said}` : said;
}

function fullState(revision: CampaignRevision): HTMLElement {
  const c = revision.campaign;
  const fact = (term: string, value: string) =>
    h("div", {}, h("dt", {}, term), h("dd", { class: "wrap" }, value || "—"));
  return h(
    "details",
    { class: "revision-state" },
    h("summary", {}, "Whole state at this revision"),
    h(
      "dl",
      { class: "facts" },
      fact("name", c.name),
      fact("status", c.status),
      fact("priority", String(c.priority)),
      fact("flight", flight(c)),
      fact("call to action", c.cta),
      fact("image", c.imageUrl),
      fact("targeting", targetingSummary(c.targeting, 50)),
    ),
  );
}

export function campaignHistoryBox(session: Session, first: HistorySource, onReverted: () => void): HistoryBox {
  let source = first;
  let known = first.revisions;
  let more = known.length > HISTORY_PAGE;
  let openForm: HTMLElement | undefined;
  const message = h("p", { class: "history-message", id: "history-message", role: "status", hidden: true });
  const list = h("ol", { class: "history", id: "history" });
  const foot = h("div", { class: "history-foot" });
  const el = h("div", { class: "history-box" }, message, list, foot);

  function say(text: string, kind: "error" | "notice", action?: HTMLElement): void {
    message.className = `history-message ${kind === "error" ? "field-error" : "notice"}`;
    setChildren(message, text, action ? " " : null, action);
    message.hidden = false;
  }

  function draw(): void {
    openForm = undefined;
    const shown = more ? known.slice(0, -1) : known;
    setChildren(
      list,
      shown.map((revision, i) => revisionRow(revision, known[i + 1])),
    );
    if (shown.length === 0) list.replaceChildren(h("li", { class: "muted" }, "No revisions recorded."));
    setChildren(
      foot,
      more ? button("Show older revisions", (event) => void older(event.currentTarget as HTMLButtonElement)) : null,
    );
  }

  function revisionRow(revision: CampaignRevision, previous: CampaignRevision | undefined): HTMLLIElement {
    const current = revision.revision === source.revision;
    const slot = h("div", { class: "revert-slot" });
    const revertable = session.admin && !current && !revision.deleted;
    return h(
      "li",
      { class: "revision", "data-revision": revision.revision },
      h(
        "div",
        { class: "revision-line" },
        h("strong", {}, `revision ${revision.revision}`),
        current ? h("span", { class: "badge badge-current" }, revision.deleted ? "deleted" : "current") : null,
        h("span", { class: "muted small" }, `v${revision.version}`),
        h("time", { class: "muted small", datetime: revision.at }, utc(revision.at)),
      ),
      byline(revision.actor, revision.reason, { class: "byline small" }),
      h("p", { class: "revision-diff" }, revisionChanges(revision, previous)),
      fullState(revision),
      revertable
        ? h(
            "div",
            { class: "revision-actions" },
            button("Revert to this…", () => openRevert(revision, slot), { "data-action": "revert" }, "secondary"),
          )
        : null,
      slot,
    );
  }

  function openRevert(revision: CampaignRevision, slot: HTMLElement): void {
    if (openForm) openForm.remove();
    message.hidden = true;
    const expected = source.revision;
    const form = revertForm(session, {
      campaignId: source.campaignId,
      toRevision: revision.revision,
      expectedRevision: expected,
      onDone: (result) => {
        form.remove();
        openForm = undefined;
        if (result.ok) {
          say(`Reverted to revision ${revision.revision}'s state: it is now revision ${result.revision}.`, "notice");
          onReverted();
        } else if (result.error instanceof ApiError && result.error.code === "CONFLICT") {
          const now = result.error.extensions?.revision;
          say(
            `Not reverted: someone changed this campaign meanwhile (it is at revision ${now ?? "?"} now, not ${expected}). Reload to see their change, then decide again.`,
            "error",
            button(
              "Reload",
              () => {
                message.hidden = true;
                onReverted();
              },
              { id: "history-reload" },
              "primary",
            ),
          );
        } else say(`Not reverted: ${errorText(result.error)}`, "error");
      },
      onCancel: () => {
        form.remove();
        openForm = undefined;
      },
    });
    openForm = form;
    slot.replaceChildren(form);
    form.querySelector<HTMLInputElement>("input")?.focus();
  }

  async function older(moreButton: HTMLButtonElement): Promise<void> {
    const last = known.at(-1);
    if (!last) return;
    moreButton.disabled = true;
    try {
      const { campaignHistory: page } = await session.api.query<{ campaignHistory: CampaignRevision[] }>(
        campaignHistory(HISTORY_PAGE + 1),
        { id: source.campaignId, after: String(last.revision) },
      );
      known = [...known, ...page];
      more = page.length > HISTORY_PAGE;
      draw();
    } catch (e) {
      moreButton.disabled = false;
      if (!(e instanceof ApiError && (e.code === "ABORTED" || e.code === "UNAUTHENTICATED")))
        say(`Could not load older revisions: ${errorText(e)}`, "error");
    }
  }

  draw();
  return {
    el,
    update(next) {
      const changed = next.revision !== source.revision || next.campaignId !== source.campaignId;
      source = next;
      if (!changed) return;
      if (openForm)
        say(`The campaign changed meanwhile (now revision ${next.revision}); here is its history.`, "notice");
      known = next.revisions;
      more = known.length > HISTORY_PAGE;
      draw();
    },
  };
}
