// Replica status (indexStatus every 2 s: a few bytes): each replica's version, lag and last report,
// and the index version in the top bar. The poll is also how the page notices the replica is back.
import { ApiError } from "./api.ts";
import { agoSince, count } from "./format.ts";
import { INDEX_STATUS, type IndexStatus } from "./queries.ts";
import type { Session } from "./session.ts";
import { $, h } from "./view.ts";

const POLL_MS = 2_000;

export function startReplicas(session: Session): void {
  const rows = $("replica-rows");
  const error = $("status-error");
  rows.replaceChildren();

  const load = async () => {
    try {
      const { indexStatus: s } = await session.api.query<{ indexStatus: IndexStatus }>(INDEX_STATUS);
      const newest = Math.max(s.version, ...s.replicas.map((r) => r.version));
      $("index-version").textContent = `index v${s.version} · ${count(s.campaigns)} serving`;
      rows.replaceChildren(
        ...s.replicas.map((r) =>
          h(
            "tr",
            { "data-replica": r.id },
            h("td", { class: "mono wrap" }, r.id),
            h("td", { class: "num" }, r.version),
            h("td", { class: newest - r.version > 0 ? "num lagging" : "num" }, newest - r.version),
            h("td", {}, agoSince(r.seenAt)),
          ),
        ),
      );
      error.hidden = true;
    } catch (e) {
      // Unreachable is the banner's to say; other problems (index not loaded yet) are shown here.
      if (e instanceof ApiError && (e.code === "UNREACHABLE" || e.code === "ABORTED")) return;
      error.textContent = (e as Error).message;
      error.hidden = false;
    }
  };
  void load();
  session.every(POLL_MS, () => void load());
}
