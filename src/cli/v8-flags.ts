/**
 * V8 settings for every Bulwark process (replicas, gateways, benchmark clients), applied
 * when the CLI starts, before any hot code has run. Imported first by `main.ts`.
 *
 * `--no-allocation-site-pretenuring`: V8 watches how many objects from each allocation
 * site survive young-generation collections and, past a threshold, allocates that site's
 * objects directly in the old generation. A request in flight (its promise, its pending
 * record, its reply voter) lives 5–60 ms: long enough to survive a scavenge at peak load,
 * far too short for the old generation. When V8 made that call, which it did in some runs
 * and not others, the old generation filled with dead requests, mark-compacts ran three to
 * four times as often and the benchmark client spent twice its CPU per operation (≈ 28
 * instead of ≈ 15 µs at 20 clients × window 50). Measured on this machine with
 * `bench micro --clients 20 --window 50`: with the flag, 8 of 8 runs fast (client 40–44 % of
 * a core, 23.8–29.3 k ops/s); without it, in 4 runs interleaved with the last 4 of those,
 * 4 of 4 slow (59–64 %, 18.8–23.6 k). See docs/performance.md, lever 23.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-allocation-site-pretenuring');
