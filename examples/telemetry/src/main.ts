// Telemetry. One `setupTelemetry` call registers OpenTelemetry for the process:
// here traces go over OTLP/HTTP to a collector (a tiny one in this process,
// which prints what it receives), metrics are served for Prometheus to scrape,
// and a winston logger writes JSON lines to the console with the trace and
// span ids of the step that logged them. `--console` prints spans with the
// SDK's console exporter instead of sending them.
// The Ergon libraries depend on `@opentelemetry/api` only: without this set-up
// their instrumentation is a no-op.
import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client, flow, Worker } from '@ergon/executor';
import { SqliteExecutionLog } from '@ergon/storage-sqlite';
import { createLogger, setupTelemetry } from '@ergon/telemetry';

const consoleTraces = process.argv.includes('--console');

// A stand-in OTLP collector: counts the spans posted to /v1/traces (OTLP/HTTP JSON).
const spans: string[] = [];
const collector = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const json = JSON.parse(body || '{}');
    for (const rs of json.resourceSpans ?? [])
      for (const ss of rs.scopeSpans ?? []) for (const span of ss.spans ?? []) spans.push(span.name);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
const { port } = collector.address() as AddressInfo;

const telemetry = await setupTelemetry({
  serviceName: 'orders',
  traces: consoleTraces
    ? { exporter: 'console' }
    : { exporter: 'otlp', url: `http://127.0.0.1:${port}/v1/traces` },
  metrics: { exporter: 'prometheus', port: 0, host: '127.0.0.1' }, // 0: any free port
});

const logger = createLogger({
  service: 'orders',
  level: 'info',
  transports: [{ type: 'console' }],
  redact: ['card'],
});

const checkout = flow('checkout', async (ctx, order: { id: string; card: string }) => {
  const receipt = await ctx.run('charge', () => {
    // Inside a step: the line carries this attempt's trace_id and span_id; the card is redacted.
    logger.info('charging', { orderId: order.id, card: order.card });
    return `receipt-${order.id}`;
  });
  await ctx.run('ship', () => `label-${order.id}`);
  return receipt;
});

const dir = new URL('../.ergon/', import.meta.url);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const store = await SqliteExecutionLog.open({ path: fileURLToPath(new URL('flows.db', dir)) });
const worker = new Worker({ store, flows: [checkout], logger }).start();
const client = new Client({ store });
for (const id of ['o-1', 'o-2'])
  await (await client.schedule(checkout, { id, card: '4242 4242' }, { flowId: id })).result();

// Prometheus scrapes this URL; here we read it once and show Ergon's series.
const scraped = await (await fetch(telemetry.prometheus?.url ?? '')).text();
const series = scraped.split('\n').filter((line) => /^ergon_(flow_runs_total|steps_total)\{/.test(line));
console.log(`Prometheus endpoint ${telemetry.prometheus?.url}:`);
for (const line of series) console.log(`  ${line.replace(/,?(otel_scope_[a-z_]+="[^"]*")/g, '')}`);

await worker.stop();
await store.close();
await telemetry.shutdown(); // flushes the spans still batched
await logger.close();
if (!consoleTraces) {
  const counts = new Map<string, number>();
  for (const name of spans) counts.set(name, (counts.get(name) ?? 0) + 1);
  console.log(`OTLP collector received ${spans.length} spans:`);
  for (const [name, count] of [...counts].sort()) console.log(`  ${name} × ${count}`);
}
collector.close();
