// "Try a device": what /v1/delivery answers this replica's index for an app, os and country (the
// delivery query gives the same answer), with the server's field errors next to the form.
import { ApiError } from "./api.ts";
import { DELIVERY } from "./queries.ts";
import type { Session } from "./session.ts";
import { $, h } from "./view.ts";

interface DeliveryAnswer {
  delivery: { version: number; ads: { cid: string; img: string; cta: string }[] };
}

export function startDevice(session: Session): void {
  const form = $("device");
  const out = $("device-result");
  out.replaceChildren();
  const submit = async (event: Event) => {
    event.preventDefault();
    const value = (id: string) => $<HTMLInputElement>(id).value;
    try {
      const { delivery } = await session.api.query<DeliveryAnswer>(DELIVERY, {
        app: value("device-app"),
        os: value("device-os"),
        country: value("device-country"),
      });
      out.replaceChildren(
        h("p", { class: "muted small" }, `index v${delivery.version}: ${delivery.ads.length || "no"} ads`),
        h(
          "ol",
          { class: "ads" },
          delivery.ads.map((ad) =>
            h(
              "li",
              { "data-cid": ad.cid },
              h("a", { class: "mono", href: `#/campaign/${ad.cid}` }, ad.cid),
              ` “${ad.cta}”`,
            ),
          ),
        ),
      );
    } catch (e) {
      const fields = e instanceof ApiError ? Object.entries(e.fields) : [];
      const message = fields.length ? fields.map(([f, m]) => `${f}: ${m}`).join(", ") : (e as Error).message;
      out.replaceChildren(h("p", { class: "field-error" }, message));
    }
  };
  form.addEventListener("submit", submit);
  session.signal.addEventListener("abort", () => form.removeEventListener("submit", submit));
}
