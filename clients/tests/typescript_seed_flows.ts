// The seed page's flows through the TypeScript client (clients/typescript), type-checked
// against the generated schema and run against a real server the end-to-end test started
// (tests/e2e/clients.rs): create a credential of each type, list, get, update, delete,
// proxy, create an access key, and a problem+json error thrown as a `VaultProblem`.
// Arguments: the server's base URL, an admin access key, and an upstream origin the
// server may proxy to. Prints "ok" when every flow held.
import { ok, vaultClient, VaultProblem, type CredentialCreate } from "./index.js";

// Node's, declared here rather than through @types/node: its arguments are all we use.
declare const process: { argv: string[] };

const [base, token, upstream] = process.argv.slice(2);
const vault = vaultClient(base, token);
const secret = (label: string) => `${label}-${crypto.randomUUID()}`;

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`failed: ${what}`);
}

const bodies: CredentialCreate[] = [
  { name: "Stripe API Key", type: "api_key", value: secret("sk_live"),
    description: "Production Stripe key", allowedHosts: [upstream] },
  { name: "GitHub", type: "bearer_token", value: secret("ghp") },
  { name: "Jenkins", type: "basic_auth", username: "ci", password: secret("pw") },
  { name: "Auth0 M2M", type: "oauth2", clientId: "client-123", clientSecret: secret("cs"),
    tokenUrl: "https://auth.example.com/oauth/token", scopes: ["read:users"] },
  { name: "Internal JWT", type: "jwt", algorithm: "HS256",
    secret: secret("a-secret-of-at-least-32-bytes") },
  { name: "Legacy partner", type: "custom", headers: { "X-Partner-Key": secret("pk") } },
];
const created = [];
for (const body of bodies) {
  const credential = ok(await vault.POST("/credentials", { body }));
  check(credential.name === body.name && credential.revision === 1, `create ${body.type}`);
  created.push(credential);
}
const listed = ok(await vault.GET("/credentials", { params: { query: { limit: 100 } } }));
check(created.every((c) => listed.items.some((l) => l.id === c.id)), "list");

const stripe = { params: { path: { id: created[0].id } } };
const read = ok(await vault.GET("/credentials/{id}", stripe));
check(read.description === "Production Stripe key", "get");
const changed = ok(await vault.PATCH("/credentials/{id}", {
  ...stripe, body: { value: secret("sk_live_new") },
}));
check(changed.revision === 2, "update");

const used = await vault.POST("/credentials/{id}/proxy", {
  ...stripe, body: { method: "GET", url: `${upstream}/v1/charges` }, parseAs: "text",
});
check(used.response.status === 200, "proxy");

const key = ok(await vault.POST("/access-keys", {
  body: { name: "ci", scopes: ["credentials:read"] },
}));
check(key.keySecret.startsWith("vlt_"), "access key");

const deleted = await vault.DELETE("/credentials/{id}", stripe);
check(deleted.response.status === 204, "delete");
try {
  ok(await vault.GET("/credentials/{id}", stripe));
  check(false, "a deleted credential is not found");
} catch (e) {
  check(e instanceof VaultProblem && e.problem.code === "not-found", `problem: ${e}`);
}
console.log("ok");
