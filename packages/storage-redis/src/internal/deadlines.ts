/**
 * The command timeout (ioredis' `commandTimeout`) of the scripts' commands,
 * kept per client by one timer instead of one per command.
 *
 * ioredis starts a Node timer for every command it sends and clears it on the
 * reply (and deletes the field that held it, which turns each command into a
 * slow dictionary object): ~4k instructions of a worker's ~58k per lone record.
 * A script's command ({@link ScriptCommand}) tells ioredis a timer is already
 * set, and {@link Deadlines} fails it as ioredis would, with "Command timed
 * out", once `commandTimeout` ms have passed since it was sent unanswered.
 * The client's commands are answered in the order they were sent, so their
 * deadlines are too: one timer, set for the oldest unanswered one, suffices.
 *
 * @module
 */
import { Command } from 'ioredis';

/** What ioredis rejects a command with when its `commandTimeout` passes. */
const TIMED_OUT = 'Command timed out';

/** A script's command: `replyEncoding` utf8, its timeout kept by {@link Deadlines}. */
export class ScriptCommand extends Command {
  /** Failed (an error reply, a closed connection, a timeout); ioredis marks only success (`isResolved`). */
  failed = false;

  constructor(name: string, args: string[]) {
    super(name, [], { replyEncoding: 'utf8' });
    this.args = args;
    const reject = this.reject;
    this.reject = (error: Error) => {
      this.failed = true;
      reject(error);
    };
  }
}

// ioredis' Command.setTimeout starts a timer unless `_commandTimeoutTimer` is set, and its
// _clearTimers passes what it finds to clearTimeout (a no-op for this object) and deletes the
// own property (there is none). Were the field renamed, ioredis would time the command as well.
Object.defineProperty(ScriptCommand.prototype, '_commandTimeoutTimer', {
  value: Object.freeze({ keptBy: 'Deadlines' }),
  writable: true,
});

/** The commands of one client waiting for their answer or their deadline, oldest first. */
export class Deadlines {
  readonly #ms: number;
  #commands: ScriptCommand[] = [];
  #at: number[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;

  /** @param ms the client's `commandTimeout`. */
  constructor(ms: number) {
    this.#ms = ms;
  }

  /** How many commands it holds (answered ones until they leave the front). */
  get size(): number {
    return this.#commands.length - this.#head;
  }

  /** Fails `command` with "Command timed out" when it is still unanswered `ms` from now. */
  watch(command: ScriptCommand): void {
    const commands = this.#commands;
    let head = this.#head;
    while (head < commands.length && settled(commands[head] as ScriptCommand)) head++;
    this.#head = head;
    if (head === commands.length) this.#clear();
    else if (head >= 1024 && head * 2 >= commands.length) this.#compact();
    this.#commands.push(command);
    this.#at.push(performance.now() + this.#ms);
    if (this.#timer === undefined) this.#arm(this.#ms);
  }

  /** The timer: fails the unanswered commands whose time is up, then waits for the next. */
  readonly #expire = (): void => {
    this.#timer = undefined;
    const now = performance.now();
    const commands = this.#commands;
    let head = this.#head;
    for (; head < commands.length; head++) {
      const command = commands[head] as ScriptCommand;
      if (settled(command)) continue;
      if ((this.#at[head] as number) > now) break;
      command.reject(new Error(TIMED_OUT));
    }
    this.#head = head;
    if (head === commands.length) this.#clear();
    else {
      this.#compact();
      this.#arm((this.#at[0] as number) - now);
    }
  };

  #arm(ms: number): void {
    // Unref'd: an unanswered command has its socket, or ioredis' reconnect timer, keeping the
    // process alive; once the client ends it fails them itself.
    this.#timer = setTimeout(this.#expire, Math.max(1, Math.ceil(ms))).unref();
  }

  #clear(): void {
    this.#commands.length = 0;
    this.#at.length = 0;
    this.#head = 0;
  }

  #compact(): void {
    this.#commands = this.#commands.slice(this.#head);
    this.#at = this.#at.slice(this.#head);
    this.#head = 0;
  }
}

function settled(command: ScriptCommand): boolean {
  return command.isResolved || command.failed;
}

/** Each client's {@link Deadlines}, made on its first script command. */
const byClient = new WeakMap<object, Deadlines>();

/** The {@link Deadlines} of a client whose `commandTimeout` is `ms`. */
export function deadlinesOf(client: object, ms: number): Deadlines {
  let deadlines = byClient.get(client);
  if (deadlines === undefined) {
    deadlines = new Deadlines(ms);
    byClient.set(client, deadlines);
  }
  return deadlines;
}
