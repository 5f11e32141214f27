import { runSimulation } from './dist/src/sim/run.js';
const seed = Number(process.argv[2]);
const r = await runSimulation({ seed, steps: Number(process.argv[3]), nodes: 2, households: 4, traceKeep: 1_000_000 });
const lines = r.trace.format().split('\n').filter((l) => / final /.test(l));
const counts = {};
for (const l of lines) { const m = / final \S+ (\S+) (\S*)/.exec(l); const k = m[1] + ' ' + m[2]; counts[k] = (counts[k] ?? 0) + 1; }
console.log(r.result, r.violation, r.blocks, counts);
