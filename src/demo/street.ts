// Where the demo's households stand on the community map (the Place contract's schematic square
// of 10000 by 10000, docs/energy.md "The community map"): houses along straight streets, odd
// numbers on the north side and even numbers on the south side, at most ten houses a side spread over the width, the streets
// evenly apart from top to bottom. A house is labelled with its number only ("No. 12"): the map is
// public chain data.

import { PLACE_COORDINATE_MAX } from '../energy/codes.js';

export interface StreetPlace {
  readonly x: number;
  readonly y: number;
  readonly label: string;
}

/** Houses on one side of a street. */
const HOUSES_PER_SIDE = 10;
/** How far a house stands from the middle of its street, in map units. */
const SETBACK = 450;
const MARGIN = 800;

/** The place of each of `count` households, in order (house number = index + 1). */
export function streetLayout(count: number): StreetPlace[] {
  const perStreet = 2 * HOUSES_PER_SIDE;
  const streets = Math.max(1, Math.ceil(count / perStreet));
  // A short street spreads its few houses over the width of the map.
  const perSide = Math.min(HOUSES_PER_SIDE, Math.ceil(count / 2));
  const stepX = (PLACE_COORDINATE_MAX - 2 * MARGIN) / Math.max(1, perSide - 1);
  return Array.from({ length: count }, (_, i) => {
    const street = Math.floor(i / perStreet);
    const inStreet = i % perStreet;
    const streetY = ((street + 0.5) * PLACE_COORDINATE_MAX) / streets;
    const north = inStreet % 2 === 0;
    return {
      x: Math.round(MARGIN + Math.floor(inStreet / 2) * stepX),
      y: Math.round(streetY + (north ? -SETBACK : SETBACK)),
      label: `No. ${i + 1}`,
    };
  });
}
