// The admin editor for one campaign, new or existing: every field and every rule list (apps, countries,
// os, categories × include/exclude), flight and priority. An update sends only what was changed, with
// expectedRevision; the server's BAD_USER_INPUT `extensions.fields` are shown next to their fields, and a
// CONFLICT opens the conflict view: what the other change did, then reload theirs or overwrite with mine.
// Below the rules, a live reach estimate of the draft (reach-estimate.ts).
import { ApiError } from "./api.ts";
import { describeChanges } from "./diff.ts";
import { DIMENSIONS } from "./format.ts";
import {
  type CampaignChange,
  type CampaignPage,
  type CampaignState,
  CREATE,
  type DimensionValues,
  STATES,
  type Status,
  type Targeting,
  UPDATE,
} from "./queries.ts";
import { reachEstimate } from "./reach-estimate.ts";
import { type RulesInput, rulesInput } from "./rules-input.ts";
import type { Session } from "./session.ts";
import { button, h, setChildren } from "./view.ts";

export interface EditorOptions {
  /** The stored campaign being edited; absent for a new one. */
  base?: CampaignState;
  onSaved(campaign: CampaignState, change: CampaignChange): void;
  onCancel(): void;
}

export interface Editor {
  el: HTMLElement;
  /** Someone else changed (or deleted) the campaign while it is being edited. */
  changedElsewhere(revision: number | null): void;
}

const MODES = ["include", "exclude"] as const;

/** datetime-local shows UTC here (labelled so): "2026-05-01T14:00", with seconds when there are some. */
const toInput = (iso: string | null) => (iso ? (iso.slice(17, 19) === "00" ? iso.slice(0, 16) : iso.slice(0, 19)) : "");
const fromInput = (value: string) =>
  value ? new Date(`${value.length === 16 ? `${value}:00` : value}Z`).toISOString() : null;

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

