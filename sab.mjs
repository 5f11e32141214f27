import { runSimulation } from './dist/src/sim/run.js';
import { NO_FAULTS } from './dist/src/sim/faults.js';
const t = performance.now();
const r = await runSimulation({ seed: 3, steps: 400, nodes: 2, households: 3, plan: NO_FAULTS, sabotage: 'store-lies' });
console.log(r.result, r.violation, r.headHashes, r.blocks, r.steps, (performance.now()-t)/1000);
console.log(r.trace.format(15));
