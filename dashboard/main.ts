// The Bullseye dashboard: a single page on the public GraphQL API only. Sign in with a token (kept in
// sessionStorage); then a campaign list (search, filters, sort, paging), campaign pages with an editor
// for admins, a live feed of changes, replica status and a "try a device" box. This module signs in and
// out and wires the parts together; each part lives in its own module.
import { ApiError } from "./api.ts";
import { startBanner } from "./banner.ts";
import { startDevice } from "./device.ts";
import { startFeed } from "./feed.ts";
import { ME, type Me } from "./queries.ts";
import { startReplicas } from "./replicas.ts";
import { startRouter } from "./router.ts";
import { type Role, Session } from "./session.ts";
import { $ } from "./view.ts";

const TOKEN_KEY = "bullseye.token";
/** The role the stored token had: a reload starts at once, and `me` confirms it meanwhile. */
const ROLE_KEY = "bullseye.role";

let session: Session | undefined;

function start(): void {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const role = sessionStorage.getItem(ROLE_KEY);
  if (token && (role === "ADMIN" || role === "VIEWER")) resume(token, role);
  else if (token) void signIn(token);
  else showSignIn();
  $("signin").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $<HTMLInputElement>("token").value.trim();
    if (!value) return showSignIn(undefined, "Enter a token.");
    void signIn(value);
  });
  $("signout").addEventListener("click", () => session?.end());
}

function showSignIn(reason?: string, error?: string): void {
  $("app").hidden = true;
  $("signin").hidden = false;
  $("signout").hidden = true;
  $("role").hidden = true;
  $("role").textContent = "";
  $("nav-keys").hidden = true;
  $("index-version").textContent = "";
  $("banner").hidden = true;
  $("signin-reason").hidden = !reason;
  $("signin-reason").textContent = reason ?? "";
  $("signin-error").hidden = !error;
  $("signin-error").textContent = error ?? "";
  $<HTMLInputElement>("token").value = "";
  $("token").focus();
}

function newSession(token: string, refused: () => string | undefined): Session {
  return new Session(token, (message) => {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(ROLE_KEY);
    session = undefined;
    const refusal = refused();
    if (refusal) showSignIn(undefined, refusal);
    else showSignIn(message);
  });
}

async function signIn(token: string): Promise<void> {
  let established = false;
  let refusal = "Unknown token: this server does not accept it.";
  const next = newSession(token, () => (established ? undefined : refusal));
  let me: Me;
  try {
    ({ me } = await next.api.query<{ me: Me }>(ME));
  } catch (error) {
    // A refused token has ended the session already (with `refusal`); anything else ends it here.
    if (next.active) {
      refusal =
        error instanceof ApiError && error.code === "UNREACHABLE"
          ? "Cannot reach the server; try again in a moment."
          : `Cannot sign in: ${(error as Error).message}`;
      next.end();
    }
    return;
  }
  established = true;
  next.name = me.name;
  establish(next, token, me.role);
}

/** A reload with a stored token: the page starts with the stored role while `me` confirms it. */
function resume(token: string, role: Role): void {
  const next = newSession(token, () => undefined);
  establish(next, token, role);
  next.api.query<{ me: Me }>(ME).then(
    ({ me }) => {
      next.name = me.name;
      if (me.role === role || !next.active) return;
      next.end();
      void signIn(token);
    },
    // Refused: the session has ended, saying why; unreachable: the banner says so.
    () => undefined,
  );
}

function establish(next: Session, token: string, role: Role): void {
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(ROLE_KEY, role);
  session = next;
  next.role = role;
  $("signin").hidden = true;
  $("app").hidden = false;
  $("signout").hidden = false;
  $("role").hidden = false;
  $("role").textContent = role === "ADMIN" ? "admin" : "viewer";
  $("nav-keys").hidden = role !== "ADMIN";
  $("readonly-note").hidden = role === "ADMIN";
  startBanner(next);
  startReplicas(next);
  startFeed(next);
  startDevice(next);
  startRouter(next);
}

start();
