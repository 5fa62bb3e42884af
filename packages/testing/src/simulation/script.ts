/**
 * Flow scripts: the simulated flows' code as data. A script is the input of
 * the one flow type the simulation runs (`sim-flow`); the engine adapter
 * interprets it through the flow context, and the checker knows from it what
 * history and what result a correct run must leave.
 *
 * @module
 */

/** The one flow type of the simulation (children included). */
export const SIM_FLOW_TYPE = 'sim-flow';

/**
 * A step: attempt `n` fails while `n <= fails`, so it succeeds iff
 * `fails < attempts`. Backoffs at or above the worker's durable threshold
 * become durable timers; `slowMs` of simulated time passes inside each attempt.
 */
export interface StepOp {
  /** Discriminant. */
  readonly op: 'step';
  /** The step name (its history key is `name#n`). */
  readonly name: string;
  /** How many attempts fail before one succeeds. */
  readonly fails: number;
  /** The step's `maxAttempts`. */
  readonly attempts: number;
  /** The retry backoff between attempts, in ms. */
  readonly backoffMs: number;
  /** Simulated time each attempt takes, in ms. */
  readonly slowMs: number;
}

/** A durable timer of `ms`. */
export interface SleepOp {
  /** Discriminant. */
  readonly op: 'sleep';
  /** How long the timer sleeps, in ms. */
  readonly ms: number;
}

/** A signal wait, with an optional timeout. */
export interface SignalOp {
  /** Discriminant. */
  readonly op: 'signal';
  /** The signal name waited for. */
  readonly name: string;
  /** The wait's timeout in ms; none when omitted. */
  readonly timeoutMs?: number | undefined;
}

/** A child flow running `script`; its id is `<parent id>/<position>`. */
export interface ChildOp {
  /** Discriminant. */
  readonly op: 'child';
  /** The script the child flow runs. */
  readonly script: FlowScript;
}

/** A DAG node: a durable step with the same failure rule as {@link StepOp}. */
export interface DagNodeScript {
  /** The node name. */
  readonly name: string;
  /** The nodes it depends on. */
  readonly deps: readonly string[];
  /** How many attempts fail before one succeeds. */
  readonly fails: number;
  /** The node's `maxAttempts`. */
  readonly attempts: number;
  /** Simulated time each attempt takes, in ms. */
  readonly slowMs: number;
}

/** A DAG of nodes (fail-fast). */
export interface DagOp {
  /** Discriminant. */
  readonly op: 'dag';
  /** The graph name. */
  readonly name: string;
  /** Its nodes. */
  readonly nodes: readonly DagNodeScript[];
}

/** Operations started together and awaited with `Promise.all`. */
export interface AllOp {
  /** Discriminant. */
  readonly op: 'all';
  /** The operations started together. */
  readonly ops: readonly ScriptOp[];
}

/** One operation of a script. */
export type ScriptOp = StepOp | SleepOp | SignalOp | ChildOp | DagOp | AllOp;

/** A flow's code as data: its operations in order, then a deliberate failure when `fail`. */
export interface FlowScript {
  /** The operations, in call order. */
  readonly ops: readonly ScriptOp[];
  /** Throw an error (`'scripted flow failure'`) after the operations. */
  readonly fail?: boolean | undefined;
}

/** What a step or node body throws on a scripted failure (and what replay rethrows). */
export const SCRIPTED_FAILURE = 'scripted failure';

/** What a script's flow throws at its end when `fail` is set. */
export const SCRIPTED_FLOW_FAILURE = 'scripted flow failure';

/** One history position a script's run must fill: the operation's kind and key. */
export interface ExpectedPosition {
  /** The history position. */
  readonly position: number;
  /** The operation kind recorded there. */
  readonly kind: 'run' | 'sleep' | 'signal' | 'child' | 'dag' | 'step';
  /** The key recorded there. */
  readonly key: string;
  /** The script operation behind it (for a DAG node, its DAG). */
  readonly source: ScriptOp;
  /** For a DAG node: its node. */
  readonly node?: DagNodeScript | undefined;
}

/**
 * The positions a run of `script` takes, in call order: the same order the
 * interpreter calls the flow context in (an `all` group calls its members in
 * order before awaiting any; a DAG reserves its nodes after its own position,
 * in the graph's topological order).
 */
export function expectedPositions(script: FlowScript): ExpectedPosition[] {
  const out: ExpectedPosition[] = [];
  const counts = new Map<string, number>();
  const key = (name: string) => {
    const n = counts.get(name) ?? 0;
    counts.set(name, n + 1);
    return `${name}#${n}`;
  };
  const visit = (op: ScriptOp): void => {
    const position = out.length;
    switch (op.op) {
      case 'step':
        out.push({ position, kind: 'run', key: key(op.name), source: op });
        return;
      case 'sleep':
        out.push({ position, kind: 'sleep', key: key('sleep'), source: op });
        return;
      case 'signal':
        out.push({ position, kind: 'signal', key: key(op.name), source: op });
        return;
      case 'child':
        out.push({ position, kind: 'child', key: key(SIM_FLOW_TYPE), source: op });
        return;
      case 'dag':
        out.push({ position, kind: 'dag', key: key(`dag:${op.name}`), source: op });
        for (const node of topologicalOrder(op.nodes)) {
          out.push({
            position: out.length,
            kind: 'step',
            key: key(`${op.name}.${node.name}`),
            source: op,
            node,
          });
        }
        return;
      case 'all':
        for (const member of op.ops) visit(member);
        return;
    }
  };
  for (const op of script.ops) visit(op);
  return out;
}

/** Kahn's algorithm with ties broken by declaration order (the order `@ergon/graph` uses). */
export function topologicalOrder(nodes: readonly DagNodeScript[]): DagNodeScript[] {
  const done = new Set<string>();
  const order: DagNodeScript[] = [];
  while (order.length < nodes.length) {
    const next = nodes.find((n) => !done.has(n.name) && n.deps.every((d) => done.has(d)));
    if (!next) throw new Error('a DAG script has a cycle');
    done.add(next.name);
    order.push(next);
  }
  return order;
}

/** Whether a step or node with this rule fails for good. */
export function doomed(rule: { readonly fails: number; readonly attempts: number }): boolean {
  return rule.fails >= rule.attempts;
}
