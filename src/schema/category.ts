// Category: app sets that rules can target. Category.campaigns comes from a request-scoped DataLoader
// (rules name categories by value; there is no Prisma relation to plan).
import { runInSlices } from "../delivery/steps.ts";
import { deleteCategoryAndRules, replaceCategoryApps } from "../store/category-writes.ts";
import { type CarriedChange, carriedCategory, carriedCategoryDeletion } from "../sync/carried-change.ts";
import { builder } from "./builder.ts";
import { conflict, isUniqueViolation, notFound } from "./errors.ts";
import { slicedArgument } from "./sliced-variables.ts";
import { normalizeId, REASON_DESCRIPTION, validateCategory, validateId, validateReason } from "./validation.ts";
import { commitChange } from "./write.ts";

builder.prismaObject("Category", {
  fields: (t) => ({
    id: t.exposeID("id"),
    name: t.exposeString("name"),
    apps: t.field({
      type: ["String"],
      select: { apps: { select: { app: true }, orderBy: { app: "asc" } } },
      resolve: (category) => category.apps.map((a) => a.app),
    }),
    campaigns: t.prismaField({
      type: ["Campaign"],
      description: "Campaigns whose include or exclude rules name this category, ordered by id",
      resolve: (query, category, _args, ctx) => ctx.loaders.campaignsByCategory(query).load(category.id),
    }),
  }),
});

builder.queryFields((t) => ({
  categories: t.prismaField({
    type: ["Category"],
    description: "All categories, ordered by id",
    resolve: (query, _root, _args, ctx) => ctx.db.category.findMany({ ...query, orderBy: { id: "asc" } }),
  }),
  category: t.prismaField({
    type: "Category",
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: async (query, _root, args, ctx) => {
      const id = normalizeId(args.id);
      return id === undefined ? null : ctx.db.category.findUnique({ ...query, where: { id } });
    },
  }),
}));

interface CategoryChangeShape {
  version: number;
  propagated: boolean;
  /** The category to show; null after a delete. */
  categoryId: string | null;
}

const CategoryChange = builder.objectRef<CategoryChangeShape>("CategoryChange").implement({
  fields: (t) => ({
    version: t.exposeInt("version"),
    propagated: t.exposeBoolean("propagated"),
    category: t.prismaField({
      type: "Category",
      nullable: true,
      description: "The category as stored now; null after deleteCategory",
      resolve: (query, change, _args, ctx) =>
        change.categoryId === null ? null : ctx.db.category.findUnique({ ...query, where: { id: change.categoryId } }),
    }),
  }),
});

const CategoryInput = builder.inputType("CategoryInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string({ required: true }),
    apps: t.stringList({ required: true, description: "The whole app set (replaces the stored one); at most 100,000" }),
  }),
});

builder.mutationFields((t) => ({
  upsertCategory: t.field({
    type: CategoryChange,
    description: "Creates the category or replaces its name and whole app set",
    args: {
      input: t.arg({ type: CategoryInput, required: true }),
      reason: t.arg.string({ description: REASON_DESCRIPTION }),
    },
    resolve: async (_root, args, ctx, info) => {
      const { id, name, apps } = await validateCategory(slicedArgument(ctx, info, "input", args.input));
      const reason = validateReason(args.reason);
      const committed = await commitChange(
        ctx,
        async (tx) => {
          try {
            // Always writes the row (updatedAt), so even an unchanged category gets its version.
            await tx.category.upsert({
              where: { id },
              create: { id, name },
              update: { name, updatedAt: new Date() },
              select: { id: true },
            });
          } catch (error) {
            if (isUniqueViolation(error)) throw conflict(`category ${id} was created concurrently; retry`);
            throw error;
          }
          await replaceCategoryApps(tx, id, apps);
        },
        // The whole app set is known before the transaction: the replicas build it while it runs.
        { reason, carries: Promise.resolve(carriedCategory({ id, apps })) },
      );
      return { ...committed, categoryId: id };
    },
  }),

  deleteCategory: t.field({
    type: CategoryChange,
    description: "Deletes the category and every targeting rule naming it (those campaigns get a new revision)",
    args: { id: t.arg.id({ required: true }), reason: t.arg.string({ description: REASON_DESCRIPTION }) },
    resolve: async (_root, args, ctx) => {
      const id = validateId(args.id);
      const reason = validateReason(args.reason);
      // The campaigns it rewrites are known once the transaction has locked them: carried from there.
      const carried = settleable<CarriedChange>();
      const committed = await commitChange(
        ctx,
        async (tx) => {
          try {
            const rewritten = await deleteCategoryAndRules(tx, id);
            if (rewritten === null) throw notFound(`category ${id} does not exist`);
            carried.resolve(await runInSlices(carriedCategoryDeletion(id, rewritten)));
          } catch (error) {
            carried.reject(error);
            throw error;
          }
        },
        { reason, carries: carried.promise },
      );
      return { ...committed, categoryId: null };
    },
  }),
}));

/** A promise and its settlers (Node 20 has no Promise.withResolvers). A rejection nobody awaits is no crash. */
function settleable<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
