-- CreateTable
CREATE TABLE "replica_presence" (
    "replica_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "replica_presence_pkey" PRIMARY KEY ("replica_id")
);
