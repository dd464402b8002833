// Bulk campaign writes for importCampaigns: a few set-based statements instead of one round trip per
// campaign (5,000 campaigns in well under a second). Runs inside the caller's transaction, so the
// whole batch is one change-log version and fails as a whole.
import type { Prisma } from "../generated/prisma/client.ts";
import type { CampaignStatus, Dimension, RuleMode } from "../generated/prisma/enums.ts";

type Tx = Prisma.TransactionClient;

export interface RuleRow {
  dimension: Dimension;
  mode: RuleMode;
  value: string;
}

/** A validated, normalised campaign as written (also what GraphQL validation produces). */
export interface CampaignRow {
  id: string;
  name: string;
  imageUrl: string;
  cta: string;
  status: CampaignStatus;
  priority: number;
  startsAt: Date | null;
  endsAt: Date | null;
  rules: RuleRow[];
}

// Arrays are bound as one parameter each (unnest), so a chunk's size is bounded by memory, not by
// Postgres' 65,535-parameter limit.
const CAMPAIGN_CHUNK = 5_000;
const RULE_CHUNK = 50_000;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Creates or replaces campaigns whole: fields, and all their rules. Existing ones get revision + 1. */
export async function upsertCampaigns(tx: Tx, campaigns: readonly CampaignRow[]): Promise<void> {
  for (const part of chunks(campaigns, CAMPAIGN_CHUNK)) {
    const ids = part.map((c) => c.id);
    await tx.$executeRaw`
      INSERT INTO campaign (id, name, image_url, cta, status, priority, starts_at, ends_at)
      SELECT * FROM unnest(
        ${ids}::text[], ${part.map((c) => c.name)}::text[], ${part.map((c) => c.imageUrl)}::text[],
        ${part.map((c) => c.cta)}::text[], ${part.map((c) => c.status)}::"CampaignStatus"[],
        ${part.map((c) => c.priority)}::int[], ${part.map((c) => c.startsAt)}::timestamptz[],
        ${part.map((c) => c.endsAt)}::timestamptz[])
      ON CONFLICT (id) DO UPDATE SET
        name = EXCLUDED.name, image_url = EXCLUDED.image_url, cta = EXCLUDED.cta, status = EXCLUDED.status,
        priority = EXCLUDED.priority, starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at,
        revision = campaign.revision + 1, updated_at = now()`;
    await tx.$executeRaw`DELETE FROM targeting_rule WHERE campaign_id = ANY(${ids}::text[])`;
  }
  const rules = campaigns.flatMap((c) => c.rules.map((rule) => ({ campaignId: c.id, ...rule })));
  for (const part of chunks(rules, RULE_CHUNK)) {
    await tx.$executeRaw`
      INSERT INTO targeting_rule (campaign_id, dimension, mode, value)
      SELECT * FROM unnest(
        ${part.map((r) => r.campaignId)}::text[], ${part.map((r) => r.dimension)}::"Dimension"[],
        ${part.map((r) => r.mode)}::"RuleMode"[], ${part.map((r) => r.value)}::text[])`;
  }
}
