// The GraphQL documents the dashboard sends, and the shapes they answer. `first` always travels as a
// variable: graphql-armor multiplies a literal `first` into the operation's cost.

export interface DimensionValues {
  apps: string[];
  countries: string[];
  os: string[];
  categories: string[];
}

export interface Targeting {
  include: DimensionValues;
  exclude: DimensionValues;
}

export type Status = "ACTIVE" | "PAUSED";

/** A campaign's editable state plus its revision: what the editor, the diffs and the cache hold. */
export interface CampaignState {
  id: string;
  name: string;
  imageUrl: string;
  cta: string;
  status: Status;
  priority: number;
  startsAt: string | null;
  endsAt: string | null;
  targeting: Targeting;
  revision: number;
  updatedAt: string;
}

export interface CampaignStats {
  servedLastMinute?: number;
  servedLastHour: number;
  series: number[];
}

/** A list row: the state plus its stats (null while the server cannot read its stats store). */
export interface CampaignRow extends CampaignState {
  stats: CampaignStats | null;
}

export interface RuleChange {
  version: number;
  kind: "CAMPAIGN_CREATED" | "CAMPAIGN_UPDATED" | "CAMPAIGN_DELETED" | "CATEGORY_UPSERTED" | "CATEGORY_DELETED";
  campaignId: string | null;
  categoryId: string | null;
  at: string;
}

export interface IndexStatus {
  version: number;
  campaigns: number;
  builtAt: string;
  replicas: { id: string; version: number; seenAt: string }[];
}

export type Order = "ID" | "PRIORITY" | "SERVED_LAST_HOUR" | "UPDATED_AT";

export interface CampaignFilter {
  search?: string;
  status?: Status;
  live?: boolean;
  targets?: Partial<DimensionValues>;
  ids?: string[];
}

export interface CampaignPage<T = CampaignRow> {
  totalCount: number;
  endCursor: string | null;
  hasNextPage: boolean;
  nodes: T[];
}

const DIMS = "apps countries os categories";
export const STATE_FIELDS = `id name imageUrl cta status priority startsAt endsAt revision updatedAt
  targeting { include { ${DIMS} } exclude { ${DIMS} } }`;

export const ME = "query Me { me { role } }";

export const CAMPAIGNS_PAGE = `query CampaignsPage($filter: CampaignFilter, $orderBy: CampaignOrder, $first: Int, $after: String, $withTotal: Boolean!) {
  campaignsPage(filter: $filter, orderBy: $orderBy, first: $first, after: $after) {
    totalCount @include(if: $withTotal) endCursor hasNextPage
    nodes { ${STATE_FIELDS} stats { servedLastHour series(minutes: 60) } }
  }
}`;

/** Only the stats of the rows on screen: served counts move without any rule change. */
export const ROW_STATS = `query RowStats($ids: [ID!]!, $first: Int) {
  campaignsPage(filter: { ids: $ids }, first: $first) { nodes { id stats { servedLastHour series(minutes: 60) } } }
}`;

/** States by id: names and "what changed" for the feed. */
export const STATES = `query States($ids: [ID!]!, $first: Int) {
  campaignsPage(filter: { ids: $ids }, first: $first) { nodes { ${STATE_FIELDS} } }
}`;

export const INDEX_STATUS =
  "query IndexStatus { indexStatus { version campaigns builtAt replicas { id version seenAt } } }";

export const RULE_CHANGES = `subscription RuleChanges($since: Int) {
  ruleChanges(sinceVersion: $since) { version kind campaignId categoryId at }
}`;

/**
 * The first `per` items of each of the last versions: ruleChanges lists upwards from a version. `per` is
 * a literal: a variable `first` is priced as the largest page (500) by the cost limit.
 */
export function recentChanges(versions: number[], per: number): string {
  const fields = "version kind campaignId categoryId at";
  const args = versions.map((_, i) => `$v${i}: Int!`).join(", ");
  const aliases = versions.map((_, i) => `v${i}: ruleChanges(sinceVersion: $v${i}, first: ${per}) { ${fields} }`);
  return `query RecentChanges${args ? `(${args})` : ""} { ${aliases.join(" ")} }`;
}

export const DELIVERY = `query TryDevice($app: String!, $os: String!, $country: String!) {
  delivery(app: $app, os: $os, country: $country) { version ads { cid img cta } }
}`;

export const SET_STATUS = `mutation SetStatus($id: ID!, $status: CampaignStatus!, $expectedRevision: Int) {
  updateCampaign(id: $id, input: { status: $status, expectedRevision: $expectedRevision }) {
    version propagated campaign { ${STATE_FIELDS} }
  }
}`;

export const UPDATE = `mutation UpdateCampaign($id: ID!, $input: UpdateCampaignInput!) {
  updateCampaign(id: $id, input: $input) { version propagated campaign { ${STATE_FIELDS} } }
}`;

export const CREATE = `mutation CreateCampaign($input: CreateCampaignInput!) {
  createCampaign(input: $input) { version propagated campaign { ${STATE_FIELDS} } }
}`;

export const DELETE = `mutation DeleteCampaign($id: ID!) { deleteCampaign(id: $id) { version propagated } }`;

export interface CampaignChange {
  version: number;
  propagated: boolean;
  campaign: CampaignState | null;
}
