// Who the token belongs to, so a client (the dashboard) can show admin-only actions to admins only.
import { builder } from "./builder.ts";

const Role = builder.enumType("Role", { values: ["ADMIN", "VIEWER"] as const });

const Me = builder.objectRef<{ role: "ADMIN" | "VIEWER"; name: string }>("Me").implement({
  fields: (t) => ({
    role: t.expose("role", { type: Role, description: "ADMIN may mutate; VIEWER may query and subscribe" }),
    name: t.exposeString("name", {
      description: "The key's name, as the audit trail records this caller (env-admin / env-viewer for the env tokens)",
    }),
  }),
});

builder.queryField("me", (t) =>
  t.field({
    type: Me,
    resolve: (_root, _args, ctx) => ({
      role: ctx.role === "admin" ? ("ADMIN" as const) : ("VIEWER" as const),
      name: ctx.principal.name,
    }),
  }),
);
