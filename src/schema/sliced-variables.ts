// Large variables coerced in slices. graphql-js coerces an operation's variables in one synchronous
// pass before anything runs: a 2,000-campaign import held the event loop — and delivery on this
// replica — for ~100 ms there. For the arguments listed in SLICED_ARGUMENTS, a variable holding a long
// list (itself, or in a field of the input object it is) is coerced here first, a slice at a time with
// the event loop free between slices; the executor then gets an empty list in its place and the
// resolver reads the coerced value with `slicedArgument`. Anything unusual — the variable used
// elsewhere in the operation, a value that does not coerce — is left to the executor, which coerces
// and reports it exactly as always (the error messages are graphql-js's own).
import {
  coerceInputValue,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLResolveInfo,
  getOperationAST,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  type OperationDefinitionNode,
  typeFromAST,
  visit,
} from "graphql";
import type { Plugin } from "graphql-yoga";
import { runInSlices, type Steps } from "../delivery/steps.ts";
import { coerceFast } from "./fast-coercion.ts";

/** Mutation arguments whose resolvers read their value with `slicedArgument`: field → argument. */
const SLICED_ARGUMENTS: Readonly<Record<string, string>> = {
  importCampaigns: "campaigns",
  upsertCategory: "input",
};

/** A list this long is coerced in slices (shorter ones cost the executor well under a millisecond). */
export const SLICED_LIST_LENGTH = 100;

/** Per operation's context: variable name → its coerced value. */
const coercedByContext = new WeakMap<object, Map<string, unknown>>();

/** The argument's value: the one coerced in slices when its variable was large, else `fromArgs`. */
export function slicedArgument<T>(context: object, info: GraphQLResolveInfo, name: string, fromArgs: T): T {
  const argument = info.fieldNodes[0]?.arguments?.find((a) => a.name.value === name);
  if (argument?.value.kind !== Kind.VARIABLE) return fromArgs;
  const coerced = coercedByContext.get(context);
  const variable = argument.value.name.value;
  return coerced?.has(variable) ? (coerced.get(variable) as T) : fromArgs;
}

export function slicedVariables(): Plugin {
  return {
    async onExecute({ args, executeFn, setExecuteFn }) {
      const raw = args.variableValues;
      if (!raw || typeof raw !== "object") return;
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation !== "mutation") return;
      const coerced = new Map<string, unknown>();
      for (const name of slicedVariableNames(args.document, operation)) {
        const definition = operation.variableDefinitions?.find((d) => d.variable.name.value === name);
        const type = definition && typeFromAST(args.schema, definition.type);
        const value = raw[name];
        if (!type || !holdsLongList(value)) continue;
        const result = await runInSlices(coerceInSlices(value, type as GraphQLInputType));
        if (result.ok) coerced.set(name, result.value);
      }
      if (coerced.size === 0) return;
      coercedByContext.set(args.contextValue as object, coerced);
      const placeholders = Object.fromEntries(Array.from(coerced.keys(), (name) => [name, placeholderOf(raw[name])]));
      setExecuteFn((execution) =>
        executeFn({ ...execution, variableValues: { ...execution.variableValues, ...placeholders } }),
      );
    },
  };
}

/** Variables used only as a SLICED_ARGUMENTS argument of a top-level mutation field, nowhere else. */
function slicedVariableNames(document: DocumentNode, operation: OperationDefinitionNode): string[] {
  const eligible = new Map<string, number>();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) continue;
    const argumentName = SLICED_ARGUMENTS[selection.name.value];
    const argument = selection.arguments?.find((a) => a.name.value === argumentName);
    if (argument?.value.kind === Kind.VARIABLE) {
      const name = argument.value.name.value;
      eligible.set(name, (eligible.get(name) ?? 0) + 1);
    }
  }
  if (eligible.size === 0) return [];
  const uses = new Map<string, number>();
  visit(document, {
    VariableDefinition: () => false,
    Variable(node) {
      uses.set(node.name.value, (uses.get(node.name.value) ?? 0) + 1);
    },
  });
  return [...eligible].filter(([name, count]) => uses.get(name) === count).map(([name]) => name);
}

function isLongList(value: unknown): value is unknown[] {
  return Array.isArray(value) && value.length >= SLICED_LIST_LENGTH;
}

/** A long list, or an object with a long list in one of its fields. */
function holdsLongList(value: unknown): boolean {
  if (isLongList(value)) return true;
  return typeof value === "object" && value !== null && Object.values(value).some(isLongList);
}

/** What the executor coerces instead: the same shape with its long lists empty. */
function placeholderOf(value: unknown): unknown {
  if (isLongList(value)) return [];
  return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, isLongList(v) ? [] : v]));
}

type Coerced = { ok: true; value: unknown } | { ok: false };

/**
 * graphql-js's coercion, with the long lists taken item by item as steps (run in time slices by
 * runInSlices). Not ok at the first problem: the executor then reports it in its own words.
 */
function* coerceInSlices(value: unknown, type: GraphQLInputType): Steps<Coerced> {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner) && isLongList(value)) return yield* coerceList(value, inner.ofType as GraphQLInputType);
  if (isInputObjectType(inner) && typeof value === "object" && value !== null && !Array.isArray(value)) {
    const fields = inner.getFields();
    const long = Object.entries(value).filter(([key, v]) => isLongList(v) && key in fields);
    if (long.length === 0) return coerceWhole(value, type);
    const rest = coerceWhole(placeholderOf(value), type);
    if (!rest.ok) return rest;
    const object = rest.value as Record<string, unknown>;
    for (const [key, list] of long) {
      const fieldType = fields[key]?.type as GraphQLInputType;
      const listType = isNonNullType(fieldType) ? fieldType.ofType : fieldType;
      if (!isListType(listType)) return { ok: false };
      const items = yield* coerceList(list as unknown[], listType.ofType as GraphQLInputType);
      if (!items.ok) return items;
      object[key] = items.value;
    }
    return { ok: true, value: object };
  }
  return coerceWhole(value, type);
}

function* coerceList(items: unknown[], itemType: GraphQLInputType): Steps<Coerced> {
  const coerced: unknown[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const item = coerceWhole(items[i], itemType);
    if (!item.ok) return item;
    coerced[i] = item.value;
    yield;
  }
  return { ok: true, value: coerced };
}

function coerceWhole(value: unknown, type: GraphQLInputType): Coerced {
  const fast = coerceFast(value, type);
  if (fast) return { ok: true, value: fast.value };
  let ok = true;
  const coerced = coerceInputValue(value, type, () => {
    ok = false;
  });
  return ok ? { ok: true, value: coerced } : { ok: false };
}
