// The API keys page (#/keys, admins): every named key with its role, when it was made and by whom, and
// when it was last used (written by the replicas every few seconds, so the list is re-read now and
// then); a form to create one, whose secret is shown once; revoke after a confirmation. The env tokens
// (env-admin, env-viewer) are not keys here: they live in the server's environment.
import { ApiError } from "./api.ts";
import { errorText } from "./error-text.ts";
import { agoSince, utc } from "./format.ts";
import { newKeySecret } from "./new-key-secret.ts";
import { API_KEYS, type ApiKey, CREATE_API_KEY, type KeyRole, REVOKE_API_KEY } from "./queries.ts";
import type { Session } from "./session.ts";
import { button, emptyState, h, setChildren, type View } from "./view.ts";

const REFRESH_EVERY_MS = 15_000;

const ignorable = (e: unknown) => e instanceof ApiError && (e.code === "ABORTED" || e.code === "UNAUTHENTICATED");

export function showApiKeysPage(session: Session): View {
  let keys: ApiKey[] = [];
  let disposed = false;
  const name = h("input", {
    class: "input",
    id: "key-name",
    maxlength: 64,
    autocomplete: "off",
    placeholder: "e.g. ci-deploy",
    "aria-describedby": "key-name-hint key-name-error",
  });
  const nameError = h("p", { class: "field-error", id: "key-name-error", hidden: true });
  const role = h(
    "select",
    { class: "input", id: "key-role" },
    h("option", { value: "VIEWER" }, "viewer (queries, subscriptions)"),
    h("option", { value: "ADMIN" }, "admin (also changes, keys)"),
  );
  const submit = h("button", { type: "submit", class: "btn btn-primary", id: "create-key" }, "Create key");
  const formError = h("p", { class: "field-error", id: "key-error", role: "alert", hidden: true });
  const secretSlot = h("div", { id: "new-key-slot" });
  const listMessage = h("p", { class: "field-error", id: "keys-error", hidden: true });
  const list = h("ul", { class: "keys", id: "keys" }, h("li", { class: "muted" }, "Loading…"));

  const form = h(
    "form",
    {
      class: "key-form",
      id: "key-form",
      novalidate: true,
      onsubmit: (event: Event) => {
        event.preventDefault();
        if (!submit.disabled) void create();
      },
    },
    h(
      "label",
      { class: "field" },
      h("span", { class: "field-label" }, "Name"),
      name,
      h(
        "span",
        { class: "hint", id: "key-name-hint" },
        "Letters, digits, . _ @ -; unique and never reused: the audit trail names changes by it.",
      ),
      nameError,
    ),
    h("label", { class: "field" }, h("span", { class: "field-label" }, "Role"), role),
    h("div", { class: "form-actions" }, submit),
    formError,
  );

  const el = h(
    "div",
    { class: "keys-page" },
    h("nav", { class: "crumbs" }, h("a", { href: "#/", id: "back" }, "← Campaigns")),
    h(
      "section",
      { class: "card", id: "keys-create" },
      h("div", { class: "card-head" }, h("h2", {}, "New API key")),
      form,
      secretSlot,
    ),
    h(
      "section",
      { class: "card", id: "keys-list" },
      h("div", { class: "card-head" }, h("h2", {}, "API keys")),
      listMessage,
      list,
    ),
  );

  /** `nameProblem`: found here, before asking the server. */
  function showFormError(e: unknown, nameProblem?: string): void {
    const fieldProblem =
      nameProblem ?? (e instanceof ApiError && e.code === "BAD_USER_INPUT" ? e.fields.name : undefined);
    nameError.hidden = !fieldProblem;
    nameError.textContent = fieldProblem ? `Name ${fieldProblem}.` : "";
    name.setAttribute("aria-invalid", fieldProblem ? "true" : "false");
    formError.hidden = Boolean(fieldProblem);
    formError.textContent = fieldProblem ? "" : `Not created: ${errorText(e)}`;
  }

  async function create(): Promise<void> {
    if (!name.value.trim()) return showFormError(undefined, "is required");
    submit.disabled = true;
    try {
      const { createApiKey } = await session.api.query<{ createApiKey: { key: string; apiKey: ApiKey } }>(
        CREATE_API_KEY,
        { name: name.value.trim(), role: role.value as KeyRole },
      );
      nameError.hidden = true;
      formError.hidden = true;
      name.setAttribute("aria-invalid", "false");
      name.value = "";
      secretSlot.replaceChildren(
        newKeySecret(createApiKey.apiKey.name, createApiKey.key, () => secretSlot.replaceChildren()),
      );
      keys = [...keys.filter((k) => k.id !== createApiKey.apiKey.id), createApiKey.apiKey];
      draw();
      void load();
    } catch (e) {
      if (!ignorable(e)) showFormError(e);
    } finally {
      submit.disabled = false;
    }
  }

  async function load(): Promise<void> {
    try {
      const { apiKeys } = await session.api.query<{ apiKeys: ApiKey[] }>(API_KEYS);
      if (disposed) return;
      keys = apiKeys;
      listMessage.hidden = true;
      draw();
    } catch (e) {
      if (disposed || ignorable(e)) return;
      listMessage.textContent = `Cannot list the keys: ${errorText(e)}`;
      listMessage.hidden = false;
    }
  }

  /** Rows with an open confirmation keep it across a refresh of the list. */
  const confirming = new Map<string, HTMLElement>();

  function draw(): void {
    if (keys.length === 0) {
      setChildren(
        list,
        h("li", {}, emptyState("No API keys yet.", "Create one above; the admin and viewer tokens are not listed.")),
      );
      return;
    }
    setChildren(list, keys.map(keyRow));
  }

  function keyRow(key: ApiKey): HTMLLIElement {
    const slot = h("div", { class: "revoke-slot" });
    const open = confirming.get(key.id);
    if (open) slot.append(open);
    const mine = key.name === session.name;
    return h(
      "li",
      { class: `key-row${key.revokedAt ? " revoked" : ""}`, "data-key-id": key.id, "data-key-name": key.name },
      h(
        "div",
        { class: "key-line" },
        h("strong", { class: "key-name wrap" }, key.name),
        h("span", { class: `badge badge-${key.role.toLowerCase()}` }, key.role === "ADMIN" ? "admin" : "viewer"),
        mine ? h("span", { class: "small muted" }, "(this session)") : null,
        key.revokedAt ? h("span", { class: "badge badge-revoked" }, "revoked") : null,
      ),
      h(
        "p",
        { class: "small muted key-facts" },
        h("span", {}, `created ${utc(key.createdAt)} by ${key.createdBy}`),
        h("span", { class: "key-used" }, key.lastUsedAt ? `last used ${agoSince(key.lastUsedAt)}` : "never used"),
        key.revokedAt ? h("span", {}, `revoked ${utc(key.revokedAt)}`) : null,
      ),
      key.revokedAt
        ? null
        : h(
            "div",
            { class: "key-actions" },
            button("Revoke…", () => confirmRevoke(key, slot), { "data-action": "revoke" }, "danger"),
          ),
      slot,
    );
  }

  function confirmRevoke(key: ApiKey, slot: HTMLElement): void {
    const error = h("p", { class: "field-error", hidden: true });
    const close = () => {
      confirming.delete(key.id);
      box.remove();
    };
    const revokeButton = button(
      "Revoke key",
      () => void revoke(key, revokeButton, error, close),
      { "data-action": "confirm-revoke" },
      "danger",
    );
    const box = h(
      "div",
      { class: "confirm" },
      h(
        "p",
        {},
        h("strong", {}, `Revoke ${key.name}?`),
        " Every replica refuses it within a second and ends the subscriptions opened with it. This cannot be undone.",
        key.name === session.name ? " You are signed in with it: this session ends too." : "",
      ),
      h("div", { class: "form-actions" }, revokeButton, button("Keep it", close, { "data-action": "keep" }, "ghost")),
      error,
    );
    confirming.set(key.id, box);
    slot.replaceChildren(box);
  }

  async function revoke(
    key: ApiKey,
    revokeButton: HTMLButtonElement,
    error: HTMLElement,
    close: () => void,
  ): Promise<void> {
    revokeButton.disabled = true;
    try {
      const { revokeApiKey } = await session.api.query<{ revokeApiKey: ApiKey }>(REVOKE_API_KEY, { id: key.id });
      close();
      keys = keys.map((k) => (k.id === revokeApiKey.id ? revokeApiKey : k));
      draw();
    } catch (e) {
      revokeButton.disabled = false;
      if (ignorable(e)) return;
      error.textContent = `Not revoked: ${errorText(e)}`;
      error.hidden = false;
    }
  }

  const stopRefresh = session.every(REFRESH_EVERY_MS, () => {
    if (!document.hidden) void load();
  });
  void load();

  return {
    el,
    dispose() {
      disposed = true;
      stopRefresh();
    },
  };
}
