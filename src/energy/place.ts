// Place (ours; issue 15, the community map): the owner of a context sets where one of its traders
// (a household) stands on the community's schematic map: x and y from 0 to 10000 (not geographic
// coordinates) and an optional short label. A second Place moves the household and replaces its
// label. Everything here is public chain data, so a label should never hold a person's name.

import { defineContract } from '../contracts/authoring/define.js';
import type { ContractContext, ContractResult } from '../contracts/authoring/define.js';
import type { EnergyRejectCodeName } from './codes.js';
import { energyManifest } from './tables.js';

export interface PlacePayload {
  readonly context: string;
  readonly member: string;
  readonly x: number;
  readonly y: number;
  readonly label?: string;
}

/** The codes Place rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'not_context_owner',
  'trader_not_found',
  'place_out_of_range',
  'place_label_invalid',
] as const satisfies readonly EnergyRejectCodeName[];
type PlaceRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'Place',
  version: '1.0',
  description: "Sets where a trader of the context stands on the community's schematic map. Only the context owner.",
  template: {
    context: { type: 'addr', name: 'context', desc: 'The context address (its key holder is the owner)' },
    member: { type: 'addr', name: 'member', desc: 'The trader (household) to place' },
    x: { type: 'uint', name: 'x', desc: 'Position from the left, 0 to 10000 (a schematic map, not geographic)' },
    y: { type: 'uint', name: 'y', desc: 'Position from the top, 0 to 10000' },
    label: { type: 'str?', name: 'label', desc: 'Optional public label, at most 32 characters (never a personal name)' },
  },
  manifest: energyManifest(['energy_places'], ['energy_traders']),
  rejects: REJECTS,
  execute: function execute(payload: PlacePayload, ctx: ContractContext<PlaceRejectCode>): ContractResult {
    const COORDINATE_MAX = 10000;
    const LABEL_CHARS_MAX = 32;
    const context = payload.context;
    const member = payload.member;
    if (ctx.sender !== context) {
      return ctx.reject('not_context_owner', `only the owner of context ${context} may place members on its map; the sender is ${ctx.sender}`);
    }
    if (ctx.db.get('energy_traders', { context, address: member }) === null) {
      return ctx.reject('trader_not_found', `${member} is not a trader in context ${context}; register it with Trader before placing it`);
    }
    if (payload.x > COORDINATE_MAX || payload.y > COORDINATE_MAX) {
      return ctx.reject('place_out_of_range', `x and y must be from 0 to ${COORDINATE_MAX}, got x ${payload.x} and y ${payload.y}`);
    }
    const label = payload.label ?? '';
    if (label.length > LABEL_CHARS_MAX) {
      return ctx.reject('place_label_invalid', `the label holds ${label.length} characters; at most ${LABEL_CHARS_MAX} are allowed`);
    }
    if (/[\u0000-\u001f\u007f-\u009f]/.test(label)) {
      return ctx.reject('place_label_invalid', `the label ${JSON.stringify(label)} holds a control character`);
    }
    ctx.db.put('energy_places', { context, member, x: BigInt(payload.x), y: BigInt(payload.y), label, height: BigInt(ctx.block.height) });
    return 'OK';
  },
});
