-- campaignsPage orders PRIORITY and UPDATED_AT page by keyset (key, id): with these indexes a page is an
-- index range scan, not a sort of the whole catalog.
-- CreateIndex
CREATE INDEX "campaign_priority_id_idx" ON "campaign"("priority" DESC, "id");

-- CreateIndex
CREATE INDEX "campaign_updated_at_id_idx" ON "campaign"("updated_at" DESC, "id");
