// Writing CSV (RFC 4180): a field with a comma, a quote or a line break is quoted, its quotes
// doubled. Used by every command that prints CSV.

/** One CSV field. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One CSV line (without its line break). */
export function csvLine(values: readonly string[]): string {
  return values.map(csvField).join(',');
}
