/**
 * The rounds of a connector probe: each side in turn on a fresh queue, this
 * process's CPU per message of each round, and under callgrind the main
 * thread's instructions per message of the rounds from `--callgrind n` on.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

export function profileArgs() {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '10' },
      messages: { type: 'string', default: '20000' },
      only: { type: 'string' },
      callgrind: { type: 'string' },
      prof: { type: 'string' },
    },
  });
  return {
    rounds: Number(values.rounds),
    count: Number(values.messages),
    only: values.only?.split(','),
    callgrind: values.callgrind === undefined ? undefined : Number(values.callgrind),
    prof: values.prof,
    batch: Number(process.env.BATCH ?? 100),
  };
}

export async function runRounds({ args, fill, drop, sides }) {
  const names = args.only ?? ['raw', 'ergon'];
  // `--prof DIR`: a CPU profile of each side's consuming only (the fills left out), from round 2 on.
  const session = args.prof ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    mkdirSync(args.prof, { recursive: true });
  }
  for (let round = 0; round < args.rounds; round++) {
    const line = [];
    for (const side of names) {
      const queue = await fill(args.count);
      if (round === args.callgrind) callgrindControl('--zero');
      const profiling = session !== undefined && round >= 2;
      if (profiling) await session.post('Profiler.start');
      const before = process.resourceUsage();
      const ms = await sides[side](queue, args.count);
      const after = process.resourceUsage();
      if (profiling) {
        const { profile } = await session.post('Profiler.stop');
        writeFileSync(join(args.prof, `${side}-${round}.cpuprofile`), JSON.stringify(profile));
      }
      if (args.callgrind !== undefined && round === args.rounds - 1) callgrindControl('--dump');
      const user = (after.userCPUTime - before.userCPUTime) / args.count;
      const system = (after.systemCPUTime - before.systemCPUTime) / args.count;
      line.push(
        `${side} ${((args.count / ms) * 1000).toFixed(0)}/s ${(user + system).toFixed(2)} µs ` +
          `(user ${user.toFixed(2)} sys ${system.toFixed(2)})`,
      );
      await drop(queue);
    }
    console.log(`round ${round}: ${line.join('  ')}`);
  }
  if (args.callgrind !== undefined) console.log(instructions((args.rounds - args.callgrind) * args.count));
}

function callgrindControl(command) {
  execFileSync('callgrind_control', [command, String(process.pid)], { stdio: 'ignore' });
}

function instructions(messages) {
  const file = readdirSync('.').find((name) => name === `callgrind.out.${process.pid}.1-01`);
  if (!file) return 'no callgrind dump (run under valgrind --tool=callgrind --separate-threads=yes)';
  const total = Number(/^summary: (\d+)/m.exec(readFileSync(file, 'utf8'))?.[1]);
  const annotated = execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=100', file], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const gc = Number(/^\s*([\d,]+) .*Heap::CollectGarbage\(/m.exec(annotated)?.[1].replaceAll(',', '') ?? 0);
  const per = (n) => Math.round(n / messages);
  return `callgrind (${file}): ${per(total)} instructions per message, ${per(total - gc)} without GC (${per(gc)})`;
}
