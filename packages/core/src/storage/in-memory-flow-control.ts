/**
 * Flow control of the in-memory store (`queues.ts`): queue limits, start logs,
 * fair-queueing tags, de-duplication and debounce keys. The store calls it from
 * `createFlow` and `claim`; everything here is synchronous, so it is atomic with
 * the store's own changes.
 *
 * @module
 */
import type { ClaimRequest, NewFlow } from './execution-log.js';
import {
  FAIR_SCAN,
  fairStep,
  hasLimits,
  type QueueLimits,
  type QueueState,
  type QueueStateRequest,
  takeKeySlot,
} from './queues.js';
import { type FlowRecord, isTerminalStatus } from './records.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Flow = Mutable<FlowRecord>;

/** Per-queue fair-queueing state: virtual time and each key's last tag. */
interface FairState {
  virtual: number;
  readonly lastTag: Map<string, number>;
}

/** Claim order of flows without limits: priority, then runAt, then id. */
export function defaultOrder(a: FlowRecord, b: FlowRecord): number {
  return b.priority - a.priority || (a.runAt ?? 0) - (b.runAt ?? 0) || (a.id < b.id ? -1 : 1);
}

/** Claim order of a queue with limits or keys: priority, then fair tag, then runAt, then id. */
function fairOrder(a: FlowRecord, b: FlowRecord): number {
  return b.priority - a.priority || (a.fairTag ?? 0) - (b.fairTag ?? 0) || defaultOrder(a, b);
}

function isRunning(flow: FlowRecord, now: number): boolean {
  return flow.status === 'running' && (flow.leaseExpiresAt ?? 0) > now;
}

/** The flow-control state of one in-memory store. */
export class MemoryFlowControl {
  readonly #limits = new Map<string, QueueLimits>();
  /** Queues with limits or with flows created with a key: claimed by the rules. */
  readonly #controlled = new Set<string>();
  readonly #fair = new Map<string, FairState>();
  /** Start times per queue within the longest rate window, oldest first. */
  readonly #starts = new Map<string, number[]>();
  readonly #dedup = new Map<string, { flowId: string; until: number | undefined }>();
  readonly #debounce = new Map<string, string>();

  /** Implements `configureQueue`. */
  configure(queue: string, limits: QueueLimits | undefined): void {
    if (hasLimits(limits)) {
      this.#limits.set(queue, limits);
      this.#controlled.add(queue);
    } else {
      this.#limits.delete(queue);
    }
  }

  /** True when claims of the queue keep the rules. */
  controls(queue: string): boolean {
    return this.#controlled.has(queue);
  }

