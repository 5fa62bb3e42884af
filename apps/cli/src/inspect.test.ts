// `flows list` and `flows show` on a database written by the real demo, and
// `task process` on the demo's durable task.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ergon, json, runDemo, tempDir } from './testing/cli.js';

const ORDERS = 8;
let store = '';
let demoHome = '';
let remove = () => {};

beforeAll(async () => {
  const tmp = tempDir('ergon-cli-demo-');
  remove = tmp.remove;
  const db = await runDemo(tmp.dir, ORDERS);
  store = `sqlite:${db}`;
  demoHome = dirname(dirname(db));
});
afterAll(() => remove());

interface ListJson {
  flows: {
    id: string;
    type: string;
    status: string;
    runCount: number;
    parentId?: string;
    createdAt: string;
  }[];
  nextCursor?: string;
}

describe('flows list', () => {
  it('prints a table of flows', async () => {
    const run = await ergon(['--store', store, 'flows', 'list', '--type', 'process-order']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(
      lines.some((l) => /id\s+│\s+type\s+│\s+status\s+│\s+runs\s+│\s+created\s+│\s+finished/.test(l)),
    ).toBe(true);
    for (let i = 1; i <= ORDERS; i++) {
      expect(run.stdout).toMatch(new RegExp(`order-00${i}\\s+│\\s+process-order\\s+│\\s+completed`));
    }
    expect(run.stderr).toBe('');
  });

  it('gives parseable JSON with filters, limits and cursors', async () => {
    const all = json<ListJson>(await ergon(['--store', store, 'flows', 'list', '--json']));
    expect(all.flows).toHaveLength(ORDERS * 2); // each order and its shipping child
    expect(all.nextCursor).toBeUndefined();
    expect(
      all.flows.filter((f) => f.type === 'ship-order').every((f) => f.parentId?.startsWith('order-')),
    ).toBe(true);

    const filtered = json<ListJson>(
      await ergon([
        'flows',
        'list',
        '--store',
        store,
        '--status',
        'completed',
        '--type',
        'process-order',
        '--json',
      ]),
    );
    expect(filtered.flows.map((f) => f.id).sort()).toEqual(
      Array.from({ length: ORDERS }, (_, i) => `order-00${i + 1}`),
    );
    expect(new Date(filtered.flows[0]!.createdAt).getTime()).toBeGreaterThan(0);

    const none = json<ListJson>(
      await ergon(['--store', store, '--json', 'flows', 'list', '--status', 'failed,cancelled']),
    );
    expect(none.flows).toEqual([]);

    const first = json<ListJson>(await ergon(['--store', store, '--json', 'flows', 'list', '--limit', '5']));
    expect(first.flows).toHaveLength(5);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = json<ListJson>(
      await ergon([
        '--store',
        store,
        '--json',
        'flows',
        'list',
        '--limit',
        '50',
        '--cursor',
        first.nextCursor!,
      ]),
    );
    expect(second.flows).toHaveLength(ORDERS * 2 - 5);
    expect(second.flows.map((f) => f.id)).not.toContain(first.flows[0]!.id);
  });
});

describe('flows show', () => {
  it('prints the summary, the history table, waits, signals and the DAG', async () => {
    // order-004 is the demo's large order: it waited for a manager's approval.
    const run = await ergon(['--store', store, 'flows', 'show', 'order-004']);
    expect(run.code, run.stderr).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/^flow order-004\n/);
    expect(out).toMatch(/type\s+process-order/);
    expect(out).toMatch(/status\s+completed/);
    expect(out).toMatch(/#\s+│\s+key\s+│\s+kind\s+│\s+status\s+│\s+attempts\s+│\s+duration\s+│\s+error/);
    for (const key of [
      'charge-payment#0',
      'dag:order-checks#0',
      'order-checks.validateCustomer#0',
      'order-checks.decide#0',
      'manager-approval#0',
      'sleep#0',
      'ship-order#0',
    ]) {
      expect(out).toContain(key);
    }
    expect(out).toMatch(/pending waits\n {2}none/);
    expect(out).toMatch(/buffered signals\n {2}none/);
    expect(out).toContain('DAG order-checks (history position 1)');
    expect(out).toContain('graph order-checks (4 nodes): 4 completed');
    expect(out).toMatch(/✔ decide ◀ validateCustomer, checkInventory, scoreFraud/);
    expect(out).toMatch(
      /layer 1[\s\S]*✔ validateCustomer[\s\S]*✔ checkInventory[\s\S]*✔ scoreFraud[\s\S]*layer 2/,
    );
    expect(out).not.toContain('shown without edges');
  });

  it('draws with ASCII only on request', async () => {
    const run = await ergon(['--store', store, 'flows', 'show', 'order-001', '--ascii']);
    expect(run.code, run.stderr).toBe(0);
    const dag = run.stdout.slice(run.stdout.indexOf('DAG order-checks'));
    expect(dag).toContain('+ decide <- validateCustomer, checkInventory, scoreFraud');
    expect(dag).not.toMatch(/[^\x20-\x7e\n]/);
  });

  it('gives the same as JSON, with the DAG rebuilt from history', async () => {
    const info = json<{
      id: string;
      status: string;
      input: { id: string; amount: number };
      history: { position: number; key: string; kind: string; status: string; startedAt: string }[];
      waits: unknown[];
      signals: unknown[];
      dags: {
        name: string;
        position: number;
        shapeRecorded: boolean;
        nodes: { name: string; deps: string[]; status: string }[];
      }[];
    }>(await ergon(['--store', store, '--json', 'flows', 'show', 'order-004']));
    expect(info).toMatchObject({ id: 'order-004', status: 'completed', input: { id: 'order-004' } });
    expect(info.history.map((h) => h.key)).toContain('manager-approval#0');
    expect(info.history.every((h) => !Number.isNaN(Date.parse(h.startedAt)))).toBe(true);
    expect(info.dags).toEqual([
      {
        name: 'order-checks',
        position: 1,
        key: 'dag:order-checks#0',
        finished: true,
        shapeRecorded: true,
        nodes: [
          { name: 'validateCustomer', deps: [], status: 'completed', position: 2 },
          { name: 'checkInventory', deps: [], status: 'completed', position: 3 },
          { name: 'scoreFraud', deps: [], status: 'completed', position: 4 },
          {
            name: 'decide',
            deps: ['validateCustomer', 'checkInventory', 'scoreFraud'],
            status: 'completed',
            position: 5,
          },
        ],
      },
    ]);
  });
});

describe("task process on the demo's durable task", () => {
  const tasks = () => join(demoHome, 'dist', 'tasks.js');
  const ledger = () => readFileSync(join(demoHome, '.ergon', 'ledger.txt'), 'utf8');

  it('returns the recorded result of an order by its transaction id, running nothing again', async () => {
    const before = ledger();
    const run = await ergon([
      'task',
      'process',
      tasks(),
      '--export',
      'orderIntake',
      '--id',
      'order-002',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(json(run)).toMatchObject({
      transactionId: 'order-002',
      status: 'succeeded',
      result: { order: 'order-002', status: 'shipped', receipt: 'rcpt-order-002' },
    });
    expect(ledger()).toBe(before);
  });

  it('processes a new order as a durable flow, its shipping child run in the same process', async () => {
    const order = { id: 'order-900', customer: 'ada', sku: 'SKU-1', amount: 42 };
    const run = await ergon([
      'task',
      'process',
      tasks(),
      '--export',
      'orderIntake',
      '--payload',
      JSON.stringify(order),
      '--id',
      order.id,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^transaction order-900: succeeded/);
    expect(run.stdout).toMatch(/status: 'shipped'|"status":"shipped"/);
    const shown = json<{ status: string; history: { key: string }[] }>(
      await ergon(['--store', store, '--json', 'flows', 'show', 'order-900']),
    );
    expect(shown.status).toBe('completed');
    expect(shown.history.map((h) => h.key)).toContain('ship-order#0');
    expect(ledger()).toMatch(/^charge \S*order-900\S* /m);
  });
});
