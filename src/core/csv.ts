// CSV (RFC 4180). Writing: a field with a comma, a quote or a line break is quoted, its quotes
// doubled; used by every command that prints CSV. Reading one line at a time: quoted fields,
// three separators; used by the readers of the grid operator's data and of price tables.

/** One CSV field. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One CSV line (without its line break). */
export function csvLine(values: readonly string[]): string {
  return values.map(csvField).join(',');
}

export type CsvSeparator = ',' | ';' | '\t';

/** A line's fields, or the reason it cannot be split. Quoted fields use "" for a quote. */
export function splitCsvLine(line: string, sep: CsvSeparator): string[] | { error: string } {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ') i++;
    if (line[i] === '"') {
      const quoted = readQuoted(line, i + 1);
      if ('error' in quoted) return quoted;
      let j = quoted.end;
      while (line[j] === ' ') j++;
      if (j < line.length && line[j] !== sep)
        return { error: `text after the closing quote of field ${fields.length + 1}` };
      fields.push(quoted.value);
      i = j;
    } else {
      const next = line.indexOf(sep, i);
      const end = next < 0 ? line.length : next;
      const raw = line.slice(i, end).trim();
      if (raw.includes('"')) return { error: `a quote inside unquoted field ${fields.length + 1}` };
      fields.push(raw);
      i = end;
    }
    if (i >= line.length) return fields;
    i++; // the separator
    if (i === line.length) {
      fields.push('');
      return fields;
    }
  }
}

function readQuoted(
  line: string,
  from: number,
): { value: string; end: number } | { error: string } {
  let value = '';
  let i = from;
  while (i < line.length) {
    const ch = line[i];
    if (ch === '"') {
      if (line[i + 1] !== '"') return { value, end: i + 1 };
      value += '"';
      i += 2;
    } else {
      value += ch;
      i++;
    }
  }
  return { error: 'a quoted field is not closed on its line (fields may not span lines)' };
}

/** The separator of a file, from its first line: a tab, else ';', else ','. Quoted text is ignored. */
export function detectSeparator(firstLine: string): CsvSeparator {
  const unquoted = firstLine.replace(/"(?:[^"]|"")*"/g, '');
  if (unquoted.includes('\t')) return '\t';
  if (unquoted.includes(';')) return ';';
  return ',';
}
