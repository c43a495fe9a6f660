/**
 * Graph's `validationTokens`: with notifications that carry resource data,
 * one JWT for each distinct application and tenant among the payload's
 * items, which a receiver checks before trusting what it decrypts. As Graph
 * writes them: `aud` the subscriber's application id, `tid` the tenant,
 * `appid` the publisher (here this API's own application id, where Graph
 * names its change-notification publisher), `iat`, `nbf`, `exp`. `iss` is the
 * API root the subscription was created at (`https://<host>/v1.0`), whose
 * `discovery/keys` publishes the keys (signingKeys.ts).
 */
import { GUID } from "../ids.js";
import { VALIDATION_TOKEN_LIFETIME_MS, type NotificationSigner } from "./signingKeys.js";

/** Whom one token is for. */
export interface TokenAudience {
  readonly applicationId: string;
  readonly tenantId: string;
  readonly issuer: string;
}

/** A token is used again while it has at least this long to live, so a receiver never gets one about to expire. */
const REUSE_WHILE_LEFT_MS = VALIDATION_TOKEN_LIFETIME_MS - 10 * 60_000;
const TOKENS_KEPT = 1000;

/**
 * This API's own application id, which `appid` names: the API's client id among AUTH_AUDIENCES (as given, or in an
 * App ID URI `api://{id}`), else the first audience as written (a local run's `api://team-operations-local`).
 */
export function publisherIdOf(audiences: readonly string[]): string {
  for (const audience of audiences) if (GUID.test(audience)) return audience.toLowerCase();
  for (const audience of audiences) {
    const id = /^api:\/\/([^/]+)$/.exec(audience)?.[1];
    if (id && GUID.test(id)) return id.toLowerCase();
  }
  return audiences[0]!;
}

/** Signs validation tokens, reusing one for the same audience for a few minutes (one signature per payload is a lot). */
export class ValidationTokenIssuer {
  readonly #signer: NotificationSigner;
  readonly #publisherId: string;
  readonly #issued = new Map<string, { readonly token: Promise<string>; readonly expiresAt: number }>();

  constructor(signer: NotificationSigner, publisherId: string) {
    this.#signer = signer;
    this.#publisherId = publisherId;
  }

  /** One token per distinct audience, in the order first named. */
  async tokensFor(audiences: readonly TokenAudience[], now = Date.now()): Promise<string[]> {
    const distinct = new Map(audiences.map((a) => [JSON.stringify([a.applicationId, a.tenantId, a.issuer]), a]));
    return Promise.all([...distinct].map(([key, audience]) => this.#token(key, audience, now)));
  }

  #token(key: string, audience: TokenAudience, now: number): Promise<string> {
    const cached = this.#issued.get(key);
    if (cached && cached.expiresAt - now >= REUSE_WHILE_LEFT_MS) return cached.token;
    const issuedAt = Math.floor(now / 1000);
    const expiresAt = (issuedAt + VALIDATION_TOKEN_LIFETIME_MS / 1000) * 1000;
    const token = this.#signer.signJwt({
      aud: audience.applicationId,
      iss: audience.issuer,
      iat: issuedAt,
      nbf: issuedAt,
      exp: expiresAt / 1000,
      appid: this.#publisherId,
      tid: audience.tenantId,
    });
    if (this.#issued.size >= TOKENS_KEPT) this.#issued.clear();
    const entry = { token, expiresAt };
    this.#issued.set(key, entry);
    token.catch(() => {
      if (this.#issued.get(key) === entry) this.#issued.delete(key);
    });
    return token;
  }
}