  /**
   * The existing flow a create folds into (de-duplication, debounce), updated for a debounce;
   * undefined when a new flow is to be created.
   */
  fold(input: NewFlow, flows: ReadonlyMap<string, Flow>): Flow | undefined {
    if (input.dedup) {
      const entry = this.#dedup.get(input.dedup.key);
      const existing = entry && flows.get(entry.flowId);
      if (existing && entry) {
        const live = entry.until === undefined ? !isTerminalStatus(existing.status) : input.now < entry.until;
        if (live) return existing;
      }
    }
    if (input.debounce) {
      const existing = flows.get(this.#debounce.get(input.debounce.key) ?? '');
      if (existing && existing.status === 'pending' && existing.runCount === 0) {
        const { delayMs, maxWaitMs } = input.debounce;
        const cap = maxWaitMs === undefined ? Number.POSITIVE_INFINITY : existing.createdAt + maxWaitMs;
        existing.input = input.input;
        existing.runAt = Math.min(Math.max(input.runAt, input.now + delayMs), cap);
        existing.updatedAt = input.now;
        return existing;
      }
    }
    return undefined;
  }

  /** Sets a new flow's flow-control fields and files its keys. */
  created(flow: Flow, input: NewFlow): void {
    flow.concurrencyKey = input.concurrencyKey;
    flow.concurrencyLimit = input.concurrencyLimit;
    if (input.dedup) {
      const until = input.dedup.forMs === undefined ? undefined : input.now + input.dedup.forMs;
      this.#dedup.set(input.dedup.key, { flowId: flow.id, until });
    }
    if (input.debounce) {
      flow.debounceKey = input.debounce.key;
      const { delayMs, maxWaitMs } = input.debounce;
      flow.runAt = Math.max(input.runAt, input.now + Math.min(delayMs, maxWaitMs ?? delayMs));
      this.#debounce.set(input.debounce.key, flow.id);
    }
    const key = input.concurrencyKey;
    if (key === undefined) return;
    this.#controlled.add(flow.queue);
    const fair = this.#fairState(flow.queue);
    const weight = this.#limits.get(flow.queue)?.keyWeights?.[key];
    const tag = Math.max(fair.virtual, fair.lastTag.get(key) ?? 0) + fairStep(weight);
    fair.lastTag.set(key, tag);
    flow.fairTag = tag;
  }

  /** The ready flows a claim takes: in claim order, within the limits of controlled queues. */
  choose(ready: Flow[], request: ClaimRequest, all: Iterable<Flow>): Flow[] {
    const controlled = request.queues.filter((queue) => this.#controlled.has(queue));
    if (controlled.length === 0) return ready.sort(defaultOrder).slice(0, request.limit);
    const flows = [...all];
    let chosen = ready.filter((f) => !this.#controlled.has(f.queue)).sort(defaultOrder);
    for (const queue of controlled) {
      const own = ready.filter((f) => f.queue === queue);
      chosen = chosen.concat(this.select(queue, own, flows, request));
    }
    // Stable: each queue keeps its own order (fair order in a controlled one).
    return chosen.sort((a, b) => b.priority - a.priority).slice(0, request.limit);
  }

  /**
   * Of the ready flows of a controlled queue, those a claim may take now, in fair order, at
   * most `limit`. Nothing changes until {@link started} is called for those taken.
   */
  select(queue: string, ready: Flow[], all: Iterable<Flow>, request: ClaimRequest): Flow[] {
    const { now } = request;
    const limits = this.#limits.get(queue);
    let slots = request.limit;
    let running = 0;
    const keyRunning = new Map<string, number>();
    for (const f of all) {
      if (f.queue !== queue || !isRunning(f, now)) continue;
      running++;
      if (f.concurrencyKey !== undefined)
        keyRunning.set(f.concurrencyKey, (keyRunning.get(f.concurrencyKey) ?? 0) + 1);
    }
    if (limits?.concurrency !== undefined) slots = Math.min(slots, limits.concurrency - running);
    if (limits?.rate !== undefined)
      slots = Math.min(slots, limits.rate.limit - this.#recent(queue, now, limits));
    const picked: Flow[] = [];
    if (slots <= 0) return picked;
    ready.sort(fairOrder);
    const scan = Math.min(ready.length, request.limit + FAIR_SCAN);
    for (let i = 0; i < scan && picked.length < slots; i++) {
      const flow = ready[i] as Flow;
      if (!takeKeySlot(keyRunning, flow.concurrencyKey, flow.concurrencyLimit, limits?.keyConcurrency))
        continue;
      picked.push(flow);
    }
    return picked;
  }

  /** Records the start of a claimed flow of a controlled queue: its rate log and the virtual time. */
  started(flow: Flow, now: number): void {
    const rate = this.#limits.get(flow.queue)?.rate;
    if (rate) {
      const log = this.#starts.get(flow.queue) ?? [];
      log.push(Math.max(now, log.at(-1) ?? now));
      this.#starts.set(flow.queue, log);
    }
    const fair = this.#fairState(flow.queue);
    if ((flow.fairTag ?? 0) > fair.virtual) fair.virtual = flow.fairTag ?? 0;
  }

  /** Implements `getQueueState`. */
  state(request: QueueStateRequest, all: Iterable<Flow>): QueueState {
    const limits = this.#limits.get(request.queue);
    let running = 0;
    let keyRunning = 0;
    for (const f of all) {
      if (f.queue !== request.queue || !isRunning(f, request.now)) continue;
      running++;
      if (request.key !== undefined && f.concurrencyKey === request.key) keyRunning++;
    }
    const recentStarts = limits?.rate ? this.#recent(request.queue, request.now, limits) : 0;
    return { limits, running, keyRunning, recentStarts };
  }

  /** Forgets the keys of a purged flow. */
  purged(flow: FlowRecord): void {
    if (flow.debounceKey !== undefined && this.#debounce.get(flow.debounceKey) === flow.id) {
      this.#debounce.delete(flow.debounceKey);
    }
  }

  /**
   * Starts in the window ending at the effective time (`now`, or the newest start if a claim with
   * a later clock came first), dropping older ones from the log (see `queues.ts`).
   */
  #recent(queue: string, now: number, limits: QueueLimits): number {
    const log = this.#starts.get(queue);
    if (!log || !limits.rate) return 0;
    const from = Math.max(now, log.at(-1) ?? now) - limits.rate.periodMs;
    while (log.length > 0 && (log[0] as number) <= from) log.shift();
    return log.length;
  }

  #fairState(queue: string): FairState {
    let fair = this.#fair.get(queue);
    if (!fair) {
      fair = { virtual: 0, lastTag: new Map() };
      this.#fair.set(queue, fair);
    }
    return fair;
  }
}
