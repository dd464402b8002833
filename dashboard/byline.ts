// "by ops-bot · “price test”": who made a change and why, as the audit trail records it (feed rows,
// the campaign page's head, its history).
import { h } from "./view.ts";

export function byline(actor: string, reason: string | null, attrs: Record<string, string> = {}): HTMLElement {
  return h(
    "span",
    { class: "byline", ...attrs },
    "by ",
    h("span", { class: "actor" }, actor),
    reason
      ? [" · ", h("q", { class: "reason" }, reason)]
      : h("span", { class: "muted no-reason" }, " · no reason given"),
  );
}
