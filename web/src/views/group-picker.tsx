// Period, day or month: how statements and figures are grouped (days and months of
// Europe/Amsterdam, as the API groups them with tz).

export type Group = 'period' | 'day' | 'month';
const GROUPS: readonly Group[] = ['period', 'day', 'month'];

export function GroupPicker({ value, onChange }: { value: Group; onChange: (g: Group) => void }) {
  return (
    <fieldset class="segmented">
      <legend class="sr-only">Group by</legend>
      {GROUPS.map((g) => (
        <label key={g} class={g === value ? 'on' : ''}>
          <input
            type="radio"
            name="group"
            value={g}
            checked={g === value}
            onChange={() => onChange(g)}
          />
          {g === 'period' ? 'Per period' : g === 'day' ? 'Per day' : 'Per month'}
        </label>
      ))}
    </fieldset>
  );
}

const DAY_MS = 86_400_000;

/** About how long a group lasts (for the width of a chart with one group). */
export function groupMsOf(group: Group): number {
  return group === 'period' ? 900_000 : group === 'day' ? DAY_MS : 31 * DAY_MS;
}

/** How far back a view reads: a week of periods, 400 days, every month. */
export function windowFromMs(group: Group, nowMs: number): number | undefined {
  if (group === 'period') return nowMs - 7 * DAY_MS;
  if (group === 'day') return nowMs - 400 * DAY_MS;
  return undefined;
}
