/**
 * Opening a store: the pool (the caller's, or one made from the URL), Kysely
 * on it, the migrated schema, the prepared statements and the LISTEN side.
 *
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Kysely, PostgresDialect, type PostgresPool as KyselyPool } from 'kysely';
import pg from 'pg';
import type { PostgresPool, ResolvedOptions } from '../options.js';
import type { Context } from './context.js';
import { Db } from './db.js';
import { isConnectionError, pgCode, toErgonError } from './errors.js';
import { channelOf } from './events.js';
import { type ListenConnection, EventListener } from './listener.js';
import { migrate } from './migrate.js';
import { Notifier } from './notifier.js';
import { builder, prepareQueries } from './queries.js';
import type { Schema } from './schema.js';
import { warmPool } from './warm.js';

/** Connections for lease renewals and heartbeats, beside the pool (when the store makes it). */
const URGENT_POOL_SIZE = 3;
/**
 * Connections of the pool the store makes that stay open however long they idle. pg-pool
 * closes an idle connection after 10 s, as long as a worker's longest sleep: the first
 * flow after a quiet spell then waited for a new connection, its login and the first run of
 * each statement on it (12 ms instead of 2–3 between enqueue and start, measured on the
 * bench machine). Two: a worker's claim beside a write, a client's create beside a read.
 */
const WARM_CONNECTIONS = 2;

/** An open store's resources. */
export interface Connection {
  readonly schema: string;
  /** Kysely on the store's schema, for queries built per call. */
  readonly kysely: Kysely<Schema>;
  readonly context: Context;
  /** Ends the LISTEN side, and the pool if the store made it. */
  close(): Promise<void>;
}

/** Connects and migrates. @throws what `migrate` throws, and driver errors mapped to Ergon errors. */
export async function connect(config: ResolvedOptions): Promise<Connection> {
  const { schema, logger } = config;
  const owned = config.pool === undefined;
  const pool: PostgresPool =
    config.pool ??
    (new pg.Pool({
      connectionString: config.url,
      max: config.poolSize,
      min: Math.min(WARM_CONNECTIONS, config.poolSize),
      application_name: config.applicationName,
    }) as unknown as PostgresPool);
  // An idle connection the server ends (a restart, pg_terminate_backend) is reported on the pool:
  // without a listener that would crash the process.
  const onPoolError = (error: Error) =>
    logger.warn('postgres: an idle pooled connection failed; the pool replaces it', { error: error.message });
  pool.on('error', onPoolError);
  // pg-pool leaves a new connection without an 'error' listener for a moment between connecting
  // and running its first query; a server ending it then would crash the process. Every connection
  // gets one for good: the failure still reaches the query or the pool (which drops the connection).
  pool.on('connect', guardConnection);
  // Lease renewals and heartbeats on connections of their own (see Db.urgent), committing without
  // waiting for the WAL flush: they write liveness only, and one lost with a crashed server just
  // lets a lease end sooner (every write after a claim is fenced by its token, and claims are durable).
  const urgent = owned
    ? (new pg.Pool({
        connectionString: config.url,
        max: URGENT_POOL_SIZE,
        application_name: config.applicationName,
        options: '-c synchronous_commit=off',
      }) as unknown as PostgresPool)
    : pool;
  if (owned) {
    urgent.on('error', onPoolError);
    urgent.on('connect', guardConnection);
  }
  // Kysely must never end the caller's pool: `destroy()` ends this stand-in instead.
  const kyselyPool: KyselyPool = { connect: () => pool.connect() as never, end: async () => {} };
  const root = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: kyselyPool }) });
  const end = async () => {
    pool.removeListener('error', onPoolError);
    pool.removeListener('connect', guardConnection);
    await root.destroy();
    if (owned) await Promise.all([pool.end(), urgent.end()]);
  };
  const channel = channelOf(schema);
  const listener = new EventListener({
    channel,
    logger,
    connect: owned ? () => ownListenConnection(config) : () => pooledListenConnection(pool),
  });
  try {
    // Both may run again: a connection lost while opening (a server restarting, an operator
    // ending connections) is tried again on a new one, a few times.
    await repeatOnConnectionLoss(() => migrate(pool, schema));
    // Listening from the start: no event committed after open() returns is missed.
    await repeatOnConnectionLoss(() => listener.start());
  } catch (error) {
    await listener.close();
    await end().catch(() => undefined);
    throw toErgonError(error, `open schema ${JSON.stringify(schema)}`);
  }
  const kysely = root.withSchema(schema);
  const q = prepareQueries(builder(kysely, schema));
  const notifier = new Notifier({ on: pool, statement: q.notify, channel, logger });
  // In the background: open() returns as soon as the schema is ready (`warm.ts`).
  const warming = owned ? warmPool({ pool, q, channel, count: WARM_CONNECTIONS }) : Promise.resolve();
  return {
    schema,
    kysely,
    context: { db: new Db({ pool, urgent }, (events) => notifier.send(events)), q, notifier, listener },
    async close() {
      await warming;
      await notifier.drain();
      await listener.close();
      await end();
    },
  };
}

/** A listener that keeps a connection's late errors from crashing the process (see `connect`). */
function guardConnection(client: { on(event: 'error', listener: (error: Error) => void): unknown }): void {
  client.on('error', () => undefined);
}

/** Attempts of each step of opening when its connection is lost. */
const OPEN_ATTEMPTS = 5;

async function repeatOnConnectionLoss<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= OPEN_ATTEMPTS || !isConnectionError(error) || pgCode(error) === 'ECONNREFUSED')
        throw error;
      await sleep(50 * attempt);
    }
  }
}

/** A connection of its own for LISTEN (not taken from the store's pool). */
async function ownListenConnection(config: ResolvedOptions): Promise<ListenConnection> {
  const client = new pg.Client({ connectionString: config.url, application_name: config.applicationName });
  // A failure before `connect` settles is reported through its rejection; later ones through 'error'.
  client.on('error', () => undefined);
  await client.connect();
  return { client, release: () => void client.end().catch(() => undefined) };
}

/** A connection of the caller's pool, held for LISTEN and closed (never reused) when released. */
async function pooledListenConnection(pool: PostgresPool): Promise<ListenConnection> {
  const client = await pool.connect();
  return { client, release: () => client.release(true) };
}
