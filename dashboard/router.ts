// Hash routes, so the back button and links work and a view can be bookmarked:
//   #/?q=…&status=…&live=…&dim=…&value=…&sort=…   the campaign list (its search, filters and order)
//   #/campaign/<id>                                a campaign page
//   #/new                                          a new campaign (admins)
//   #/keys                                         the API keys (admins)
import { showApiKeysPage } from "./api-keys-page.ts";
import { showCampaignList } from "./campaign-list.ts";
import { showCampaignPage, showNewCampaign } from "./campaign-page.ts";
import type { Session } from "./session.ts";
import { $, type View } from "./view.ts";

export function startRouter(session: Session): void {
  const outlet = $("view");
  let current: View | undefined;

  const show = () => {
    current?.dispose();
    const hash = location.hash.replace(/^#/, "") || "/";
    const [path = "/", query = ""] = hash.split("?");
    const campaign = /^\/campaign\/(.+)$/.exec(path);
    if (campaign?.[1]) current = showCampaignPage(session, decodeURIComponent(campaign[1]));
    else if (path === "/new" && session.admin) current = showNewCampaign(session);
    else if (path === "/keys" && session.admin) current = showApiKeysPage(session);
    else current = showCampaignList(session, new URLSearchParams(query));
    outlet.replaceChildren(current.el);
    window.scrollTo(0, 0);
  };

  addEventListener("hashchange", show);
  session.signal.addEventListener("abort", () => {
    removeEventListener("hashchange", show);
    current?.dispose();
    outlet.replaceChildren();
  });
  show();
}
