// "Revert to revision N?": an optional reason, then revertCampaign with the revision the user was
// looking at as expectedRevision, so a change made meanwhile comes back as a CONFLICT instead of being
// overwritten. The caller says what happened (reverted, conflict, another error).
import { ApiError } from "./api.ts";
import { type CampaignChange, REVERT } from "./queries.ts";
import type { Session } from "./session.ts";
import { button, h } from "./view.ts";

export type RevertResult = { ok: true; revision: number } | { ok: false; error: unknown };

export interface RevertRequest {
  campaignId: string;
  toRevision: number;
  expectedRevision: number;
  onDone(result: RevertResult): void;
  onCancel(): void;
}

export function revertForm(session: Session, request: RevertRequest): HTMLFormElement {
  const reason = h("input", {
    class: "input",
    id: "revert-reason",
    maxlength: 1000,
    placeholder: "e.g. the new targeting lost too much reach",
    autocomplete: "off",
  });
  const submit = h("button", { type: "submit", class: "btn btn-primary", id: "confirm-revert" }, "Revert");

  async function revert(): Promise<void> {
    submit.disabled = true;
    try {
      const { revertCampaign } = await session.api.query<{ revertCampaign: CampaignChange }>(REVERT, {
        id: request.campaignId,
        toRevision: request.toRevision,
        expectedRevision: request.expectedRevision,
        reason: reason.value.trim() || undefined,
      });
      if (revertCampaign.campaign) session.cache.put([revertCampaign.campaign]);
      request.onDone({ ok: true, revision: revertCampaign.campaign?.revision ?? request.expectedRevision + 1 });
    } catch (error) {
      submit.disabled = false;
      // A refused token ends the session (it says why); an aborted request belongs to a closed page.
      if (error instanceof ApiError && (error.code === "UNAUTHENTICATED" || error.code === "ABORTED")) return;
      request.onDone({ ok: false, error });
    }
  }

  return h(
    "form",
    {
      class: "confirm revert-form",
      novalidate: true,
      onsubmit: (event: Event) => {
        event.preventDefault();
        if (!submit.disabled) void revert();
      },
    },
    h(
      "p",
      {},
      h("strong", {}, `Revert to revision ${request.toRevision}?`),
      ` Its state is written as a new revision (${request.expectedRevision + 1}); the current one stays in the history.`,
    ),
    h("label", { class: "field" }, h("span", { class: "field-label" }, "Reason (optional)"), reason),
    h(
      "div",
      { class: "form-actions" },
      submit,
      button("Cancel", () => request.onCancel(), { id: "cancel-revert" }, "ghost"),
    ),
  );
}
