// Bounds on what one operation may ask for, with errors that say which bound and carry a code
// (QUERY_TOO_COMPLEX), never graphql-armor's "Syntax Error: …". Depth, aliases, tokens and directives
// are graphql-armor's; cost is priced here by what a field costs to answer:
// - a scalar or enum, or a list of them (an include list, a category's apps), comes with a row already
//   read: 0;
// - an object is 1 (a row, a join, a loader batch), a list of objects is its page size × (1 + what each
//   item selects), the page size being `first` (a literal; a variable counts as MAX_PAGE, so a variable
//   cannot hide a big page), else the argument's default, else DEFAULT_LIST_SIZE.
// So `campaigns(first: 500)` with full targeting and stats costs 2,500 of the 5,000 allowed.
// A field may say what it costs better through its extensions: `cost` (an item computed in memory,
// not read: 0) and `listSize` (a list with a known bound, e.g. the 11 reason codes).
import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import {
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLNamedType,
  getNamedType,
  getNullableType,
  isInterfaceType,
  isLeafType,
  isListType,
  isObjectType,
  Kind,
  type SelectionSetNode,
  type ValidationRule,
} from "graphql";
import type { Plugin } from "graphql-yoga";

export const LIMITS = {
  maxDepth: 12,
  maxCost: 5_000,
  maxAliases: 15,
  maxDirectives: 20,
  maxTokens: 5_000,
} as const;

/** The largest `first` any list accepts (documented); a `first` given as a variable is priced at it. */
export const MAX_PAGE = 500;
/** Items assumed for a list without `first` (categories, a category's campaigns). */
export const DEFAULT_LIST_SIZE = 20;

export type LimitKind = "depth" | "cost" | "aliases" | "directives" | "tokens";

export function limitError(limit: LimitKind, message: string, max: number): GraphQLError {
  return new GraphQLError(message.replace(/^Syntax Error: /, ""), {
    extensions: { code: "QUERY_TOO_COMPLEX", limit, max },
  });
}

const reject = (limit: LimitKind, max: number) => [
  (_context: unknown, error: GraphQLError) => {
    throw limitError(limit, error.message, max);
  },
];

export function operationLimits(options: { blockFieldSuggestion: boolean }): Plugin[] {
  return [
    EnvelopArmorPlugin({
      maxDepth: { n: LIMITS.maxDepth, ignoreIntrospection: true, onReject: reject("depth", LIMITS.maxDepth) },
      costLimit: { enabled: false },
      maxAliases: { n: LIMITS.maxAliases, onReject: reject("aliases", LIMITS.maxAliases) },
      maxDirectives: { n: LIMITS.maxDirectives, onReject: reject("directives", LIMITS.maxDirectives) },
      maxTokens: { n: LIMITS.maxTokens, onReject: reject("tokens", LIMITS.maxTokens) },
      blockFieldSuggestion: { enabled: options.blockFieldSuggestion },
    }),
    {
      onValidate({ addValidationRule }) {
        addValidationRule(costRule(LIMITS.maxCost));
      },
    },
  ];
}

export function costRule(maxCost: number): ValidationRule {
  return (context) => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const schema = context.getSchema();

    const listSize = (field: FieldNode, defaultFirst: unknown): number => {
      const first = field.arguments?.find((arg) => arg.name.value === "first")?.value;
      if (first?.kind === Kind.INT) return Math.max(0, Number(first.value));
      if (first?.kind === Kind.VARIABLE) return MAX_PAGE;
      return typeof defaultFirst === "number" ? defaultFirst : DEFAULT_LIST_SIZE;
    };

    /** `pageSize`: the `first` of the page object this set is on (campaignsPage), for its lists. */
    const costOf = (
      set: SelectionSetNode,
      parent: GraphQLNamedType,
      visiting: Set<string>,
      pageSize?: number,
    ): number => {
      let cost = 0;
      for (const selection of set.selections) {
        if (selection.kind === Kind.FRAGMENT_SPREAD) {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          if (!fragment || visiting.has(name)) continue;
          const type = schema.getType(fragment.typeCondition.name.value) ?? parent;
          cost += costOf(fragment.selectionSet, type, new Set([...visiting, name]), pageSize);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const type = selection.typeCondition
            ? (schema.getType(selection.typeCondition.name.value) ?? parent)
            : parent;
          cost += costOf(selection.selectionSet, type, visiting, pageSize);
        } else {
          const name = selection.name.value;
          if (name.startsWith("__")) continue; // introspection and __typename
          if (!isObjectType(parent) && !isInterfaceType(parent)) continue;
          const definition = parent.getFields()[name];
          if (!definition) continue; // reported by validation
          const type = getNullableType(definition.type);
          const named = getNamedType(type);
          if (isLeafType(named)) continue;
          const firstArg = definition.args.find((arg) => arg.name === "first");
          const { cost: ownCost, listSize: bound } = definition.extensions as { cost?: number; listSize?: number };
          // An object with a `first` is a page (campaignsPage): its lists (nodes) hold `first` items.
          const page = !isListType(type) && firstArg ? listSize(selection, firstArg.defaultValue) : undefined;
          const each =
            (ownCost ?? 1) + (selection.selectionSet ? costOf(selection.selectionSet, named, visiting, page) : 0);
          const size =
            bound ?? (firstArg ? listSize(selection, firstArg.defaultValue) : (pageSize ?? DEFAULT_LIST_SIZE));
          cost += isListType(type) ? size * each : each;
        }
      }
      return cost;
    };

    return {
      OperationDefinition(operation) {
        const root =
          operation.operation === "query"
            ? schema.getQueryType()
            : operation.operation === "mutation"
              ? schema.getMutationType()
              : schema.getSubscriptionType();
        if (!root) return;
        const cost = costOf(operation.selectionSet, root, new Set());
        if (cost > maxCost) {
          context.reportError(
            limitError("cost", `Query cost limit of ${maxCost} exceeded, found ${Math.round(cost)}.`, maxCost),
          );
        }
      },
    };
  };
}
