// The codec's cost per call for the values flows pass most (undefined, a number, a short string),
// written for instruction counts: whole-engine counts move by ±1.5k per flow with GC timing, a
// codec call alone does not. Under callgrind, two counts and their difference:
//   for n in 100000 300000; do valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.$n \
//     node --predictable --single-threaded bench/codec-instr.mjs $n decode:undefined; done
//   (Ir at 300000 − Ir at 100000) / 200000 = instructions per call
// Ops: encode:<value> and decode:<value>, value one of undefined, number, string, null, object.
// Without valgrind it prints ns per call (noisy on a shared machine).
import { defaultCodec } from '@ergon/core';

const n = Number(process.argv[2] ?? 1_000_000);
const [op, kind] = (process.argv[3] ?? 'decode:undefined').split(':');
const VALUES = { undefined, number: 1, string: 'ok', null: null, object: { id: 'a', n: 1 } };
if (!(kind in VALUES) || (op !== 'encode' && op !== 'decode')) {
  console.error(`unknown op ${process.argv[3]}: use encode|decode:${Object.keys(VALUES).join('|')}`);
  process.exit(2);
}
const value = VALUES[kind];
const text = defaultCodec.encode(value);
let sink = 0;
const t0 = process.hrtime.bigint();
if (op === 'encode') for (let i = 0; i < n; i++) sink += defaultCodec.encode(value).length;
else for (let i = 0; i < n; i++) sink += defaultCodec.decode(text) === undefined ? 0 : 1;
const ns = Number(process.hrtime.bigint() - t0) / n;
// The results are used, so the calls are not optimized away.
if (sink === -1) console.log(sink);
console.log(`${op} ${kind} (${JSON.stringify(text)}): ${ns.toFixed(0)} ns per call over ${n}`);
