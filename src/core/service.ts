/**
 * The application contract: what a replicated service gives the library.
 *
 * Follows BFT-SMaRt's `DefaultSingleRecoverable` (executeOrdered, executeUnordered,
 * getSnapshot, installSnapshot): the library owns ordering, the log, checkpoints and
 * state transfer; the service only executes deterministically.
 *
 * Every method must be deterministic: the same sequence of calls with the same bytes
 * gives the same results and the same snapshot bytes on every replica. A service
 * never throws for bad client input; it encodes the error in its result bytes.
 * It may throw only for a programmer error (a bug), which stops the replica.
 */
export interface ReplicatedService {
  /**
   * Executes one ordered request.
   * @param request the client's operation bytes, exactly as the client sent them.
   * @param context where in the total order this request stands.
   * @returns the reply bytes sent to the client (and voted on by it).
   */
  executeOrdered(request: Uint8Array, context: ExecutionContext): Uint8Array;

  /**
   * Answers a read-only request without ordering it (BFT-SMaRt's invokeUnordered).
   * Must not change the state.
   */
  executeUnordered(request: Uint8Array, context: UnorderedContext): Uint8Array;

  /** Canonical bytes of the whole state: equal states give equal bytes. */
  snapshot(): Uint8Array;

  /** Replaces the whole state with a snapshot taken by `snapshot()`. Throws on malformed bytes. */
  restore(snapshot: Uint8Array): void;
}

/** Position of an ordered request in the total order. */
export interface ExecutionContext {
  /** Consensus instance id that decided the batch holding this request. */
  readonly cid: number;
  /** Index of the request inside its batch (0-based). */
  readonly indexInBatch: number;
  /** The requesting client's id (from its certificate). */
  readonly clientId: number;
  /** The client's request sequence number. */
  readonly seq: number;
  /**
   * Leader-proposed timestamp of the batch (ms since the Unix epoch); the same on
   * every replica, so a service may use it deterministically.
   */
  readonly timestampMs: number;
}

export interface UnorderedContext {
  readonly clientId: number;
  readonly seq: number;
}
