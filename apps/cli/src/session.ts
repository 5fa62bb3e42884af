/**
 * What every command gets from the global options: the output mode, the
 * store to open, and a helper that opens it and always closes it.
 *
 * @module
 */
import type { Logger, RuntimeExecutionLog } from '@ergon/core';
import { Client } from '@ergon/executor';
import type { Command } from 'commander';
import { cliLogger, Output } from './output.js';
import { DEFAULT_STORE, openStore, parseStoreSpec, type StoreAccess, type StoreSpec } from './store.js';

/** The global options as commander parses them. */
export interface GlobalOptions {
  readonly store?: string;
  readonly prefix?: string;
  readonly json?: boolean;
  readonly verbose?: boolean;
}

/** Bound on each Redis call of a one-shot command, connecting included. */
const COMMAND_REDIS_TIMEOUT_MS = 5000;

/** A command's view of the global options. */
export class Session {
  readonly out: Output;
  readonly verbose: boolean;
  readonly spec: StoreSpec;
  readonly logger: Logger;
  readonly #prefix: string | undefined;
  readonly #isDefault: boolean;

  constructor(options: GlobalOptions) {
    const given = options.store ?? process.env.ERGON_STORE;
    this.#isDefault = given === undefined || given === '';
    this.spec = parseStoreSpec(this.#isDefault ? DEFAULT_STORE : (given as string));
    this.#prefix = options.prefix;
    this.verbose = options.verbose === true;
    this.out = new Output({ json: options.json === true });
    this.logger = cliLogger({ verbose: this.verbose });
  }

  /** The session of the command being run (its options merged with the globals). */
  static of(command: Command): Session {
    return new Session(command.optsWithGlobals<GlobalOptions>());
  }

  /** Opens the store (see {@link StoreAccess}). The caller closes it. */
  open(access: StoreAccess, options: { redisTimeoutMs?: number } = {}): Promise<RuntimeExecutionLog> {
    return openStore({
      spec: this.spec,
      access,
      prefix: this.#prefix,
      redisTimeoutMs: options.redisTimeoutMs ?? COMMAND_REDIS_TIMEOUT_MS,
      logger: this.logger,
      isDefault: this.#isDefault,
    });
  }

  /** Runs `fn` with the store and a client on it, closing the store afterwards whatever happens. */
  async withClient<T>(
    access: StoreAccess,
    fn: (client: Client, store: RuntimeExecutionLog) => Promise<T>,
  ): Promise<T> {
    const store = await this.open(access);
    try {
      return await fn(new Client({ store }), store);
    } finally {
      await store.close().catch(() => {});
    }
  }
}
