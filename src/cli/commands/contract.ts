// `hanzenet contract list|create|delete|execute`, with validana-cli's flag names.

import type { Command } from 'commander';
import { inputs, withClient } from '../context.js';
import { exactlyOne, parseJsonObject } from '../inputs.js';
import { printJson } from '../output.js';
import {
  addSigningOptions,
  callSettings,
  readSigningKey,
  reportSubmission,
  type SigningOptions,
} from './signing.js';

interface CreateOptions extends SigningOptions {
  readonly contractFile: string;
}

interface DeleteOptions extends SigningOptions {
  readonly contractHash?: string;
  readonly contractType?: string;
}

interface ExecuteCliOptions extends DeleteOptions {
  readonly payload?: string;
  readonly payloadFile?: string;
}

export function register(program: Command): void {
  const contract = program
    .command('contract')
    .description('list, create, delete and execute contracts');
  contract
    .command('list')
    .description(
      'print the active contracts (array of {hash, type, version, description, template, ...})',
    )
    .action(async (_opts: unknown, cmd: Command) => {
      printJson(await withClient(cmd, (client) => client.contracts()));
    });

  addSigningOptions(
    contract
      .command('create')
      .description(
        'create a contract from a Validana contract file (processor key only); prints {"transactionId"}',
      )
      .requiredOption(
        '--contract-file <file>',
        'JSON file {type, version, description, template, init, code}; "-" reads stdin',
      ),
  ).action(async (opts: CreateOptions, cmd: Command) => {
    const source = `--contract-file ${opts.contractFile}`;
    const payload = parseJsonObject(
      await inputs.read('--contract-file', opts.contractFile),
      source,
    );
    const key = await readSigningKey(opts);
    const settings = callSettings(opts);
    reportSubmission(
      await withClient(cmd, (client) => client.createContract(payload, key, settings)),
    );
  });

  addSigningOptions(
    contract
      .command('delete')
      .description(
        'delete (deprecate) a contract (its creator\'s key only); prints {"transactionId"}',
      )
      .option('--contract-hash <hash>', 'hash of the contract (64 hex)')
      .option('--contract-type <type>', 'type of the contract (the last active one of that type)'),
  ).action(async (opts: DeleteOptions, cmd: Command) => {
    exactlyOne(opts, { contractHash: '--contract-hash', contractType: '--contract-type' });
    const key = await readSigningKey(opts);
    const settings = callSettings(opts);
    const result = await withClient(cmd, async (client) => {
      const hash = opts.contractHash ?? (await client.contractHashOfType(opts.contractType ?? ''));
      return client.deleteContract(hash, key, settings);
    });
    reportSubmission(result);
  });

  addSigningOptions(
    contract
      .command('execute')
      .description(
        'sign and submit a call of a contract; prints {"transactionId"} once it is accepted',
      )
      .option('--contract-type <type>', 'type of the contract (the last active one of that type)')
      .option('--contract-hash <hash>', 'hash of the contract (64 hex)')
      .option('--payload <json>', 'the payload, a JSON object')
      .option('--payload-file <file>', 'file holding the payload JSON; "-" reads stdin'),
  ).action(async (opts: ExecuteCliOptions, cmd: Command) => {
    const target = exactlyOne(opts, {
      contractType: '--contract-type',
      contractHash: '--contract-hash',
    });
    const which = exactlyOne(opts, { payload: '--payload', payloadFile: '--payload-file' });
    const payloadText =
      which === 'payload'
        ? (opts.payload ?? '')
        : await inputs.read('--payload-file', opts.payloadFile ?? '');
    const payload = parseJsonObject(
      payloadText,
      which === 'payload' ? '--payload' : `--payload-file ${opts.payloadFile ?? ''}`,
    );
    const key = await readSigningKey(opts);
    const settings = callSettings(opts);
    const contractRef =
      target === 'contractType'
        ? { contractType: opts.contractType ?? '' }
        : { contractHash: opts.contractHash ?? '' };
    reportSubmission(
      await withClient(cmd, (client) =>
        client.executeContract({ ...contractRef, payload, key, ...settings }),
      ),
    );
  });
}
