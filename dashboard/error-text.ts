// A failed request in words for the person at the screen: the server's message (already a sentence,
// e.g. "campaign x is at revision 4, not 3"), with the problem fields of invalid input, or what to do
// when the server or its database cannot answer. Never a bare code.
import { ApiError } from "./api.ts";

const sentence = (text: string) => {
  const start = text.charAt(0).toUpperCase() + text.slice(1);
  return /[.!?)]$/.test(start) ? start : `${start}.`;
};

export function errorText(error: unknown): string {
  if (!(error instanceof ApiError)) return sentence(`Something went wrong: ${(error as Error)?.message ?? error}`);
  switch (error.code) {
    case "UNREACHABLE":
      return "Cannot reach the server; try again in a moment.";
    case "UNAVAILABLE":
      return "The server cannot do this right now (its database is unavailable); try again in a moment.";
    case "FORBIDDEN":
      return "Only an admin may do this; you are signed in with a viewer token.";
    case "BAD_USER_INPUT": {
      const problems = Object.entries(error.fields).map(([field, problem]) => `${field}: ${problem}`);
      return problems.length ? `Not accepted: ${problems.join("; ")}.` : sentence(error.message);
    }
    default:
      return sentence(error.message);
  }
}
