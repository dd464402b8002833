// graphql-js's input coercion (coerceInputValue), without what only matters when a value fails: no
// path is built per value, no error is described. Coercing a 2,000-campaign import item by item took
// graphql-js 50–80 ms (95 cold) of the writing replica's loop, this 8 ms, with the same result. Any value
// graphql-js would reject — and anything unusual — is declined (`undefined`), and the caller coerces it
// with graphql-js, which reports it in its own words. Plans are built once per input type.
import {
  type GraphQLInputObjectType,
  type GraphQLInputType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
} from "graphql";

/** Thrown inside a plan when graphql-js would report an error (or might): the whole value is declined. */
const DECLINED = Symbol("declined");

type Plan = (value: unknown) => unknown;
const plans = new WeakMap<GraphQLInputType, Plan>();

/** `value` coerced to `type` exactly as graphql-js would, or undefined when it must coerce it itself. */
export function coerceFast(value: unknown, type: GraphQLInputType): { value: unknown } | undefined {
  try {
    return { value: planOf(type)(value) };
  } catch {
    return undefined;
  }
}

function planOf(type: GraphQLInputType): Plan {
  let plan = plans.get(type);
  if (!plan) {
    plan = build(type);
    plans.set(type, plan);
  }
  return plan;
}

function build(type: GraphQLInputType): Plan {
  if (isNonNullType(type)) {
    const inner = type.ofType as GraphQLInputType;
    return (value) => {
      if (value == null) throw DECLINED;
      return planOf(inner)(value);
    };
  }
  if (isListType(type)) {
    const itemType = type.ofType as GraphQLInputType;
    return (value) => {
      if (value == null) return null;
      const item = planOf(itemType);
      // graphql-js takes any iterable object as a list; JSON variables only have arrays.
      if (!Array.isArray(value)) {
        if (typeof value === "object") throw DECLINED;
        return [item(value)];
      }
      const coerced = new Array(value.length);
      for (let i = 0; i < value.length; i++) coerced[i] = item(value[i]);
      return coerced;
    };
  }
  if (isInputObjectType(type)) return objectPlan(type);
  if (isLeafType(type)) {
    return (value) => {
      if (value == null) return null;
      const parsed = type.parseValue(value);
      if (parsed === undefined) throw DECLINED;
      return parsed;
    };
  }
  throw new Error(`not an input type: ${String(type)}`);
}

function objectPlan(type: GraphQLInputObjectType): Plan {
  const fields = Object.values(type.getFields());
  const known = new Set(fields.map((field) => field.name));
  // @oneOf objects have rules of their own: left to graphql-js.
  const oneOf = (type as { isOneOf?: boolean }).isOneOf === true;
  return (value) => {
    if (value == null) return null;
    if (oneOf || typeof value !== "object" || Array.isArray(value)) throw DECLINED;
    const input = value as Record<string, unknown>;
    const coerced: Record<string, unknown> = {};
    for (const field of fields) {
      const fieldValue = input[field.name];
      if (fieldValue === undefined) {
        if (field.defaultValue !== undefined) coerced[field.name] = field.defaultValue;
        else if (isNonNullType(field.type)) throw DECLINED;
        continue;
      }
      coerced[field.name] = planOf(field.type)(fieldValue);
    }
    for (const key of Object.keys(input)) if (!known.has(key)) throw DECLINED;
    return coerced;
  };
}
