// `hanzenet energy place|places`: the owner places a trader of a context on the community map
// (Place), and anyone reads the places (docs/cli.md, docs/energy.md "The community map").

import { Option, type Command } from 'commander';
import { fetchPlaces, placeMember } from '../../energy/dashboard-client.js';
import { PLACE_COORDINATE_MAX } from '../../energy/codes.js';
import { PLACES_LIMIT_MAX, placePayload } from '../../energy/places.js';
import { parseAddressParam } from '../../energy/query-params.js';
import { intOption, withClient } from '../context.js';
import { printJson } from '../output.js';
import {
  type SigningOptions,
  addSigningOptions,
  callSettings,
  readSigningKey,
  reportSubmission,
} from './signing.js';

interface PlaceOptions extends SigningOptions {
  readonly context: string;
  readonly member: string;
  readonly x: number;
  readonly y: number;
  readonly label?: string;
}

interface PlacesOptions {
  readonly context: string;
  readonly after?: string;
  readonly limit?: number;
}

export function registerPlaces(energy: Command): void {
  addSigningOptions(
    energy
      .command('place')
      .description(
        'place a trader of a context on the community\'s schematic map (Place, the owner\'s key); prints {"transactionId"}',
      )
      .requiredOption('--context <address>', 'the context address (its key holder is the owner)')
      .requiredOption('--member <address>', 'the trader (household) to place')
      .addOption(
        new Option('--x <n>', `position from the left, 0 to ${PLACE_COORDINATE_MAX}`)
          .argParser(intOption(0, PLACE_COORDINATE_MAX))
          .makeOptionMandatory(),
      )
      .addOption(
        new Option('--y <n>', `position from the top, 0 to ${PLACE_COORDINATE_MAX}`)
          .argParser(intOption(0, PLACE_COORDINATE_MAX))
          .makeOptionMandatory(),
      )
      .option(
        '--label <text>',
        'a public label of at most 32 characters (chain data anyone can read: never a name)',
      ),
  ).action(async (opts: PlaceOptions, cmd: Command) => {
    const input = {
      context: parseAddressParam(opts.context, '--context'),
      member: parseAddressParam(opts.member, '--member'),
      x: opts.x,
      y: opts.y,
      ...(opts.label === undefined ? {} : { label: opts.label }),
    };
    // Checked before the key is read, so that a wrong option is a usage error.
    placePayload(input);
    const key = await readSigningKey(opts);
    const settings = callSettings(opts);
    reportSubmission(
      await withClient(cmd, (client) => placeMember(client, input, { key, ...settings })),
    );
  });

  energy
    .command('places')
    .description('print where the traders of a context stand on the community map, by address')
    .requiredOption('--context <address>', 'the context address')
    .option('--after <address>', 'members after this address (the "next" of the previous page)')
    .addOption(
      new Option(
        '--limit <n>',
        `most places listed (default and at most ${PLACES_LIMIT_MAX})`,
      ).argParser(intOption(1, PLACES_LIMIT_MAX)),
    )
    .action(async (opts: PlacesOptions, cmd: Command) => {
      const context = parseAddressParam(opts.context, '--context');
      const after = opts.after === undefined ? undefined : parseAddressParam(opts.after, '--after');
      const query = {
        ...(after === undefined ? {} : { after }),
        ...(opts.limit === undefined ? {} : { limit: opts.limit }),
      };
      printJson(await withClient(cmd, (client) => fetchPlaces(client, context, query)));
    });
}
