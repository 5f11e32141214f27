// `hanzenet key generate`: a new random key, printed as validana-cli prints it.

import type { Command } from 'commander';
import { toHex } from '../../core/bytes.js';
import { PrivateKey } from '../../core/keys.js';
import { printJson } from '../output.js';

export function register(program: Command): void {
  const key = program.command('key').description('signing keys');
  key
    .command('generate')
    .description('generate a random private key; prints {"privateKey", "publicKey", "address"}')
    .action(() => {
      const k = PrivateKey.generate();
      printJson({ privateKey: k.toWIF(), publicKey: toHex(k.publicKey), address: k.address });
    });
}
