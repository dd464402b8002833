// The secret of a key just created: shown this once (the server keeps only its digest, and the page
// keeps it nowhere), with a copy button and a plain warning.
import { button, h } from "./view.ts";

export function newKeySecret(name: string, secret: string, onDone: () => void): HTMLElement {
  const field = h("input", {
    class: "input mono",
    id: "new-key-secret",
    readonly: true,
    value: secret,
    "aria-label": `secret of ${name}`,
    onfocus: (event: Event) => (event.currentTarget as HTMLInputElement).select(),
  });
  const copied = h("span", { class: "small", id: "copy-state", role: "status" });

  async function copy(): Promise<void> {
    try {
      await navigator.clipboard.writeText(secret);
      copied.textContent = "Copied.";
    } catch {
      // No clipboard API (a page served over plain HTTP to another host): select it for a manual copy.
      field.focus();
      field.select();
      copied.textContent = document.execCommand("copy") ? "Copied." : "Selected: copy it with Ctrl+C / ⌘C.";
    }
  }

  return h(
    "div",
    { class: "notice new-key", id: "new-key" },
    h(
      "p",
      {},
      h("strong", {}, `Key “${name}” created.`),
      " Copy its secret now: ",
      h("strong", {}, "you won't see it again"),
      " (the server keeps only a digest of it). Use it as ",
      h("code", {}, "Authorization: Bearer …"),
      ".",
    ),
    h(
      "div",
      { class: "with-action" },
      field,
      button("Copy", () => void copy(), { id: "copy-key" }, "primary"),
    ),
    copied,
    h("div", { class: "form-actions" }, button("I have stored it", onDone, { id: "dismiss-key" }, "ghost")),
  );
}
