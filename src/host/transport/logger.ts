/**
 * The logging the transport needs; a pino Logger satisfies it. Injected so tests can capture
 * reasons and a replica can route them to its own logger.
 */
import { pino } from 'pino';

export interface TransportLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

/** pino at level `BULWARK_LOG_LEVEL` (default `info`); connection churn is logged at debug. */
export function defaultTransportLogger(): TransportLogger {
  return pino({ name: 'bulwark-transport', level: process.env['BULWARK_LOG_LEVEL'] ?? 'info' });
}
