/**
 * The transactional outbox: a queue table written inside your own
 * transaction, so a business write and the messages it causes commit
 * together or not at all. A relay (any consumer of the outbox: a hybrid
 * task whose output is another connector) moves the rows on and acks them.
 *
 * @module
 */
import type pg from 'pg';
import { toConnectorError } from './internal/errors.js';
import { PostgresQueueConnector, type PostgresQueueConnectorOptions } from './queue.js';

/** Options of {@link PostgresOutbox}: a queue's, with `ergon_outbox` as the default table. */
export type PostgresOutboxOptions = PostgresQueueConnectorOptions;

/** The client {@link PostgresOutbox.withTransaction} hands your work: a pooled connection inside `BEGIN`. */
export type TransactionClient = pg.PoolClient;

/**
 * A queue table used as an outbox. `dispatchTransactions(txs, { client })`
 * inserts the rows in your transaction; {@link withTransaction} opens one
 * for you. Fetching, acks and dead letters are the queue's.
 */
export class PostgresOutbox<P = unknown> extends PostgresQueueConnector<P> {
  /** @throws InvalidArgumentError for bad options. */
  constructor(options: PostgresOutboxOptions) {
    super(options, 'ergon_outbox');
  }

  /**
   * Runs `work` in a transaction on a pooled connection of the service:
   * `BEGIN`, your statements, then `COMMIT` when `work` resolves or
   * `ROLLBACK` when it throws (rethrown). Write your rows with `client` and
   * dispatch with `{ client }`: both commit together.
   *
   * @throws whatever `work` throws; ErgonError `CONNECTOR_ERROR` when BEGIN or COMMIT fails.
   */
  async withTransaction<T>(work: (client: TransactionClient) => Promise<T>): Promise<T> {
    await this.start();
    const client = await this.service.pool.connect().catch((error: unknown) => {
      throw toConnectorError(error, {
        action: 'take a connection for a transaction on',
        table: this.options.queueSql,
      });
    });
    let broken: unknown;
    try {
      await client.query('BEGIN').catch((error: unknown) => {
        throw toConnectorError(error, { action: 'begin a transaction for', table: this.options.queueSql });
      });
      let result: T;
      try {
        result = await work(client);
      } catch (error) {
        await client.query('ROLLBACK').catch((rollback: unknown) => {
          broken = rollback;
        });
        throw error;
      }
      await client.query('COMMIT').catch((error: unknown) => {
        broken = error;
        throw toConnectorError(error, { action: 'commit a transaction with', table: this.options.queueSql });
      });
      return result;
    } finally {
      client.release(broken !== undefined);
    }
  }
}
