// The vault's API, typed from its OpenAPI document: `schema.d.ts` is generated (`make
// clients`); this file is the small hand-written part.
import createClient, { type Client } from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type { components, paths };
/** A credential as every endpoint shows it: public fields only, never a secret. */
export type Credential = components["schemas"]["Credential"];
/** The body of `POST /credentials`: one of the types' create bodies, chosen by `type`. */
export type CredentialCreate = components["schemas"]["CredentialCreate"];
/** Every error the API returns (RFC 9457 problem+json). */
export type Problem = components["schemas"]["Problem"];

/** An error answer of the API, with its problem (`code` is stable). */
export class VaultProblem extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.code}: ${problem.detail}`);
    this.name = "VaultProblem";
  }
}

/** A client of the vault at `baseUrl` (no trailing slash), authenticated with an access key. */
export function vaultClient(baseUrl: string, accessKey: string): Client<paths> {
  return createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${accessKey}` } });
}

/** The data of an openapi-fetch answer, or its problem thrown as a `VaultProblem`. */
export function ok<T>(answer: { data?: T; error?: unknown }): T {
  if (answer.error !== undefined) {
    throw new VaultProblem(answer.error as Problem);
  }
  return answer.data as T;
}
