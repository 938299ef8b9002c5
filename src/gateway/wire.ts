/**
 * The wire format a client may rely on to check an answer without re-serializing it (the
 * README, "Every success is { data, evidence }"; backend.ts ResponseEvidence):
 *
 *   the wallet's signed success bytes:  {"ok":true,"value":D}
 *   a success body from this gateway:   {"data":D,"evidence":E}
 *
 * with D the same bytes in both when the gateway passes the replicas' value through
 * (wallet-result.ts valueText), and the two headers beyond HTTP's own. Shared by the
 * gateway, which writes them, and the CLI client, which reads them (src/cli/wallet-http.ts).
 */

/** How a correct wallet's success bytes begin (`encodeOutcome`: JSON.stringify of `{ ok: true, value }`). */
export const WALLET_SUCCESS_PREFIX = '{"ok":true,"value":';
/** How a success body begins; the data's text follows. */
export const BODY_DATA_PREFIX = '{"data":';
/** What separates the data's text from the evidence in a success body. */
export const BODY_EVIDENCE_KEY = ',"evidence":';

/** The RFC 7240 preference a client sends (`Prefer`) to get compact evidence, and the gateway echoes (`Preference-Applied`) once applied. */
export const COMPACT_EVIDENCE_PREFERENCE = 'evidence=compact';
/** The Server-Timing metric (W3C Server Timing, duration in ms) for the time the BFT invocation took. */
export const SERVER_TIMING_BFT = 'bft';
