/**
 * Resource data for the notifications of a subscription that asked for it
 * (`includeResourceData`): what delivery adds to a notification, and the
 * validation tokens of a payload. The resource is the operation exactly as a
 * GET returns it at the origin the subscription was created at, with the
 * evolvable-enum choice of its create (`Prefer: include-unknown-enum-members`),
 * encrypted for the subscription's certificate (encryption.ts). `resourceData`
 * stays what Graph keeps beside encrypted content: the type, `@odata.id` and
 * id. A `deleted` notification has no resource to carry, only its tokens.
 */
import type { AppConfig } from "../config.js";
import { operationEntity } from "../http/operationEntity.js";
import type { OperationDocument } from "../operations/model.js";
import { certificateOf, encryptContent, type EncryptedContent } from "./encryption.js";
import { hasResourceData, type SubscriptionDocument } from "./model.js";
import { notificationSigner } from "./signingKeys.js";
import { publisherIdOf, ValidationTokenIssuer, type TokenAudience } from "./validationTokens.js";

/** What a rich notification adds: its encrypted resource (not for a deletion) and whom its token is for. */
export interface ResourceData {
  readonly encryptedContent?: EncryptedContent;
  readonly audience: TokenAudience;
}

/** The resource data of one change for one subscription; undefined when the subscription did not ask for any. */
export function resourceDataFor(
  subscription: SubscriptionDocument,
  document: OperationDocument & { readonly _etag?: string },
  deleted: boolean,
): ResourceData | undefined {
  if (!hasResourceData(subscription) || !subscription.applicationId || !subscription.serviceOrigin) return undefined;
  const audience = {
    applicationId: subscription.applicationId,
    tenantId: subscription.tenantId,
    issuer: `${subscription.serviceOrigin}/v1.0`,
  };
  if (deleted) return { audience };
  const entity = operationEntity(
    { document, etag: document._etag ?? "" },
    {
      baseUrl: subscription.serviceOrigin,
      includeUnknownEnumMembers: subscription.includeUnknownEnumMembers ?? false,
    },
    document.teamId,
  );
  const encryptedContent = encryptContent(
    JSON.stringify(entity),
    certificateOf(subscription.encryptionCertificate),
    subscription.encryptionCertificateId ?? "",
  );
  return { encryptedContent, audience };
}

let shared: { readonly signing: unknown; readonly issuer: ValidationTokenIssuer | undefined } | undefined;

/** The process's token issuer for this configuration; undefined when it has no signing key. */
export function validationTokenIssuer(
  cfg: Pick<AppConfig, "notificationSigning" | "auth">,
): ValidationTokenIssuer | undefined {
  if (shared && shared.signing === cfg.notificationSigning) return shared.issuer;
  const signer = notificationSigner(cfg.notificationSigning);
  const issuer = signer && new ValidationTokenIssuer(signer, publisherIdOf(cfg.auth.audiences));
  shared = { signing: cfg.notificationSigning, issuer };
  return issuer;
}

/**
 * The validation tokens of a payload: one per distinct audience of its notifications that carry resource data;
 * undefined when none does (a basic payload has none). Throws when they cannot be signed.
 */
export async function validationTokensOf(
  notifications: readonly { readonly subscriptionId: string }[],
  audiences: Readonly<Record<string, TokenAudience>> | undefined,
  issuer: ValidationTokenIssuer | undefined,
): Promise<string[] | undefined> {
  const named = notifications.flatMap((n) => audiences?.[n.subscriptionId] ?? []);
  if (named.length === 0) return undefined;
  if (!issuer) throw new Error("no key to sign validation tokens with is configured (NOTIFICATION_SIGNING_KEY_ID)");
  return issuer.tokensFor(named);
}
