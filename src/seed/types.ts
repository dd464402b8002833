import type { CampaignDef, CategoryDef } from "../delivery/types.ts";

/** A catalog to load: campaigns (with a display name) and categories, values already normalised. */
export interface SeedData {
  campaigns: (CampaignDef & { name: string })[];
  categories: (CategoryDef & { name: string })[];
}
