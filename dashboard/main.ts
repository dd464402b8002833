// The Bullseye dashboard: a single page on the public GraphQL API only. Sign in with a token (kept in
// sessionStorage); then a campaign list (search, filters, sort, paging), campaign pages with an editor
// for admins, a live feed of changes, replica status and a "try a device" box. This module signs in and
// out and wires the parts together; each part lives in its own module.
import { ApiError } from "./api.ts";
import { startBanner } from "./banner.ts";
import { startDevice } from "./device.ts";
import { startFeed } from "./feed.ts";
import { ME } from "./queries.ts";
import { startReplicas } from "./replicas.ts";
import { startRouter } from "./router.ts";
import { type Role, Session } from "./session.ts";
import { $ } from "./view.ts";

const TOKEN_KEY = "bullseye.token";

let session: Session | undefined;

function start(): void {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) void signIn(token);
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
  $("index-version").textContent = "";
  $("banner").hidden = true;
  $("signin-reason").hidden = !reason;
  $("signin-reason").textContent = reason ?? "";
  $("signin-error").hidden = !error;
  $("signin-error").textContent = error ?? "";
  $<HTMLInputElement>("token").value = "";
  $("token").focus();
}

async function signIn(token: string): Promise<void> {
  let established = false;
  let refusal = "Unknown token: this server does not accept it.";
  const next = new Session(token, (message) => {
    sessionStorage.removeItem(TOKEN_KEY);
    session = undefined;
    if (established) showSignIn(message);
    else showSignIn(undefined, refusal);
  });
  let role: Role;
  try {
    role = (await next.api.query<{ me: { role: Role } }>(ME)).me.role;
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
  sessionStorage.setItem(TOKEN_KEY, token);
  session = next;
  next.role = role;
  $("signin").hidden = true;
  $("app").hidden = false;
  $("signout").hidden = false;
  $("role").hidden = false;
  $("role").textContent = role === "ADMIN" ? "admin" : "viewer";
  $("readonly-note").hidden = role === "ADMIN";
  startBanner(next);
  startReplicas(next);
  startFeed(next);
  startDevice(next);
  startRouter(next);
}

start();
