/** Errors a client invocation can end with; `code` is stable (the gateway maps it to HTTP 503). */
export type BftErrorCode = 'BFT_TIMEOUT' | 'BFT_UNAVAILABLE' | 'BFT_CLOSED';

export class BftError extends Error {
  constructor(
    readonly code: BftErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BftError';
  }
}
