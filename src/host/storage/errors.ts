/**
 * Errors raised by the storage backends. Each names what the caller must do next:
 * a corrupt store is moved aside (`quarantine`) and the replica starts empty and
 * catches up from its peers; a tampered value or a failed write stops the replica.
 */

/** The on-disk store cannot be read as a Bulwark store (garbage, truncated, foreign file). */
export class StorageCorruptError extends Error {
  override readonly name = 'StorageCorruptError';
  /** @param path the damaged file; `reason` says what was wrong with it. */
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`storage at ${path} is corrupt: ${reason}`, options);
  }
}

/** A stored value failed authentication: it was modified, truncated or moved from another key. */
export class StorageTamperedError extends Error {
  override readonly name = 'StorageTamperedError';
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`stored value for key ${JSON.stringify(key)} failed authentication: ${reason}`);
  }
}

/** The backend is misconfigured for the durability it promises (e.g. Redis without appendfsync always). */
export class StorageConfigError extends Error {
  override readonly name = 'StorageConfigError';
}

/** A key, range bound or value the contract does not allow; nothing of the batch was applied. */
export class StorageInputError extends Error {
  override readonly name = 'StorageInputError';
}

/** Any operation after `close()` (or after a simulated crash). */
export class StorageClosedError extends Error {
  override readonly name = 'StorageClosedError';
  constructor(what: string) {
    super(`${what}: the store is closed`);
  }
}
