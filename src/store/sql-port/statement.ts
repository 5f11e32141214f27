// What the embedded SQL port lets a client run. Every query runs in a read-only transaction that
// is rolled back, so the database itself refuses writes; this check comes first and refuses, with
// a message naming the port, what would still outlive the query or reach beyond the database:
// commands other than reads (SET, PREPARE, LISTEN, BEGIN, ... change the session, which the
// processor shares), COPY to a file or from the client, and the functions that keep a session
// lock, sleep, touch the server's files or run SQL text of their own. A string of several
// statements is refused by the database (the port sends the query with Parse, which takes one).

/** The SQLSTATE of a refused command: read_only_sql_transaction. */
export const SQLSTATE_READ_ONLY = '25006';
/** The SQLSTATE of a refused function or COPY target: insufficient_privilege. */
export const SQLSTATE_REFUSED = '42501';

export type StatementCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** The commands the port runs; a statement may also start with '(' (a parenthesised SELECT). */
const READ_COMMANDS = new Set(['select', 'with', 'table', 'values', 'show', 'explain']);
const READ_COMMANDS_TEXT = 'SELECT, WITH, TABLE, VALUES, SHOW, EXPLAIN and COPY ... TO STDOUT';

/**
 * Function names (and prefixes) the port refuses: session advisory locks outlive the rollback,
 * sleeping holds up the processor, the file functions and COPY to a file reach the server's files,
 * query_to_xml and ts_stat run SQL text that this check never sees, and set_config could take
 * back the superuser role the query runs without (reader-role.ts). The reader role alone keeps
 * most of these from a query; the names here give the refusal a clear message.
 */
const REFUSED_FUNCTION_PREFIXES = [
  'pg_advisory_',
  'pg_try_advisory_',
  'pg_sleep',
  'pg_read_file',
  'pg_read_binary_file',
  'pg_ls_',
  'pg_stat_file',
  'pg_file_',
  'lo_import',
  'lo_export',
  'query_to_xml',
  'ts_stat',
  'dblink',
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_reload_conf',
  'pg_stat_reset',
  'set_config',
];

interface Token {
  readonly kind: 'word' | 'quoted' | 'other';
  /** Lower case for words; as written for quoted identifiers; the character for 'other'. */
  readonly text: string;
  /** Parenthesis depth at the token. */
  readonly depth: number;
}

export function checkStatement(sql: string): StatementCheck {
  const tokens = tokenize(sql);
  const first = tokens[0];
  if (first === undefined) return { ok: true }; // empty: the database answers EmptyQueryResponse
  const refusedName = tokens.find(
    (t) => t.kind !== 'other' && REFUSED_FUNCTION_PREFIXES.some((p) => t.text.startsWith(p)),
  );
  if (refusedName !== undefined) {
    return refuse(
      SQLSTATE_REFUSED,
      `the embedded SQL port is read-only and does not run ${refusedName.text} (it refuses session locks, sleeping, server files, set_config and SQL run from text)`,
    );
  }
  if (first.kind === 'other' && first.text === '(') return { ok: true };
  if (first.kind === 'word' && READ_COMMANDS.has(first.text)) return { ok: true };
  if (first.kind === 'word' && first.text === 'copy') return checkCopy(tokens);
  const command = first.kind === 'other' ? first.text : first.text.toUpperCase();
  return refuse(
    SQLSTATE_READ_ONLY,
    `the embedded SQL port is read-only: ${command} is refused; it runs ${READ_COMMANDS_TEXT}`,
  );
}

/** COPY is a read only as `COPY table|(query) TO STDOUT`: no FROM, no file, no program. */
function checkCopy(tokens: readonly Token[]): StatementCheck {
  const top = tokens.filter((t) => t.depth === 0 && t.kind === 'word');
  if (top.some((t) => t.text === 'from')) {
    return refuse(
      SQLSTATE_READ_ONLY,
      'the embedded SQL port is read-only: COPY ... FROM is refused; it runs COPY ... TO STDOUT',
    );
  }
  const to = top.findIndex((t) => t.text === 'to');
  if (to === -1 || top[to + 1]?.text !== 'stdout') {
    return refuse(
      SQLSTATE_REFUSED,
      'the embedded SQL port copies only to the client: use COPY ... TO STDOUT (psql: \\copy ... to FILE)',
    );
  }
  return { ok: true };
}

function refuse(code: string, message: string): StatementCheck {
  return { ok: false, code, message };
}

/**
 * Words, quoted identifiers and single characters of `sql`, skipping white space, comments and
 * string constants ('...', E'...', $tag$...$tag$). An unterminated constant or comment ends the
 * scan; the database reports the syntax error.
 */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let depth = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i] ?? '';
    const next = sql[i + 1] ?? '';
    if (/\s/.test(c)) i++;
    else if (c === '-' && next === '-') i = lineEnd(sql, i);
    else if (c === '/' && next === '*') i = blockCommentEnd(sql, i);
    else if (c === "'") i = stringEnd(sql, i, false);
    else if ((c === 'e' || c === 'E') && next === "'") i = stringEnd(sql, i + 1, true);
    else if (c === '"') {
      const end = quotedEnd(sql, i);
      tokens.push({ kind: 'quoted', text: sql.slice(i + 1, end - 1).replaceAll('""', '"'), depth });
      i = end;
    } else if (c === '$' && /[A-Za-z_$]/.test(next)) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (tag === null) {
        tokens.push({ kind: 'other', text: c, depth });
        i++;
      } else i = dollarEnd(sql, i, tag[0]);
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      const word =
        /^[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/.exec(sql.slice(i))?.[0] ?? c;
      tokens.push({ kind: 'word', text: word.toLowerCase(), depth });
      i += word.length;
    } else {
      if (c === ')') depth = Math.max(0, depth - 1);
      tokens.push({ kind: 'other', text: c, depth });
      if (c === '(') depth++;
      i++;
    }
  }
  return tokens;
}

function lineEnd(sql: string, i: number): number {
  const end = sql.indexOf('\n', i);
  return end === -1 ? sql.length : end + 1;
}

/** Block comments nest in PostgreSQL. */
function blockCommentEnd(sql: string, start: number): number {
  let nesting = 0;
  let i = start;
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      nesting++;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      nesting--;
      i += 2;
      if (nesting === 0) return i;
    } else i++;
  }
  return sql.length;
}

/** The end of a '...' constant starting at `start`; backslash escapes count in E'...'. */
function stringEnd(sql: string, start: number, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') i += 2;
    else if (c === "'" && sql[i + 1] === "'") i += 2;
    else if (c === "'") return i + 1;
    else i++;
  }
  return sql.length;
}

function quotedEnd(sql: string, start: number): number {
  let i = start + 1;
  while (i < sql.length) {
    if (sql[i] === '"' && sql[i + 1] === '"') i += 2;
    else if (sql[i] === '"') return i + 1;
    else i++;
  }
  return sql.length;
}

function dollarEnd(sql: string, start: number, tag: string): number {
  const end = sql.indexOf(tag, start + tag.length);
  return end === -1 ? sql.length : end + tag.length;
}
