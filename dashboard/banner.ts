// The banner shown while the replica does not answer: since when, and that what is on screen is what
// was loaded then. It goes away by itself at the next answer.
import { ago } from "./format.ts";
import type { Session } from "./session.ts";
import { $, h } from "./view.ts";

export function startBanner(session: Session): void {
  const banner = $("banner");
  let stopTicking: (() => void) | undefined;

  const render = () => {
    banner.replaceChildren(
      h("strong", {}, "Cannot reach this replica."),
      " ",
      h("span", { id: "last-contact" }, `Last contact ${ago(Date.now() - session.lastContact)}.`),
      " What you see is what was loaded then; the live feed is paused. Retrying…",
    );
  };

  session.on("connection", (reachable) => {
    banner.hidden = reachable;
    stopTicking?.();
    stopTicking = undefined;
    if (reachable) return;
    render();
    stopTicking = session.every(1_000, render);
  });
  session.signal.addEventListener("abort", () => {
    banner.hidden = true;
  });
}
