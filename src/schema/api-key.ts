// Named API keys (admin only): list, create (the secret is in the answer, this once, and nowhere else),
// revoke. Only the SHA-256 of a secret is stored. Every replica authenticates from its own cache of the
// keys (src/keys/key-store.ts); a change is pushed to it at once through the bus and found by its poll
// otherwise, so a revoked key stops working on every replica within a second, its open subscriptions
// included.
import { ApiKeyRole as ApiKeyRoleValues } from "../generated/prisma/enums.ts";
import { newSecret, secretDigest } from "../keys/secrets.ts";
import { ENV_ADMIN, ENV_VIEWER } from "./auth.ts";
import { builder } from "./builder.ts";
import { badUserInput, conflict, isUniqueViolation, notFound } from "./errors.ts";
import { REASON_DESCRIPTION, validateReason } from "./validation.ts";

const ApiKeyRole = builder.enumType(ApiKeyRoleValues, { name: "ApiKeyRole" });

/** Names appear in the audit trail beside `env-*` and `sql:<user>`, so neither form is allowed. */
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

function validateKeyName(raw: string): string {
  const name = raw.trim();
  if (!KEY_NAME.test(name)) {
    throw badUserInput({
      name: "must be 1–64 characters of A-Z, a-z, 0-9, '.', '_', '@', '-', starting with a letter or digit",
    });
  }
  if (/^env-/i.test(name)) throw badUserInput({ name: `env-… is reserved (${ENV_ADMIN}, ${ENV_VIEWER})` });
  return name;
}

builder.prismaObject("ApiKey", {
  description: "A named key; its secret is shown once, by createApiKey",
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name", { description: "Unique, never reused: the audit trail names changes by it" }),
    role: t.expose("role", { type: ApiKeyRole }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    createdBy: t.exposeString("createdBy"),
    createdReason: t.exposeString("createdReason", { nullable: true }),
    lastUsedAt: t.expose("lastUsedAt", {
      type: "DateTime",
      nullable: true,
      description: "Last request made with it, written by each replica every few seconds",
    }),
    revokedAt: t.expose("revokedAt", { type: "DateTime", nullable: true }),
    revokedBy: t.exposeString("revokedBy", { nullable: true }),
    revokedReason: t.exposeString("revokedReason", { nullable: true }),
  }),
});

const CreatedApiKey = builder.objectRef<{ key: string; id: string }>("CreatedApiKey").implement({
  fields: (t) => ({
    key: t.exposeString("key", { description: "The secret (Authorization: Bearer …), shown this once: store it now" }),
    apiKey: t.prismaField({
      type: "ApiKey",
      resolve: (query, created, _args, ctx) =>
        ctx.primary.apiKey.findUniqueOrThrow({ ...query, where: { id: created.id } }),
    }),
  }),
});

builder.queryField("apiKeys", (t) =>
  t.prismaField({
    type: ["ApiKey"],
    description: "Every named key, revoked ones included, oldest first (not the env tokens). Admin only.",
    authScopes: { admin: true },
    // The primary: key changes move no change-log version, so a read replica's freshness check cannot vouch for them.
    resolve: (query, _root, _args, ctx) =>
      ctx.primary.apiKey.findMany({ ...query, orderBy: [{ createdAt: "asc" }, { name: "asc" }] }),
  }),
);

builder.mutationFields((t) => ({
  createApiKey: t.field({
    type: CreatedApiKey,
    args: {
      name: t.arg.string({ required: true }),
      role: t.arg({ type: ApiKeyRole, required: true }),
      reason: t.arg.string({ description: REASON_DESCRIPTION }),
    },
    resolve: async (_root, args, ctx) => {
      const name = validateKeyName(args.name);
      const reason = validateReason(args.reason);
      const key = newSecret();
      let id: string;
      try {
        ({ id } = await ctx.primary.apiKey.create({
          data: {
            name,
            role: args.role,
            secretHash: secretDigest(key).toString("hex"),
            createdBy: ctx.principal.name,
            createdReason: reason,
          },
          select: { id: true },
        }));
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(`an API key named ${name} exists (names are never reused)`);
        throw error;
      }
      await ctx.keys?.changed();
      return { key, id };
    },
  }),

  revokeApiKey: t.prismaField({
    type: "ApiKey",
    description:
      "Stops the key on every replica within a second and ends its open subscriptions; revoking twice is a no-op",
    args: { id: t.arg.id({ required: true }), reason: t.arg.string({ description: REASON_DESCRIPTION }) },
    resolve: async (query, _root, args, ctx) => {
      const reason = validateReason(args.reason);
      if (args.id.includes("\u0000")) throw notFound("no such API key");
      const { count } = await ctx.primary.apiKey.updateMany({
        where: { id: args.id, revokedAt: null },
        data: { revokedAt: new Date(), revokedBy: ctx.principal.name, revokedReason: reason },
      });
      const key = await ctx.primary.apiKey.findUnique({ ...query, where: { id: args.id } });
      if (!key) throw notFound(`API key ${args.id} does not exist`);
      if (count > 0) await ctx.keys?.changed();
      return key;
    },
  }),
}));
