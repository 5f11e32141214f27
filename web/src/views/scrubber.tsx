// A time scrubber: a range input over the settled days or periods (arrow keys, Home and End move
// it), with the selected one spelled out for screen readers and eyes alike.

export function Scrubber(props: {
  id: string;
  label: string;
  count: number;
  index: number;
  text: string;
  onChange: (index: number) => void;
}) {
  const { id, label, count, index, text, onChange } = props;
  return (
    <div class="scrubber">
      <label for={`scrub-${id}`}>{label}</label>
      <input
        id={`scrub-${id}`}
        type="range"
        min={0}
        max={Math.max(0, count - 1)}
        step={1}
        value={Math.max(0, index)}
        disabled={count <= 1}
        aria-valuetext={text}
        onInput={(e) => onChange(Number((e.currentTarget as HTMLInputElement).value))}
      />
      <output for={`scrub-${id}`} data-testid={`scrub-${id}`}>
        {text}
      </output>
      <span class="muted small">
        {count === 0 ? 'none' : `${Math.max(0, index) + 1} of ${count}`}
      </span>
    </div>
  );
}
