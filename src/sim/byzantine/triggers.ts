/** Evaluates a behaviour's trigger (see behaviours.ts). */
import type { Prng } from '../prng.ts';
import type { Trigger } from './behaviours.ts';

/**
 * @param cid the message's instance (or the replica's current one when the message has none).
 * @param regency the message's regency (or the replica's).
 */
export function fires(trigger: Trigger, rng: Prng, cid: number, regency: number): boolean {
  switch (trigger.kind) {
    case 'always':
      return true;
    case 'probability':
      return rng.chance(trigger.p);
    case 'instance':
      return cid === trigger.cid;
    case 'regency':
      return regency === trigger.regency;
  }
}
