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
  /** An API key's name (env-admin / env-viewer for the env tokens), or sql:<database user>. */
  actor: string;
  reason: string | null;
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

export const ME = "query Me { me { name role } }";

export interface Me {
  name: string;
  role: "ADMIN" | "VIEWER";
}

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

const CHANGE_FIELDS = "version kind campaignId categoryId at actor reason";

export const RULE_CHANGES = `subscription RuleChanges($since: Int) {
  ruleChanges(sinceVersion: $since) { ${CHANGE_FIELDS} }
}`;

/**
 * The first `per` items of each of the last versions: ruleChanges lists upwards from a version. `per` is
 * a literal: a variable `first` is priced as the largest page (500) by the cost limit.
 */
export function recentChanges(versions: number[], per: number): string {
  const args = versions.map((_, i) => `$v${i}: Int!`).join(", ");
  const aliases = versions.map(
    (_, i) => `v${i}: ruleChanges(sinceVersion: $v${i}, first: ${per}) { ${CHANGE_FIELDS} }`,
  );
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

export type MatchReason =
  | "PAUSED"
  | "NOT_STARTED"
  | "ENDED"
  | `${"APP" | "COUNTRY" | "OS" | "CATEGORY"}_${"NOT_INCLUDED" | "EXCLUDED"}`;

export interface Explanation {
  version: number;
  request: { app: string; os: string; country: string; categories: string[] };
  campaigns: { matched: boolean; reasons: { reason: MatchReason; values: string[] }[] }[];
}

/** Why one campaign does (not) serve a device, from the replica's index: "Why not serving?". */
export const EXPLAIN = `query Explain($app: String!, $os: String!, $country: String!, $ids: [ID!]) {
  explainDelivery(app: $app, os: $os, country: $country, campaignIds: $ids) {
    version request { app os country categories } campaigns { matched reasons { reason values } }
  }
}`;

export interface Forecast {
  sampledRequests: number;
  matchingShare: number;
  requestsPerHour: number;
  replicasAnswered: number;
  overlaps: { campaign: { id: string; name: string }; share: number }[];
}

/** Reach of draft targeting over the last hour's traffic (nothing saved): the editor's estimate. */
export const FORECAST = `query Forecast($targeting: TargetingInput!, $startsAt: DateTime, $endsAt: DateTime) {
  forecast(targeting: $targeting, startsAt: $startsAt, endsAt: $endsAt) {
    sampledRequests matchingShare requestsPerHour replicasAnswered overlaps { campaign { id name } share }
  }
}`;

/** A campaign's fields and targeting as they were at a revision (no revision or times of its own). */
export type RevisionState = Omit<CampaignState, "revision" | "updatedAt">;

export interface CampaignRevision {
  revision: number;
  version: number;
  actor: string;
  reason: string | null;
  at: string;
  /** This revision deleted it; its state is the one deleted. */
  deleted: boolean;
  campaign: RevisionState;
}

export const REVISION_FIELDS = `revision version actor reason at deleted campaign {
  id name imageUrl cta status priority startsAt endsAt targeting { include { ${DIMS} } exclude { ${DIMS} } }
}`;

/** Older revisions of a campaign, also once it is deleted. `first` is a literal (see recentChanges). */
export const campaignHistory = (first: number) => `query CampaignHistory($id: ID!, $after: String) {
  campaignHistory(id: $id, first: ${first}, after: $after) { ${REVISION_FIELDS} }
}`;

export const REVERT = `mutation RevertCampaign($id: ID!, $toRevision: Int!, $expectedRevision: Int, $reason: String) {
  revertCampaign(id: $id, toRevision: $toRevision, expectedRevision: $expectedRevision, reason: $reason) {
    version propagated campaign { ${STATE_FIELDS} }
  }
}`;

export type KeyRole = "ADMIN" | "VIEWER";

export interface ApiKey {
  id: string;
  name: string;
  role: KeyRole;
  createdAt: string;
  createdBy: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const KEY_FIELDS = "id name role createdAt createdBy lastUsedAt revokedAt";

export const API_KEYS = `query ApiKeys { apiKeys { ${KEY_FIELDS} } }`;

export const CREATE_API_KEY = `mutation CreateApiKey($name: String!, $role: ApiKeyRole!) {
  createApiKey(name: $name, role: $role) { key apiKey { ${KEY_FIELDS} } }
}`;

export const REVOKE_API_KEY = `mutation RevokeApiKey($id: ID!) { revokeApiKey(id: $id) { ${KEY_FIELDS} } }`;
