/**
 * The simulator's agenda: events ordered by simulated time, ties broken by insertion
 * order, so two runs of one seed process the same events in the same order.
 * A binary heap: O(log n) to schedule and to take the next event.
 */

export interface SimEvent {
  /** Simulated time (ms since the start of the run). */
  readonly atMs: number;
  /** Insertion counter: the tie-breaker that keeps equal-time events in FIFO order. */
  readonly order: number;
  /** What to do; runs at `atMs`. */
  readonly run: () => void;
  /** True if running it may resolve a client's promise (the loop then drains microtasks). */
  readonly touchesClient: boolean;
  /** Set to skip the event (a cleared timer). */
  cancelled: boolean;
}

export class EventQueue {
  private readonly heap: SimEvent[] = [];
  private counter = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Adds an event. @returns it, so a timer can be cancelled. @throws RangeError for a time that is not finite. */
  schedule(atMs: number, run: () => void, touchesClient = false): SimEvent {
    if (!Number.isFinite(atMs)) throw new RangeError(`event time ${atMs} is not finite`);
    const event: SimEvent = { atMs, order: this.counter++, run, touchesClient, cancelled: false };
    this.heap.push(event);
    this.siftUp(this.heap.length - 1);
    return event;
  }

  /** Removes and returns the earliest event, or undefined when the agenda is empty. */
  pop(): SimEvent | undefined {
    const top = this.heap[0];
    const last = this.heap.pop();
    if (top === undefined || last === undefined) return undefined;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  /** Time of the earliest event, or Infinity. */
  peekMs(): number {
    return this.heap[0]?.atMs ?? Infinity;
  }

  private before(a: SimEvent, b: SimEvent): boolean {
    return a.atMs < b.atMs || (a.atMs === b.atMs && a.order < b.order);
  }

  private siftUp(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(h[i]!, h[parent]!)) return;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.before(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}
