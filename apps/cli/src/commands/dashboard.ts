/**
 * `ergon dashboard`: serve the web dashboard over the store until SIGINT or
 * SIGTERM. It binds 127.0.0.1 by default and is guarded by a token (given, or
 * made up and printed in the address to open).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PipelineInfo } from '@ergon/dashboard';
import { Client } from '@ergon/executor';
import { type Command, InvalidArgumentError as OptionValueError } from 'commander';
import { CliError, ExitCode } from '../errors.js';
import { collectList, wholeNumber } from '../parse.js';
import { Session } from '../session.js';
import { describeStore } from '../store.js';

interface DashboardCommandOptions {
  readonly port: number;
  readonly host: string;
  readonly readOnly?: boolean;
  readonly token?: string;
  readonly traceUrl?: string;
  readonly pipeline?: string[];
}

// The dashboard's store stays open for hours: the store's usual bound on Redis calls.
const DASHBOARD_REDIS_TIMEOUT_MS = 10_000;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Adds `dashboard` to `program`. */
export function registerDashboard(program: Command): void {
  program
    .command('dashboard')
    .description('serve the web dashboard (flows, timelines, DAGs, workers, actions) until SIGINT or SIGTERM')
    .option('--port <port>', 'TCP port (0: any free port)', wholeNumber(0), 7777)
    .option('--host <host>', 'address to bind (default loopback only)', '127.0.0.1')
    .option('--read-only', 'refuse actions (signal, cancel, retry)')
    .option('--token <token>', 'the access token (default: ERGON_DASHBOARD_TOKEN, else a random one)')
    .option('--trace-url <template>', 'link to a flow’s trace, e.g. http://localhost:16686/trace/{traceId}')
    .option(
      '--pipeline <task=flow-type[@source]>',
      'a durable-bridge task for the Pipelines page (repeatable or comma-separated)',
      collectList,
    )
    .addHelpText(
      'after',
      '\nOpen the printed address: it carries the token once, then the page keeps it in a cookie.\n' +
        'API clients send it as "Authorization: Bearer <token>". Binding another address than\n' +
        'loopback exposes the dashboard to your network: use a strong --token (and TLS in front).',
    )
    .action(async (options: DashboardCommandOptions, command: Command) => {
      const session = Session.of(command);
      const { out } = session;
      const token =
        options.token ?? process.env.ERGON_DASHBOARD_TOKEN ?? randomBytes(24).toString('base64url');
      const pipelines = (options.pipeline ?? []).map(parsePipeline);
      const store = await session.open(options.readOnly ? 'read' : 'existing', {
        redisTimeoutMs: DASHBOARD_REDIS_TIMEOUT_MS,
      });
      // Loaded here, not at start-up: every other command starts without the dashboard's page and server.
      const { createDashboard } = await import('@ergon/dashboard');
      let dashboard: ReturnType<typeof createDashboard>;
      try {
        dashboard = createDashboard({
          client: new Client({ store }),
          token,
          readOnly: options.readOnly === true,
          traceUrl: options.traceUrl,
          pipelines,
          logger: session.logger,
        });
      } catch (error) {
        await store.close().catch(() => {});
        throw error;
      }
      const server = createServer(dashboard.listener);
      try {
        await listen(server, options.port, options.host);
      } catch (error) {
        dashboard.close();
        await store.close().catch(() => {});
        throw new CliError(`cannot listen on ${options.host}:${options.port}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const { port } = server.address() as AddressInfo;
      const host = options.host.includes(':') ? `[${options.host}]` : options.host;
      const url = `http://${host}:${port}/`;
      const open = `${url}?token=${encodeURIComponent(token)}`;
      if (out.json) {
        out.event({
          event: 'started',
          url,
          open,
          port,
          host: options.host,
          readOnly: options.readOnly === true,
        });
      } else {
        out.text(
          `dashboard on ${describeStore(session.spec)}${options.readOnly ? ' (read-only)' : ''}: ${open}`,
        );
        out.note('Open that address (it carries the token). Ctrl-C to stop.');
      }
      if (!LOOPBACK.has(options.host))
        out.note(
          `warning: listening on ${options.host}: anyone who can reach it and has the token can act on flows`,
        );
      await untilStopSignal(async () => {
        dashboard.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await store.close().catch(() => {});
        if (out.json) out.event({ event: 'stopped' });
        else out.note('dashboard stopped');
      });
    });
}

/** `task=flow-type` or `task=flow-type@source`. */
function parsePipeline(text: string): PipelineInfo {
  const match = /^([^=]+)=([^@]+)(?:@(.+))?$/.exec(text.trim());
  if (!match)
    throw new OptionValueError(`--pipeline ${JSON.stringify(text)}: expected task=flow-type[@source]`);
  const [, task = '', flowType = '', source] = match;
  return source === undefined ? { task, flowType } : { task, flowType, source };
}

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Resolves after `stop` ran for the first SIGINT/SIGTERM; a second one exits at once. */
function untilStopSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve, reject) => {
    let stopping = false;
    const onSignal = () => {
      if (stopping) process.exit(ExitCode.INTERRUPTED);
      stopping = true;
      stop()
        .then(resolve, reject)
        .finally(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
