/** What a correct simulated client asks the service to do, one operation at a time. */

export interface PlannedOperation {
  /** Request payload (the service's operation bytes). */
  readonly payload: Uint8Array;
  /** False for a read the client tries unordered first. */
  readonly ordered: boolean;
  /** Short description for traces, e.g. "transfer acct-1->acct-2 5". */
  readonly label: string;
}

export interface Workload {
  /** The next operation to issue. */
  next(): PlannedOperation;
  /**
   * The result the client accepted for `op` (`ordered`: whether it was finally ordered),
   * at simulated time `atMs`; `issuedMs` is when the client issued it.
   */
  onAccepted(op: PlannedOperation, result: Uint8Array, ordered: boolean, atMs: number, issuedMs: number): void;
}