export function campaignEditor(session: Session, options: EditorOptions): Editor {
  let base = options.base;
  const creating = base === undefined;
  const errorsAt = new Map<string, HTMLElement>();
  const summary = h("div", { class: "form-summary", role: "alert", hidden: true });
  const conflict = h("div", { id: "conflict", class: "conflict", role: "alert", hidden: true });
  const notice = h("p", { id: "editor-notice", class: "notice", hidden: true });

  const field = (path: string, label: string, control: HTMLElement, hint?: string) => {
    const error = h("span", { class: "field-error", "data-error-for": path, hidden: true });
    errorsAt.set(path, error);
    return h(
      "label",
      { class: "field", "data-field": path },
      h("span", { class: "field-label" }, label),
      control,
      hint ? h("span", { class: "hint" }, hint) : null,
      error,
    );
  };
  const text = (id: string, value: string, attrs: Record<string, string> = {}) =>
    h("input", { id, class: "input", autocomplete: "off", value, ...attrs });

  const id = text("edit-id", "", { placeholder: "e.g. spring-sale-2026", spellcheck: "false" });
  const name = text("edit-name", base?.name ?? "");
  const imageUrl = text("edit-image", base?.imageUrl ?? "", { type: "url", placeholder: "https://…" });
  const cta = text("edit-cta", base?.cta ?? "", { placeholder: "Install" });
  const status = h(
    "select",
    { id: "edit-status", class: "input" },
    h("option", { value: "ACTIVE", selected: base?.status !== "PAUSED" }, "ACTIVE"),
    h("option", { value: "PAUSED", selected: base?.status === "PAUSED" }, "PAUSED"),
  );
  const priority = text("edit-priority", String(base?.priority ?? 0), { inputmode: "numeric" });
  const startsAt = text("edit-starts", toInput(base?.startsAt ?? null), { type: "datetime-local", step: "60" });
  const endsAt = text("edit-ends", toInput(base?.endsAt ?? null), { type: "datetime-local", step: "60" });
  const clear = (input: HTMLInputElement) =>
    button(
      "clear",
      () => {
        input.value = "";
        reach.schedule();
      },
      { class: "btn btn-ghost btn-small" },
    );
  for (const flightInput of [startsAt, endsAt]) flightInput.addEventListener("input", () => reach.schedule());

  const rules = new Map<string, RulesInput>();
  const ruleRows = DIMENSIONS.map(([key, , plural]) =>
    h(
      "div",
      { class: "rule-row" },
      h("span", { class: "rule-dim" }, plural),
      MODES.map((mode) => {
        const path = `input.targeting.${mode}.${key}`;
        const input = rulesInput(`rules-${mode}-${key}`, `${mode} ${plural}`, base?.targeting[mode][key] ?? [], () => {
          clearError(path);
          reach.schedule();
        });
        rules.set(path, input);
        return h(
          "div",
          { class: `rule-cell rule-${mode}`, "data-field": path },
          h("span", { class: "rule-mode" }, mode),
          input.el,
        );
      }),
    ),
  );

  /** Flight bounds as in the form; untouched, a bound keeps its stored value exactly (milliseconds included). */
  const bound = (input: HTMLInputElement, stored: string | null | undefined) =>
    input.value === toInput(stored ?? null) ? (stored ?? null) : fromInput(input.value);

  /** Error spans the estimate marked (a flight bound): cleared once a draft is valid again. */
  const estimateMarks = new Set<string>();
  const reach = reachEstimate(session, {
    campaignId: base?.id,
    draft: () => ({
      targeting: targetingDraft((input) => input.current()),
      startsAt: bound(startsAt, base?.startsAt),
      endsAt: bound(endsAt, base?.endsAt),
    }),
    invalid: (fields) => {
      for (const path of estimateMarks) clearError(path);
      estimateMarks.clear();
      const byRules = new Map<string, Map<number, string>>();
      for (const [path, message] of Object.entries(fields)) {
        const rule = /^(targeting\.(?:include|exclude)\.\w+)\.(\d+)$/.exec(path);
        const input = rule?.[1] ? `input.${rule[1]}` : "";
        if (rule && rules.has(input)) {
          const marks = byRules.get(input) ?? new Map<number, string>();
          marks.set(Number(rule[2]), message);
          byRules.set(input, marks);
        } else if (path === "startsAt" || path === "endsAt") {
          const el = errorsAt.get(`input.${path}`);
          if (!el) continue;
          el.textContent = message;
          el.hidden = false;
          estimateMarks.add(`input.${path}`);
        }
      }
      for (const [path, marks] of byRules) rules.get(path)?.setErrors(marks);
    },
  });

  const save = h(
    "button",
    { type: "submit", class: "btn btn-primary", id: "save" },
    creating ? "Create campaign" : "Save",
  );
  const form = h(
    "form",
    { class: "card editor", id: "editor", novalidate: true },
    h("div", { class: "card-head" }, h("h2", {}, creating ? "New campaign" : "Edit campaign")),
    notice,
    summary,
    conflict,
    h(
      "fieldset",
      { class: "grid-fields" },
      h("legend", {}, "Campaign"),
      creating ? field("input.id", "Id", id, "1–64 characters: a–z, 0–9, . _ - ; cannot change later") : null,
      field("input.name", "Name", name),
      field("input.imageUrl", "Image URL", imageUrl),
      field("input.cta", "Call to action", cta),
    ),
    h(
      "fieldset",
      { class: "grid-fields" },
      h("legend", {}, "Delivery"),
      field("input.status", "Status", status),
      field("input.priority", "Priority", priority, "0–1000; higher is served first"),
      field(
        "input.startsAt",
        "Starts (UTC)",
        h("span", { class: "with-action" }, startsAt, clear(startsAt)),
        "empty: already started",
      ),
      field(
        "input.endsAt",
        "Ends (UTC)",
        h("span", { class: "with-action" }, endsAt, clear(endsAt)),
        "empty: never ends",
      ),
    ),
    h(
      "fieldset",
      { class: "rules" },
      h("legend", {}, "Targeting"),
      h(
        "p",
        { class: "hint" },
        "A device matches when, for every dimension, the include list is empty or holds its value, and the exclude list does not. Countries by code or English name.",
      ),
      ruleRows,
      h("span", { class: "field-error", "data-error-for": "input.targeting", hidden: true }),
    ),
    reach.el,
    h(
      "div",
      { class: "form-actions" },
      save,
      button("Cancel", () => options.onCancel(), { id: "cancel-edit" }, "ghost"),
    ),
  );
  errorsAt.set("input.targeting", form.querySelector('[data-error-for="input.targeting"]') as HTMLElement);

  function clearError(path: string): void {
    const el = errorsAt.get(path);
    if (el) el.hidden = true;
  }

  function clearErrors(): void {
    for (const el of errorsAt.values()) el.hidden = true;
    for (const input of rules.values()) input.setErrors(new Map());
    for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    summary.hidden = true;
  }

  /** Puts each `extensions.fields` entry next to its field; the rest in the summary. */
  function showErrors(fields: Record<string, string>): void {
    clearErrors();
    const unplaced: string[] = [];
    const byRules = new Map<string, Map<number, string>>();
    for (const [path, message] of Object.entries(fields)) {
      const normalized = path.replace(/^id$/, "input.id");
      const ruleMatch = /^(input\.targeting\.(?:include|exclude)\.\w+)(?:\.(\d+))?$/.exec(normalized);
      if (ruleMatch?.[1] && rules.has(ruleMatch[1])) {
        const marks = byRules.get(ruleMatch[1]) ?? new Map<number, string>();
        marks.set(ruleMatch[2] === undefined ? -1 : Number(ruleMatch[2]), message);
        byRules.set(ruleMatch[1], marks);
        continue;
      }
      const el = errorsAt.get(normalized);
      if (el) {
        el.textContent = message;
        el.hidden = false;
        el.closest(".field")?.querySelector("input, select")?.setAttribute("aria-invalid", "true");
      } else unplaced.push(`${path}: ${message}`);
    }
    for (const [path, marks] of byRules) {
      const whole = marks.get(-1);
      marks.delete(-1);
      rules.get(path)?.setErrors(marks);
      if (whole) unplaced.push(`${path.replace("input.targeting.", "")}: ${whole}`);
    }
    const count = Object.keys(fields).length;
    setChildren(
      summary,
      h("strong", {}, `${count} ${count === 1 ? "field needs" : "fields need"} attention.`),
      unplaced.length ? h("span", {}, ` ${unplaced.join("; ")}`) : null,
    );
    summary.hidden = false;
    form.querySelector<HTMLElement>('[aria-invalid="true"], .chip.invalid')?.scrollIntoView({ block: "center" });
  }

  function targetingDraft(read = (input: RulesInput) => input.values()): Targeting {
    const side = (mode: (typeof MODES)[number]) =>
      Object.fromEntries(
        DIMENSIONS.map(([key]) => {
          const input = rules.get(`input.targeting.${mode}.${key}`);
          return [key, input ? read(input) : []];
        }),
      ) as unknown as DimensionValues;
    return { include: side("include"), exclude: side("exclude") };
  }

  /** The form as a campaign state (priority as typed, so a bad one reaches the server's validation). */
  function draft(): CampaignState & { priorityText: string } {
    return {
      id: creating ? id.value.trim() : (base as CampaignState).id,
      name: name.value,
      imageUrl: imageUrl.value,
      cta: cta.value,
      status: status.value as Status,
      priority: Number(priority.value.trim()),
      priorityText: priority.value.trim(),
      startsAt: bound(startsAt, base?.startsAt),
      endsAt: bound(endsAt, base?.endsAt),
      targeting: targetingDraft(),
      revision: base?.revision ?? 0,
      updatedAt: base?.updatedAt ?? "",
    };
  }

  /** What differs from `from`: the UpdateCampaignInput fields (targeting whole if any list changed). */
  function changes(from: CampaignState, to: ReturnType<typeof draft>): Record<string, unknown> {
    const input: Record<string, unknown> = {};
    for (const key of ["name", "imageUrl", "cta", "status", "startsAt", "endsAt"] as const) {
      if (to[key] !== from[key]) input[key] = to[key];
    }
    if (to.priority !== from.priority) input.priority = to.priority;
    const rulesChanged = MODES.some((mode) =>
      DIMENSIONS.some(([key]) => !sameList(from.targeting[mode][key], to.targeting[mode][key])),
    );
    if (rulesChanged) input.targeting = to.targeting;
    return input;
  }

  /** Local check the server cannot make: GraphQL's Int would refuse the whole request. */
  function priorityProblem(d: ReturnType<typeof draft>): Record<string, string> {
    return /^-?\d+$/.test(d.priorityText) ? {} : { "input.priority": "must be a whole number 0–1000" };
  }

  async function submit(expectedRevision?: number): Promise<void> {
    const d = draft();
    const local = priorityProblem(d);
    if (Object.keys(local).length > 0) return showErrors(local);
    clearErrors();
    save.disabled = true;
    try {
      let result: CampaignChange;
      if (creating || !base) {
        // CreateCampaignInput: the draft without what only the page keeps (the typed priority, the
        // revision and time of a state it did not load).
        const { priorityText: _typed, revision: _revision, updatedAt: _updatedAt, ...input } = d;
        result = (await session.api.query<{ createCampaign: CampaignChange }>(CREATE, { input })).createCampaign;
      } else {
        const input = changes(base, d);
        if (Object.keys(input).length === 0) {
          notice.textContent = "Nothing changed.";
          notice.hidden = false;
          return;
        }
        input.expectedRevision = expectedRevision ?? base.revision;
        result = (await session.api.query<{ updateCampaign: CampaignChange }>(UPDATE, { id: base.id, input }))
          .updateCampaign;
      }
      if (result.campaign) {
        session.cache.put([result.campaign]);
        options.onSaved(result.campaign, result);
      }
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.code === "BAD_USER_INPUT") showErrors(e.fields);
      else if (e.code === "CONFLICT" && creating) showErrors({ "input.id": "a campaign with this id exists already" });
      else if (e.code === "CONFLICT" && base) await showConflict(base, d, e.extensions?.revision);
      else if (e.code === "NOT_FOUND")
        showSummary("This campaign was deleted by someone else meanwhile; it cannot be saved.");
      else if (e.code !== "UNAUTHENTICATED")
        showSummary(e.code === "UNREACHABLE" ? "Cannot reach the server; nothing was saved. Try again." : e.message);
    } finally {
      save.disabled = false;
    }
  }

  function showSummary(message: string): void {
    summary.replaceChildren(h("strong", {}, message));
    summary.hidden = false;
  }

  /** Their change next to mine, then: take theirs (my edits are dropped) or overwrite with mine. */
  async function showConflict(
    mine: CampaignState,
    d: ReturnType<typeof draft>,
    revision: number | undefined,
  ): Promise<void> {
    let theirs: CampaignState | undefined;
    try {
      const { campaignsPage } = await session.api.query<{ campaignsPage: CampaignPage<CampaignState> }>(STATES, {
        ids: [mine.id],
        first: 1,
      });
      theirs = campaignsPage.nodes[0];
    } catch {
      // Shown without their details; reload still works.
    }
    const at = theirs?.revision ?? revision;
    const theirChanges = theirs ? describeChanges(mine, theirs) : [];
    const myChanges = describeChanges(mine, d);
    conflict.replaceChildren(
      h(
        "p",
        { class: "conflict-title" },
        h("strong", {}, `Changed by someone else at revision ${at ?? "?"}`),
        ` while you were editing revision ${mine.revision}. Nothing was saved.`,
      ),
      h(
        "div",
        { class: "conflict-sides" },
        h("div", {}, h("h3", {}, "Their change"), list(theirChanges, "no visible field change")),
        h("div", {}, h("h3", {}, "Your change"), list(myChanges, "nothing")),
      ),
      h(
        "div",
        { class: "form-actions" },
        button("Reload their version", () => reload(theirs), { id: "conflict-reload" }, "secondary"),
        theirs
          ? button(
              "Overwrite with my changes",
              () => void overwrite(mine, theirs as CampaignState),
              { id: "conflict-overwrite" },
              "danger",
            )
          : null,
      ),
    );
    conflict.hidden = false;
    conflict.scrollIntoView({ block: "center" });
  }

  /** My changes (against what I started from), applied over theirs. */
  async function overwrite(mine: CampaignState, theirs: CampaignState): Promise<void> {
    conflict.hidden = true;
    const d = draft();
    const input = changes(mine, d);
    base = theirs;
    // Fields I did not touch keep their values: put theirs in the form, then my changes back on top.
    fill(theirs);
    applyDraft(input);
    await submit(theirs.revision);
  }

  function reload(theirs: CampaignState | undefined): void {
    conflict.hidden = true;
    notice.hidden = true;
    if (theirs) {
      base = theirs;
      fill(theirs);
    }
  }

  function fill(c: CampaignState): void {
    name.value = c.name;
    imageUrl.value = c.imageUrl;
    cta.value = c.cta;
    status.value = c.status;
    priority.value = String(c.priority);
    startsAt.value = toInput(c.startsAt);
    endsAt.value = toInput(c.endsAt);
    for (const mode of MODES)
      for (const [key] of DIMENSIONS) rules.get(`input.targeting.${mode}.${key}`)?.set(c.targeting[mode][key]);
    reach.schedule();
  }

  function applyDraft(input: Record<string, unknown>): void {
    if (typeof input.name === "string") name.value = input.name;
    if (typeof input.imageUrl === "string") imageUrl.value = input.imageUrl;
    if (typeof input.cta === "string") cta.value = input.cta;
    if (typeof input.status === "string") status.value = input.status;
    if (typeof input.priority === "number") priority.value = String(input.priority);
    if ("startsAt" in input) startsAt.value = toInput(input.startsAt as string | null);
    if ("endsAt" in input) endsAt.value = toInput(input.endsAt as string | null);
    const targeting = input.targeting as Targeting | undefined;
    if (targeting)
      for (const mode of MODES)
        for (const [key] of DIMENSIONS) rules.get(`input.targeting.${mode}.${key}`)?.set(targeting[mode][key]);
    reach.schedule();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void submit();
  });

  return {
    el: form,
    changedElsewhere(revision) {
      notice.textContent =
        revision === null
          ? "Someone else deleted this campaign meanwhile; it cannot be saved."
          : `Someone else changed this campaign meanwhile (now revision ${revision}). Saving will show both changes and ask which to keep.`;
      notice.hidden = false;
    },
  };
}

function list(items: string[], none: string): HTMLElement {
  return items.length
    ? h(
        "ul",
        {},
        items.map((i) => h("li", {}, i)),
      )
    : h("p", { class: "muted" }, none);
}
