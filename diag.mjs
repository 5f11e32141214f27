import { runSimulation } from './dist/src/sim/run.js';
import { writeFileSync } from 'node:fs';
const r = await runSimulation({ seed: 143, steps: 62, nodes: 2, households: 3, traceKeep: 1_000_000 });
writeFileSync('/tmp/t143.txt', r.trace.format());
console.log(r.result, r.violation, r.blocks);
