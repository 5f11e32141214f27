// Label sets (thesis 5.4.2). A label is 1 to 32 characters of lowercase a-z, digits, '-', '_',
// '.' and ':' and starts with a letter or digit. A set holds at most 16 labels. The canonical form
// of a set is its labels sorted by code unit with duplicates removed, so ["solar","local","solar"]
// and ["local","solar"] are the same set. The empty set means unlabelled energy.

export const LABEL_PATTERN = /^[a-z0-9][a-z0-9_.:-]{0,31}$/;
export const LABELS_PER_SET_MAX = 16;

export type LabelsParse = { ok: true; labels: string[] } | { ok: false; reason: string };

/**
 * Accepts a JSON array of label strings, or (as the thesis' CLI examples do) one string of
 * comma-separated labels; "" and [] are the empty set. Returns the canonical set.
 */
export function parseLabels(value: unknown): LabelsParse {
  let items: unknown[];
  if (typeof value === 'string') items = value === '' ? [] : value.split(',').map((s) => s.trim());
  else if (Array.isArray(value)) items = value;
  else
    return {
      ok: false,
      reason: `labels must be an array of strings, got ${value === null ? 'null' : typeof value}`,
    };
  const set = new Set<string>();
  for (const item of items) {
    if (typeof item !== 'string' || !LABEL_PATTERN.test(item)) {
      return {
        ok: false,
        reason: `label ${JSON.stringify(item)} is not allowed: use 1-32 characters of a-z, 0-9, '-', '_', '.', ':' starting with a letter or digit`,
      };
    }
    set.add(item);
  }
  if (set.size > LABELS_PER_SET_MAX)
    return {
      ok: false,
      reason: `a label set holds at most ${LABELS_PER_SET_MAX} labels, got ${set.size}`,
    };
  return { ok: true, labels: [...set].sort(compareCodeUnits) };
}

export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
