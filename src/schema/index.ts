// The GraphQL schema (docs/CONTRACT.md §4): every area registers its types on the builder; this assembles them.
import { builder } from "./builder.ts";
import "./scalars.ts";
import "./root.ts";
import "./targeting.ts";
import "./campaign.ts";
import "./campaign-mutations.ts";
import "./campaign-stats.ts";
import "./campaign-page.ts";
import "./category.ts";
import "./delivery.ts";
import "./explain.ts";
import "./forecast.ts";
import "./rule-change.ts";
import "./me.ts";
import "./history.ts";
import "./campaign-revert.ts";
import "./api-key.ts";

export const schema = builder.toSchema({ sortSchema: false });
