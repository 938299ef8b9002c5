/**
 * Hand-written configurations for tests and regression seeds: a calm cluster (no
 * faults, a fast reliable network, one client) that a test then makes hostile one
 * field at a time, so each scenario states exactly the conditions it needs.
 */
import { maxFaults } from '../core/view.ts';
import type { NetworkProfile, SimConfig } from './config.ts';
import { livenessBound } from './generate.ts';

export const CALM_NETWORK: NetworkProfile = { delayMsMin: 1, delayMsMean: 2, spikeP: 0, spikeMsMax: 0, lossP: 0, clientLossP: 0, duplicateP: 0, targetedLoss: null };

type Overrides = Partial<Omit<SimConfig, 'replica' | 'clients' | 'network'>> & {
  readonly replica?: Partial<SimConfig['replica']>;
  readonly clients?: Partial<SimConfig['clients']>;
  readonly network?: Partial<NetworkProfile>;
};

/** A configuration with every fault off; `overrides` switch on what a scenario needs. */
export function calmConfig(overrides: Overrides = {}): SimConfig {
  const n = overrides.n ?? 4;
  const f = overrides.f ?? maxFaults(n);
  const replica = { requestTimeoutMs: 500, batchRequestsMax: 16, catchUpIntervalMs: 200, checkpointPeriod: 1024, ...overrides.replica };
  const clients = { correct: 1, safetyOps: 3, livenessOps: 2, thinkMsMax: 50, retransmitMs: 300, readP: 0, byzantine: [], ...overrides.clients };
  const network = { ...CALM_NETWORK, ...overrides.network };
  return {
    seed: 1,
    mode: 'safe',
    service: 'wallet',
    keySeed: 0,
    tickMs: 20,
    tickJitter: 0.2,
    driftPpmMax: 0,
    clockOffsetMsMax: 0,
    diskLatencyMs: [0, 1],
    healedNetwork: CALM_NETWORK,
    partitions: [],
    partitionMode: 'drop',
    faulty: [],
    crashRecoveries: [],
    safetyPhaseMs: 3000,
    livenessBoundMs: livenessBound(f, replica.requestTimeoutMs, clients.retransmitMs),
    settleMs: 1000,
    stateCheckPeriod: 1,
    ...overrides,
    n,
    f,
    replica,
    clients,
    network,
  };
}
