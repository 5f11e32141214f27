// Where each part of a city lives: one folder per chain in the data directory (the processor's
// and the mirror node's data directories, the chain's keys, the services' logs), its ports, and
// with a PostgreSQL server its databases. A function of the options only, so a second
// `city up` on the same data directory finds every chain where the first one left it.

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { CityOptions } from './options.js';

export interface ChainLayout {
  /** `city`, or `n1` ... `nK`. */
  readonly name: string;
  readonly kind: 'city' | 'neighbourhood';
  readonly processorDir: string;
  readonly nodeDir: string;
  readonly keysDir: string;
  readonly logsDir: string;
  /** 0: any free port. */
  readonly processorPort: number;
  readonly nodePort: number;
  /** Database names on the server; null on PGlite. */
  readonly processorDatabase: string | null;
  readonly nodeDatabase: string | null;
}

export interface CityLayout {
  readonly city: ChainLayout;
  readonly neighbourhoods: readonly ChainLayout[];
}

export function neighbourhoodName(index: number): string {
  return `n${index + 1}`;
}

/** A prefix for this data directory's databases, so two cities on one server never share one. */
export function databasePrefix(dataDir: string): string {
  return `hz_city_${createHash('sha256').update(dataDir).digest('hex').slice(0, 10)}`;
}

export function cityLayout(o: CityOptions): CityLayout {
  const chain = (name: string, kind: ChainLayout['kind'], slot: number): ChainLayout => {
    const dir = join(o.dataDir, name);
    const db = (role: string): string | null =>
      o.databaseUrl === null ? null : `${databasePrefix(o.dataDir)}_${name}_${role}`;
    return {
      name,
      kind,
      processorDir: join(dir, 'processor'),
      nodeDir: join(dir, 'node'),
      keysDir: join(dir, 'keys'),
      logsDir: join(dir, 'logs'),
      processorPort: o.basePort === null ? 0 : o.basePort + 2 * slot,
      nodePort: o.basePort === null ? 0 : o.basePort + 2 * slot + 1,
      processorDatabase: db('processor'),
      nodeDatabase: db('node'),
    };
  };
  return {
    city: chain('city', 'city', 0),
    neighbourhoods: Array.from({ length: o.neighbourhoods }, (_, i) =>
      chain(neighbourhoodName(i), 'neighbourhood', i + 1),
    ),
  };
}

/** Every database of the city, in start order (empty on PGlite). */
export function databasesOf(layout: CityLayout): string[] {
  return [layout.city, ...layout.neighbourhoods].flatMap((c) =>
    [c.processorDatabase, c.nodeDatabase].filter((d): d is string => d !== null),
  );
}
