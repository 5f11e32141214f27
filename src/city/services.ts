// The command lines of a city's services: exactly what an operator runs by hand (docs/cli.md),
// with the ports, data directories and databases of the city's layout: per chain a processor
// and a mirror node, per neighbourhood an uplink to the city.

import { join } from 'node:path';
import { databaseUrlOf } from '../store/server-database.js';
import type { ChainLayout } from './layout.js';
import type { CityOptions } from './options.js';
import type { ServiceSpec } from './service.js';

function databaseArgs(o: CityOptions, database: string | null): string[] {
  return o.databaseUrl === null || database === null
    ? []
    : ['--database-url', databaseUrlOf(o.databaseUrl, database)];
}

export function processorSpec(o: CityOptions, chain: ChainLayout): ServiceSpec {
  return {
    name: `${chain.name} processor`,
    args: [
      'processor',
      'start',
      '--host',
      o.host,
      '--port',
      String(chain.processorPort),
      '--data-dir',
      chain.processorDir,
      '--block-interval-ms',
      String(o.blockIntervalMs),
      ...databaseArgs(o, chain.processorDatabase),
    ],
    logFile: join(chain.logsDir, 'processor.log'),
    report: true,
  };
}

export function nodeSpec(o: CityOptions, chain: ChainLayout, processorUrl: string): ServiceSpec {
  return {
    name: `${chain.name} node`,
    args: [
      'node',
      'start',
      '--host',
      o.host,
      '--port',
      String(chain.nodePort),
      '--follow',
      processorUrl,
      '--data-dir',
      chain.nodeDir,
      ...databaseArgs(o, chain.nodeDatabase),
    ],
    logFile: join(chain.logsDir, 'node.log'),
    report: true,
  };
}

/** The uplink of a neighbourhood: its positions up to the city, the settlements back down. */
export function uplinkSpec(chain: ChainLayout, childUrl: string, parentUrl: string): ServiceSpec {
  return {
    name: `${chain.name} uplink`,
    args: ['uplink', '--child', childUrl, '--parent', parentUrl],
    logFile: join(chain.logsDir, 'uplink.log'),
    report: true,
  };
}
