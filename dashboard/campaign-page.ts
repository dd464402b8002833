// A campaign's page: its header (id, name, status, revision) with the admin actions, then its sections
// (campaign-sections.ts), or the editor in their place. Live changes to it reload it (or, while it is
// being edited, say so); its counts are refreshed every few seconds.
import { ApiError } from "./api.ts";
import { byline } from "./byline.ts";
import { campaignEditor, type Editor } from "./campaign-editor.ts";
import { campaignHistoryBox, HISTORY_PAGE } from "./campaign-history.ts";
import { type CampaignDetail, campaignSections } from "./campaign-sections.ts";
import { agoSince, deliveryState } from "./format.ts";
import {
  type CampaignRevision,
  type CampaignState,
  campaignHistory,
  DELETE,
  SET_STATUS,
  STATE_FIELDS,
} from "./queries.ts";
import type { Session } from "./session.ts";
import { button, emptyState, h, setChildren, type View } from "./view.ts";

const STATS_EVERY_MS = 10_000;

// lastChange: who made the current revision and why, for the head.
const CAMPAIGN = `query Campaign($id: ID!) {
  campaign(id: $id) {
    ${STATE_FIELDS} createdAt lastChange: history(first: 1) { revision actor reason }
    ${campaignSections.map((s) => s.fields).join(" ")}
  }
}`;

interface LastChange {
  revision: number;
  actor: string;
  reason: string | null;
}

