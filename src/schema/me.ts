// Who the token belongs to, so a client (the dashboard) can show admin-only actions to admins only.
import { builder } from "./builder.ts";

const Role = builder.enumType("Role", { values: ["ADMIN", "VIEWER"] as const });

const Me = builder.objectRef<{ role: "ADMIN" | "VIEWER" }>("Me").implement({
  fields: (t) => ({
    role: t.expose("role", { type: Role, description: "ADMIN may mutate; VIEWER may query and subscribe" }),
  }),
});

builder.queryField("me", (t) =>
  t.field({
    type: Me,
    resolve: (_root, _args, ctx) => ({ role: ctx.role === "admin" ? ("ADMIN" as const) : ("VIEWER" as const) }),
  }),
);
