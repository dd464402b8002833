// The root types and who may use them: any valid token may query and subscribe, only the admin token may mutate.
import { builder } from "./builder.ts";

builder.queryType({ authScopes: { viewer: true } });
builder.mutationType({ authScopes: { admin: true } });
builder.subscriptionType({ authScopes: { viewer: true } });
