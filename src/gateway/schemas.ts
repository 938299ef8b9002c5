/**
 * TypeBox declarations of every request and response shape: one declaration gives the
 * validator, the handler's static types and the OpenAPI document.
 *
 * Objects are closed (additionalProperties: false): an unexpected field is a client bug
 * we report, not something we silently drop.
 */
import { Type, type Static } from 'typebox';

/**
 * Schema extension naming the error code a bad value of this property gets (instead of
 * VALIDATION_FAILED), so the gateway answers with the same code the wallet would; it also
 * shows in the OpenAPI document.
 */
export const ERROR_CODE = 'x-error-code';

/** Most ledger entries one page may carry, and the default page size. */
export const LIMIT_MAX = 1000;
export const LIMIT_DEFAULT = 100;
/** Largest amount in minor units (10^15), as the wallet defines it. */
export const AMOUNT_MAX = 1_000_000_000_000_000n;

export const AccountId = Type.String({
  pattern: '^[A-Za-z0-9_-]{1,64}$',
  description: 'Account id: 1 to 64 characters of A-Z a-z 0-9 _ -',
  [ERROR_CODE]: 'INVALID_ACCOUNT_ID',
  examples: ['alice'],
});

// Canonical base64url without padding: the last character may only carry the bits that
// exist (4 of 6 for 32 bytes, 2 of 6 for 64 bytes), so every key has ONE spelling.
export const PublicKey = Type.String({
  pattern: '^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$',
  description: 'Raw 32-byte Ed25519 public key, base64url without padding (43 characters)',
  [ERROR_CODE]: 'INVALID_PUBLIC_KEY',
});

export const Signature = Type.String({
  pattern: '^[A-Za-z0-9_-]{85}[AQgw]$',
  description: "64-byte Ed25519 signature by the account owner, base64url without padding (86 characters)",
});

export const Amount = Type.String({
  // Exactly 1..10^15: up to 15 digits without a leading zero, or 10^15 itself.
  pattern: '^(?:[1-9][0-9]{0,14}|1000000000000000)$',
  description: 'Positive integer amount in minor units, as a decimal string, at most 10^15',
  [ERROR_CODE]: 'INVALID_AMOUNT',
  examples: ['2500'],
});

export const Nonce = Type.Integer({
  minimum: 1,
  maximum: Number.MAX_SAFE_INTEGER,
  description: "The account's next operation number (positive safe integer); replicas reject replays",
  [ERROR_CODE]: 'INVALID_NONCE',
});

export const Cursor = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'Opaque position returned by the previous page',
  [ERROR_CODE]: 'INVALID_CURSOR',
});

export const Limit = Type.Integer({
  minimum: 1,
  maximum: LIMIT_MAX,
  default: LIMIT_DEFAULT,
  description: `Entries per page, 1..${LIMIT_MAX}`,
  [ERROR_CODE]: 'INVALID_LIMIT',
});

// ---- requests ----

export const RegisterBody = Type.Object(
  { accountId: AccountId, publicKey: PublicKey, signature: Signature },
  { additionalProperties: false },
);
export const DepositBody = Type.Object(
  { amount: Amount, nonce: Nonce, signature: Signature },
  { additionalProperties: false },
);
export const TransferBody = Type.Object(
  { from: AccountId, to: AccountId, amount: Amount, nonce: Nonce, signature: Signature },
  { additionalProperties: false },
);
export const AccountParams = Type.Object({ id: AccountId }, { additionalProperties: false });
export const PageQuery = Type.Object(
  { cursor: Type.Optional(Cursor), limit: Type.Optional(Limit) },
  { additionalProperties: false },
);

export type RegisterBody = Static<typeof RegisterBody>;
export type DepositBody = Static<typeof DepositBody>;
export type TransferBody = Static<typeof TransferBody>;
export type PageQuery = Static<typeof PageQuery>;

// ---- responses ----

export const Evidence = Type.Object(
  {
    clientId: Type.Integer(),
    session: Type.Optional(Type.Integer()),
    seq: Type.Integer(),
    ordered: Type.Optional(Type.Boolean({ description: 'Whether the request went through consensus (else an unordered read)' })),
    result: Type.Optional(
      Type.String({
        description:
          'The exact result bytes the replicas signed, base64url; `data` is their `value`. Left out when the request said ' +
          '`Prefer: evidence=compact` and the signed bytes are `{"ok":true,"value":` + the body\'s `data` text + `}` ' +
          '(the answer then carries `Preference-Applied: evidence=compact`)',
      }),
    ),
    resultDigest: Type.String({ description: 'base64url SHA-256 of the result bytes' }),
    replicas: Type.Array(
      Type.Object({
        replicaId: Type.Integer(),
        signature: Type.String({ description: "base64url Ed25519 signature of the replica over the root of its batch's reply tree" }),
        proof: Type.Object(
          {
            index: Type.Integer({ description: "this reply's leaf position" }),
            leafCount: Type.Integer({ description: 'leaves in the reply tree' }),
            siblings: Type.Array(Type.String(), { description: 'base64url sibling hashes, leaf level first' }),
          },
          { description: "Path from this reply's leaf (H(0x00 || reply signing message)) to the signed root" },
        ),
      }),
    ),
  },
  {
    description: 'The f+1 (or more) replicas that vouched for this result; check their signatures to trust no single replica',
    // Never strip a field the backend adds: a verifier may need it for the signing message.
    additionalProperties: true,
  },
);

/** `{ data, evidence }`; `data` is the wallet's value, whose shape the wallet service defines. */
export const Success = Type.Object(
  {
    data: Type.Unknown({ description: "The wallet's result value" }),
    evidence: Evidence,
  },
  { description: 'The wallet result and the replicas that vouched for it' },
);

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    code: Type.String({ description: 'Stable error code (see the catalogue)' }),
    detail: Type.String(),
    field: Type.Optional(Type.String({ description: 'The offending property' })),
    evidence: Type.Optional(Evidence),
  },
  { description: 'RFC 9457 problem details (application/problem+json)' },
);

export const Health = Type.Object({
  status: Type.Literal('ok'),
  replicaId: Type.Optional(Type.Integer()),
  uptimeMs: Type.Integer(),
  requestsInFlight: Type.Integer(),
  requestsInFlightMax: Type.Integer(),
  /** This replica's own view of the protocol (local, not voted): for operators and tests. */
  replica: Type.Optional(
    Type.Object({
      regency: Type.Integer(),
      leader: Type.Integer(),
      lastDecidedCid: Type.Integer(),
      /** Latest stable checkpoint (-1 if none): the log before it is truncated. */
      stableCheckpointCid: Type.Optional(Type.Integer()),
      /** base64url SHA-256 of the service snapshot; only with ?digest=true (costs O(state)). */
      stateDigest: Type.Optional(Type.String()),
    }),
  ),
});
export type Health = Static<typeof Health>;

export const HealthQuery = Type.Object({ digest: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false')])) }, { additionalProperties: false });
