// The winston logger with the real SDK: trace ids from the active span, secret
// redaction in every transport (console stream, file, rotating file, OTLP),
// child fields, levels, and the logger handed to a real executor Worker.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, InMemoryExecutionLog } from '@ergon/core';
import { Client, flow, Worker } from '@ergon/executor';
import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, setupTelemetry, type Telemetry } from '../src/index.js';
import { captureStream, eventually, startOtlpReceiver } from './support.js';

const spans = new InMemorySpanExporter();
let telemetry: Telemetry;
let dir: string;

beforeAll(async () => {
  telemetry = await setupTelemetry({ serviceName: 'logger-test', traces: { exporter: spans } });
  dir = await mkdtemp(join(tmpdir(), 'ergon-telemetry-'));
});
afterAll(async () => {
  await telemetry.shutdown();
  await rm(dir, { recursive: true, force: true });
});

const SECRETS = ['hunter2', 'Bearer abc.def.ghi', 'sk_live_123', 'sess=42', '123-45-6789', 'child-secret'];
const tracer = trace.getTracer('logger-test');

const fileLines = async (path: string) =>
  (await readFile(path, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('createLogger', () => {
  it('puts the active span’s trace_id and span_id on every line logged inside it, in every transport', async () => {
    const console = captureStream();
    const path = join(dir, 'traced.log');
    const logger = createLogger({
      service: 'orders',
      transports: [
        { type: 'console', stream: console.stream },
        { type: 'file', path },
      ],
    });
    logger.info('outside');
    const outer = tracer.startSpan('outer');
    const seen: { message: string; traceId: string; spanId: string }[] = [];
    await context.with(trace.setSpan(context.active(), outer), async () => {
      logger.info('in outer');
      seen.push({ message: 'in outer', ...outer.spanContext() });
      await new Promise((r) => setTimeout(r, 5)); // the async context survives awaits
      logger.child({ flowId: 'f-1' }).warn('in outer after await');
      seen.push({ message: 'in outer after await', ...outer.spanContext() });
      await tracer.startActiveSpan('inner', async (inner) => {
        await Promise.resolve();
        logger.error('in inner');
        seen.push({ message: 'in inner', ...inner.spanContext() });
        inner.end();
      });
    });
    outer.end();
    await logger.close();

    for (const lines of [console.lines(), await fileLines(path)]) {
      expect(lines.map((l) => l.message)).toEqual([
        'outside',
        'in outer',
        'in outer after await',
        'in inner',
      ]);
      expect(lines[0]).not.toHaveProperty('trace_id');
      expect(lines[0]).not.toHaveProperty('span_id');
      for (const expected of seen) {
        const line = lines.find((l) => l.message === expected.message);
        expect(line).toMatchObject({
          trace_id: expected.traceId,
          span_id: expected.spanId,
          service: 'orders',
        });
      }
      for (const line of lines) {
        expect(Object.keys(line).slice(0, 3)).toEqual(['timestamp', 'level', 'message']);
        expect(new Date(String(line.timestamp)).toISOString()).toBe(line.timestamp);
      }
      expect(lines.map((l) => l.level)).toEqual(['info', 'info', 'warn', 'error']);
      expect(lines[2]).toMatchObject({ flowId: 'f-1' });
    }
  });

  it('never lets a configured secret reach the console stream or the file', async () => {
    const console = captureStream();
    const path = join(dir, 'secrets.log');
    const logger = createLogger({
      service: 'payments',
      transports: [
        { type: 'console', stream: console.stream },
        { type: 'file', path },
      ],
      redact: ['ssn'],
      fields: { env: 'test', apiKey: 'sk_live_123' },
    });
    const error = Object.assign(new Error('upstream refused'), {
      config: { headers: { Authorization: 'Bearer abc.def.ghi' } },
    });
    const child = logger.child({ tenant: 't-9', credentials: { user: 'u', pass: 'child-secret' } });
    child.info('charging', {
      password: 'hunter2',
      request: { headers: { AUTHORIZATION: 'Bearer abc.def.ghi', cookie: 'sess=42', accept: 'json' } },
      customer: { SSN: '123-45-6789', name: 'Ada' },
      attempts: [{ 'x-api-key': 'sk_live_123' }],
      lookup: new Map([['refresh_token', 'hunter2']]),
      error,
    });
    await logger.close();

    for (const text of [console.text(), await readFile(path, 'utf8')]) {
      for (const secret of SECRETS) expect(text).not.toContain(secret);
      const [line] = text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(line).toMatchObject({
        env: 'test',
        apiKey: '[REDACTED]',
        tenant: 't-9',
        credentials: '[REDACTED]',
        password: '[REDACTED]',
        request: { headers: { AUTHORIZATION: '[REDACTED]', cookie: '[REDACTED]', accept: 'json' } },
        customer: { SSN: '[REDACTED]', name: 'Ada' },
        attempts: [{ 'x-api-key': '[REDACTED]' }],
        lookup: { refresh_token: '[REDACTED]' },
        error: {
          name: 'Error',
          message: 'upstream refused',
          config: { headers: { Authorization: '[REDACTED]' } },
        },
      });
    }
  });

  it('writes JSON lines to a rotating file, redacted too', async () => {
    const rotating = join(dir, 'rotating');
    const logger = createLogger({
      service: 'rotator',
      transports: [
        { type: 'rotating-file', dirname: rotating, filename: 'app-%DATE%.log', maxSize: '1m', maxFiles: 3 },
      ],
    });
    for (let i = 0; i < 20; i++) logger.info('tick', { i, token: 'sk_live_123' });
    await logger.close();
    const files = (await readdir(rotating)).filter((f) => f.startsWith('app-') && f.endsWith('.log'));
    expect(files).toHaveLength(1);
    const text = await readFile(join(rotating, files[0] as string), 'utf8');
    expect(text).not.toContain('sk_live_123');
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.i)).toEqual([...Array(20).keys()]);
    expect(lines[0]).toMatchObject({
      service: 'rotator',
      token: '[REDACTED]',
      level: 'info',
      message: 'tick',
    });
  });

  it('drops lines below the level, keeps fixed keys fixed, and drops lines after close', async () => {
    const console = captureStream();
    const logger = createLogger({
      service: 'svc',
      level: 'warn',
      transports: [{ type: 'console', stream: console.stream }],
    });
    logger.debug('no');
    logger.info('no');
    logger.warn('yes', { level: 'spoofed', service: 'other', message: 'm' });
    await logger.close();
    await logger.close(); // idempotent
    logger.error('after close');
    expect(console.lines()).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'yes',
        service: 'svc',
        'field.level': 'spoofed',
        'field.service': 'other',
        'field.message': 'm',
      }),
    ]);
  });

  it('sends lines as OTLP log records with the span context, redacted', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const logger = createLogger({
        service: 'otlp-logs',
        transports: [{ type: 'otlp', url: `${receiver.url}/v1/logs` }],
      });
      const span = tracer.startSpan('with-logs');
      context.with(trace.setSpan(context.active(), span), () => {
        logger.info('shipped', { orderId: 'o-7', password: 'hunter2' });
      });
      span.end();
      await logger.close();
      await eventually(() => receiver.bodies('/v1/logs').length > 0);
      const body = receiver.bodies('/v1/logs').join('\n');
      expect(body).toContain('shipped');
      expect(body).toContain('o-7');
      expect(body).not.toContain('hunter2');
      const record = JSON.parse(receiver.bodies('/v1/logs')[0] as string).resourceLogs[0].scopeLogs[0]
        .logRecords[0];
      expect(record.traceId).toBe(span.spanContext().traceId);
      expect(record.spanId).toBe(span.spanContext().spanId);
      expect(record.severityText).toBe('info');
    } finally {
      await receiver.close();
    }
  });

  it('gives a real worker’s step code lines with the attempt span’s ids and the ergon ids in scope', async () => {
    const console = captureStream();
    const logger = createLogger({
      service: 'worker',
      level: 'debug',
      transports: [{ type: 'console', stream: console.stream }],
    });
    const store = new InMemoryExecutionLog();
    const f = flow('logged', async (ctx, order: { id: string }) =>
      ctx.run('charge', () => {
        logger
          .child({ flowId: ctx.flowId, orderId: order.id })
          .info('charging', { authorization: 'Bearer abc.def.ghi' });
        return 'ok';
      }),
    );
    const worker = new Worker({ store, flows: [f], logger, maxIdle: '20ms' }).start();
    try {
      const handle = await new Client({ store }).schedule(f, { id: 'o-1' });
      await handle.result();
    } finally {
      await worker.stop({ timeout: '1s' });
    }
    await telemetry.flush();
    await logger.close();
    const line = console.lines().find((l) => l.message === 'charging');
    const attempt = spans
      .getFinishedSpans()
      .find((s) => s.name === 'ergon.attempt' && s.attributes['ergon.flow.id'] === line?.flowId);
    expect(attempt).toBeDefined();
    expect(line).toMatchObject({
      trace_id: attempt?.spanContext().traceId,
      span_id: attempt?.spanContext().spanId,
      orderId: 'o-1',
      authorization: '[REDACTED]',
    });
    expect(console.text()).not.toContain('abc.def.ghi');
  });

  it('rejects malformed options with INVALID_ARGUMENT', () => {
    const bad: unknown[] = [
      undefined,
      {},
      { service: '', transports: [{ type: 'console' }] },
      { service: 's', transports: [] },
      { service: 's', transports: [{ type: 'syslog' }] },
      { service: 's', transports: [{ type: 'file' }] },
      { service: 's', transports: [{ type: 'file', path: 'x.log', rotate: true }] },
      { service: 's', transports: [{ type: 'rotating-file', dirname: dir, filename: 'a/b.log' }] },
      {
        service: 's',
        transports: [{ type: 'rotating-file', dirname: dir, filename: 'a.log', maxSize: '1 TB' }],
      },
      { service: 's', transports: [{ type: 'otlp', url: 'ftp://collector' }] },
      { service: 's', transports: [{ type: 'console', stream: 'stdout' }] },
      { service: 's', level: 'trace', transports: [{ type: 'console' }] },
      { service: 's', redact: 'password', transports: [{ type: 'console' }] },
      { service: 's', transports: [{ type: 'console' }], colour: true },
    ];
    for (const options of bad) {
      expect(() => createLogger(options as never), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
      );
    }
  });
});
