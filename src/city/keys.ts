// The keys of a city's contexts, one key file each (mode 0600, src/store/key-file.ts) in the
// chain's `keys/` folder: made on the first start, read on every later one. The processors make
// and keep their own keys in their data directories.

import { join } from 'node:path';
import type { PrivateKey } from '../core/keys.js';
import { loadOrCreateKeyFile } from '../store/key-file.js';
import type { ChainLayout } from './layout.js';

export interface HouseholdKeys {
  readonly trader: PrivateKey;
  /** The house meter (Consumer). */
  readonly house: PrivateKey;
  /** The solar meter (Producer, labels ["solar"]); every second household, the first included. */
  readonly solar: PrivateKey | null;
}

export interface NeighbourhoodKeys {
  /** The context's key: its address is the context, and the neighbourhood's trader in the city. */
  readonly owner: PrivateKey;
  readonly households: readonly HouseholdKeys[];
  /** The neighbourhood's devices in the city, under which its positions are booked. */
  readonly memberProducer: PrivateKey;
  readonly memberConsumer: PrivateKey;
}

export interface CityKeys {
  readonly owner: PrivateKey;
}

export function hasSolar(householdIndex: number): boolean {
  return householdIndex % 2 === 0;
}

async function keyIn(dir: string, name: string): Promise<PrivateKey> {
  return (await loadOrCreateKeyFile(join(dir, `${name}.key`))).key;
}

export async function cityKeys(chain: ChainLayout): Promise<CityKeys> {
  return { owner: await keyIn(chain.keysDir, 'owner') };
}

export async function neighbourhoodKeys(
  chain: ChainLayout,
  households: number,
): Promise<NeighbourhoodKeys> {
  const list: HouseholdKeys[] = [];
  for (let i = 0; i < households; i++) {
    const name = `household-${i + 1}`;
    list.push({
      trader: await keyIn(chain.keysDir, `${name}-trader`),
      house: await keyIn(chain.keysDir, `${name}-house`),
      solar: hasSolar(i) ? await keyIn(chain.keysDir, `${name}-solar`) : null,
    });
  }
  return {
    owner: await keyIn(chain.keysDir, 'owner'),
    households: list,
    memberProducer: await keyIn(chain.keysDir, 'member-producer'),
    memberConsumer: await keyIn(chain.keysDir, 'member-consumer'),
  };
}
