// The community map (issue 15): where the owner placed each trader of a context (Place), read
// from state.energy_places by its primary key (context, member) in address order, joined to
// state.energy_traders by its primary key so that only current traders are listed. One SQL
// statement per page.

import { Type } from '@sinclair/typebox';
import { ChainError } from '../core/errors.js';
import type { Sql } from '../store/types.js';
import { PLACE_COORDINATE_MAX, PLACE_LABEL_CHARS_MAX } from './codes.js';
import { parseAddressParam, parseIntegerParam } from './query-params.js';
import { read, safeNumber, textOf } from './query-rows.js';
import { AddressText, DecimalText, checkQuery } from './query-schema.js';

/** Most places in one answer, and the default: a community of 1,000 households in one page. */
export const PLACES_LIMIT_MAX = 1000;

export interface PlaceView {
  readonly member: string;
  readonly x: number;
  readonly y: number;
  /** null when the owner gave none. */
  readonly label: string | null;
  /** The block of the Place that set it. */
  readonly height: number;
}

export interface PlacesView {
  readonly context: string;
  readonly places: PlaceView[];
  /** The last member listed when more follow (pass it as `after`), else null. */
  readonly next: string | null;
}

export interface PlacesPage {
  /** Members after this address (byte order). */
  readonly after?: string;
  readonly limit: number;
}

const PlacesQuery = Type.Object(
  { after: Type.Optional(AddressText), limit: Type.Optional(DecimalText) },
  { additionalProperties: false },
);

/** The page of `?after=&limit=`. */
export function parsePlacesQuery(query: unknown): PlacesPage {
  const params = checkQuery(PlacesQuery, query);
  const limit =
    params['limit'] === undefined
      ? PLACES_LIMIT_MAX
      : parseIntegerParam(params['limit'], 'limit', 1, PLACES_LIMIT_MAX);
  return params['after'] === undefined
    ? { limit }
    : { after: parseAddressParam(params['after'], 'after'), limit };
}

/** A page of the context's places, by member address. */
export async function energyPlaces(
  sql: Sql,
  context: string,
  page: PlacesPage,
): Promise<PlacesView> {
  const rows = await read<Record<string, string>>(
    sql,
    `SELECT p.member, p.x::text AS x, p.y::text AS y, p.label, p.height::text AS height
       FROM state.energy_places p
       JOIN state.energy_traders t ON t.context = p.context AND t.address = p.member
      WHERE p.context = $1 AND ($2::text IS NULL OR p.member > $2)
      ORDER BY p.member
      LIMIT $3`,
    [context, page.after ?? null, page.limit + 1],
  );
  const places = rows.slice(0, page.limit).map(
    (r): PlaceView => ({
      member: textOf(r['member'], 'member'),
      x: safeNumber(r['x'], 'x'),
      y: safeNumber(r['y'], 'y'),
      label: r['label'] === '' || r['label'] === undefined ? null : textOf(r['label'], 'label'),
      height: safeNumber(r['height'], 'height'),
    }),
  );
  const last = places[places.length - 1];
  return { context, places, next: rows.length > page.limit && last ? last.member : null };
}

/** What the owner places: a trader at x, y (0 to 10000), with an optional public label. */
export interface PlaceInput {
  readonly context: string;
  readonly member: string;
  readonly x: number;
  readonly y: number;
  readonly label?: string;
}

/**
 * The payload of a Place call, checked as the contract checks it, so that a CLI or client mistake
 * is a bad_request before anything is signed (the contract decides again on chain).
 */
export function placePayload(input: PlaceInput): Record<string, unknown> {
  parseAddressParam(input.context, 'context');
  parseAddressParam(input.member, 'member');
  for (const axis of ['x', 'y'] as const) {
    const value = input[axis];
    if (!Number.isSafeInteger(value) || value < 0 || value > PLACE_COORDINATE_MAX)
      throw new ChainError(
        'bad_request',
        `${axis} must be an integer from 0 to ${PLACE_COORDINATE_MAX}, got ${String(value)}`,
        { field: axis, min: 0, max: PLACE_COORDINATE_MAX },
      );
  }
  const label = input.label;
  if (label !== undefined && (label.length > PLACE_LABEL_CHARS_MAX || /[\p{Cc}]/u.test(label)))
    throw new ChainError(
      'bad_request',
      `label must be at most ${PLACE_LABEL_CHARS_MAX} characters without control characters, got ${label.length}`,
      { field: 'label', max: PLACE_LABEL_CHARS_MAX },
    );
  return {
    context: input.context,
    member: input.member,
    x: input.x,
    y: input.y,
    ...(label === undefined ? {} : { label }),
  };
}
