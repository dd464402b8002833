// The shapes the delivery index is built from and answers: campaigns and categories as the store
// loads them (values already normalised), the changes applied to a snapshot, and a device request.

export const DIMENSIONS = ["app", "os", "country", "category"] as const;
export type Dimension = (typeof DIMENSIONS)[number];
export type DimensionValues = Record<Dimension, readonly string[]>;

export interface CampaignDef {
  id: string;
  imageUrl: string;
  cta: string;
  status: "ACTIVE" | "PAUSED";
  priority: number;
  startsAt: Date | null;
  endsAt: Date | null;
  include: DimensionValues;
  exclude: DimensionValues;
}

export interface CategoryDef {
  id: string;
  apps: readonly string[];
}

/** Changed entities: a definition replaces, null removes. */
export interface IndexChange {
  version: number;
  campaigns: ReadonlyMap<string, CampaignDef | null>;
  categories: ReadonlyMap<string, CategoryDef | null>;
}

/** How a snapshot came: a build from everything, a change read from the log, a change carried ahead of its commit. */
export type ApplyKind = "full" | "delta" | "carried";

export interface DeviceRequest {
  app: string;
  os: string;
  country: string;
}