export function showCampaignPage(session: Session, id: string): View {
  let campaign: CampaignDetail | undefined;
  let editor: Editor | undefined;
  let disposed = false;
  const head = h(
    "section",
    { class: "card campaign-head", id: "campaign-head" },
    h("p", { class: "muted" }, "Loading…"),
  );
  const body = h("div", { class: "sections", id: "campaign-sections" });
  /** Outcome of the last action (saved, conflict) or the delete confirmation: kept across redraws. */
  const headMessage = h("div", { id: "head-message", hidden: true });
  const el = h(
    "div",
    { class: "campaign-page", "data-campaign": id },
    h("nav", { class: "crumbs" }, h("a", { href: "#/", id: "back" }, "← Campaigns")),
    head,
    body,
  );

  async function load(): Promise<void> {
    try {
      const data = await session.api.query<{ campaign: CampaignDetail | null }>(
        CAMPAIGN,
        { id },
        { partial: () => undefined },
      );
      if (disposed) return;
      if (!data.campaign) return gone();
      campaign = data.campaign;
      shownGone = false;
      session.cache.put([campaign]);
      drawHead();
      if (!editor) drawSections();
    } catch (e) {
      if (disposed || (e instanceof ApiError && (e.code === "ABORTED" || e.code === "UNREACHABLE"))) return;
      head.replaceChildren(h("p", { class: "field-error" }, (e as Error).message));
    }
  }

  /** Whether the page says the campaign is not there: the periodic reload leaves that view alone. */
  let shownGone = false;

  function gone(): void {
    if (shownGone) return;
    shownGone = true;
    campaign = undefined;
    editor = undefined;
    head.replaceChildren(
      emptyState(
        `There is no campaign “${id}”.`,
        "It may have been deleted, or the link is wrong.",
        h("a", { class: "btn btn-secondary", href: "#/" }, "Back to the campaigns"),
      ),
    );
    body.replaceChildren();
    void deletedHistory();
  }

  /** A deleted campaign's history (kept HISTORY_DAYS), from which an admin may restore it. */
  async function deletedHistory(): Promise<void> {
    let revisions: CampaignRevision[];
    try {
      ({ campaignHistory: revisions } = await session.api.query<{ campaignHistory: CampaignRevision[] }>(
        campaignHistory(HISTORY_PAGE + 1),
        { id },
      ));
    } catch {
      return; // The page says the campaign is not there; its history is a bonus.
    }
    const [newest] = revisions;
    if (disposed || campaign || !newest) return;
    const box = campaignHistoryBox(
      session,
      { campaignId: id, revision: newest.revision, revisions },
      () => void load(),
    );
    body.replaceChildren(
      h(
        "section",
        { class: "card", "data-section": "history" },
        h("div", { class: "card-head" }, h("h2", {}, "History of the deleted campaign")),
        box.el,
      ),
    );
  }

  function drawHead(): void {
    if (!campaign) return;
    const c = campaign;
    const state = deliveryState(c);
    const [lastChange] = ((c.lastChange ?? []) as LastChange[]).filter((r) => r.revision === c.revision);
    const actions = session.admin
      ? h(
          "div",
          { class: "head-actions" },
          editor ? null : button("Edit", () => openEditor(), { id: "edit" }, "primary"),
          button(
            c.status === "ACTIVE" ? "Pause" : "Resume",
            (event) => void toggle(event.currentTarget as HTMLButtonElement),
            {
              id: "toggle-status",
            },
          ),
          button("Delete", () => confirmDelete(), { id: "delete" }, "danger"),
        )
      : null;
    setChildren(
      head,
      h(
        "div",
        { class: "title-row" },
        h("h2", { id: "campaign-name" }, c.name),
        h("span", { class: `badge badge-${c.status.toLowerCase()}` }, c.status),
        state !== "paused" ? h("span", { class: `state state-${state}` }, state) : null,
      ),
      h("p", { class: "mono cid wrap", id: "campaign-id" }, c.id),
      h(
        "p",
        { class: "muted small" },
        h("span", { id: "campaign-revision" }, `revision ${c.revision}`),
        ` · changed ${agoSince(c.updatedAt)}`,
      ),
      lastChange
        ? h("p", { class: "small", id: "campaign-last-change" }, byline(lastChange.actor, lastChange.reason))
        : null,
      actions,
      headMessage,
    );
  }

  const sectionPage = { reload: () => void load() };

  /** Each section's card and what it drew last: redrawn in place, a section's own state kept. */
  const drawn = new Map<string, { card: HTMLElement; content?: HTMLElement }>();

  function drawSections(): void {
    if (!campaign) return;
    const c = campaign;
    const cards = campaignSections.map((section) => {
      let slot = drawn.get(section.id);
      if (!slot) {
        const card = h(
          "section",
          { class: "card", "data-section": section.id },
          h("div", { class: "card-head" }, h("h2", {}, section.title)),
        );
        slot = { card };
        drawn.set(section.id, slot);
      }
      const content = section.render(c, session, slot.content, sectionPage);
      if (content !== slot.content) {
        if (slot.content) slot.content.replaceWith(content);
        else slot.card.append(content);
        slot.content = content;
      }
      return slot.card;
    });
    // Only when the cards are not there already (first draw, after the editor): moving a card would
    // take the focus from an input in it.
    if (cards.length !== body.children.length || cards.some((card, i) => body.children[i] !== card))
      body.replaceChildren(...cards);
  }

  function message(text: string, kind: "error" | "notice" = "notice"): void {
    headMessage.className = kind === "error" ? "field-error" : "notice";
    headMessage.textContent = text;
    headMessage.hidden = false;
  }

  function openEditor(): void {
    if (!campaign) return;
    editor = campaignEditor(session, {
      base: campaign,
      onSaved: (saved, change) => {
        editor = undefined;
        void load();
        drawSaved(saved, change.propagated);
      },
      onCancel: () => {
        editor = undefined;
        drawHead();
        drawSections();
        // Changes made elsewhere while editing were only announced: show them now.
        void load();
      },
    });
    drawHead();
    body.replaceChildren(editor.el);
    editor.el.querySelector<HTMLElement>("#edit-name")?.focus();
  }

  function drawSaved(saved: CampaignState, propagated: boolean): void {
    if (campaign) campaign = { ...campaign, ...saved };
    drawHead();
    drawSections();
    message(
      propagated
        ? `Saved: revision ${saved.revision}, served by every live replica.`
        : `Saved: revision ${saved.revision}; some replicas have not applied it yet.`,
    );
  }

  async function toggle(toggleButton: HTMLButtonElement): Promise<void> {
    if (!campaign) return;
    toggleButton.disabled = true;
    try {
      const { updateCampaign } = await session.api.query<{
        updateCampaign: { propagated: boolean; campaign: CampaignState };
      }>(SET_STATUS, {
        id,
        status: campaign.status === "ACTIVE" ? "PAUSED" : "ACTIVE",
        expectedRevision: campaign.revision,
      });
      session.cache.put([updateCampaign.campaign]);
      drawSaved(updateCampaign.campaign, updateCampaign.propagated);
    } catch (e) {
      toggleButton.disabled = false;
      if (e instanceof ApiError && e.code === "CONFLICT") {
        await load();
        message(
          `Changed by someone else meanwhile (now revision ${e.extensions?.revision}); here it is. Try again.`,
          "error",
        );
      } else if (e instanceof ApiError && e.code !== "UNAUTHENTICATED") message(e.message, "error");
    }
  }

  function confirmDelete(): void {
    const box = headMessage;
    box.className = "confirm";
    box.hidden = false;
    box.replaceChildren(
      h("p", {}, h("strong", {}, `Delete ${id}?`), " Delivery stops serving it at once; this cannot be undone."),
      h(
        "div",
        { class: "form-actions" },
        button("Delete campaign", () => void remove(), { id: "confirm-delete" }, "danger"),
        button(
          "Keep it",
          () => {
            box.hidden = true;
          },
          { id: "cancel-delete" },
          "ghost",
        ),
      ),
    );
  }

  async function remove(): Promise<void> {
    try {
      await session.api.query(DELETE, { id });
      session.cache.forget(id);
      location.hash = "#/";
    } catch (e) {
      if (e instanceof ApiError && e.code === "NOT_FOUND") return gone();
      if (e instanceof ApiError && e.code !== "UNAUTHENTICATED") message(e.message, "error");
    }
  }

  const stopChanges = session.on("changes", (changes) => {
    const mine = changes.filter((c) => c.change.campaignId === id);
    const last = mine.at(-1);
    if (!last) return;
    if (!editor) return void load();
    if (last.change.kind === "CAMPAIGN_DELETED") editor.changedElsewhere(null);
    else if (last.after && campaign && last.after.revision > campaign.revision)
      editor.changedElsewhere(last.after.revision);
  });
  const stopStats = session.every(STATS_EVERY_MS, () => {
    if (!editor && !document.hidden) void load();
  });
  void load();

  return {
    el,
    dispose() {
      disposed = true;
      stopChanges();
      stopStats();
    },
  };
}

export function showNewCampaign(session: Session): View {
  const editor = campaignEditor(session, {
    onSaved: (saved) => {
      location.hash = `#/campaign/${encodeURIComponent(saved.id)}`;
    },
    onCancel: () => {
      location.hash = "#/";
    },
  });
  const el = h(
    "div",
    { class: "campaign-page" },
    h("nav", { class: "crumbs" }, h("a", { href: "#/" }, "← Campaigns")),
    editor.el,
  );
  return { el, dispose() {} };
}
