// The web dashboard's bundle (web/, built by `npm run build` into dist/web/), served read-only on
// the API's own origin (docs/dashboard.md, docs/decisions/0013-dashboard.md). The files are read
// once when the server starts and answered from memory: nothing a request names ever reaches the
// file system, so no path can escape the bundle. `/` is the page (never cached, it names the
// current assets); `/assets/*` carry a content hash in their names and are cached for a year.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build` puts the bundle, seen from dist/src/api/. */
export const DASHBOARD_DIR_DEFAULT = fileURLToPath(new URL('../../web/', import.meta.url));

/** The bundle holds a few dozen files; more means a wrong directory was named. */
const BUNDLE_FILES_MAX = 500;
const BUNDLE_BYTES_MAX = 32 * 1024 * 1024;

/**
 * The page's only sources are this origin: no CDN, no web fonts, no map tiles. Data URLs for the
 * favicon and uPlot's canvas images; WebSockets to the same host ('self' covers ws: and wss:).
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

interface BundleFile {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
  readonly immutable: boolean;
}

export type DashboardBundle =
  | { readonly state: 'ready'; readonly files: ReadonlyMap<string, BundleFile> }
  | { readonly state: 'missing'; readonly dir: string };

/** Reads the bundle in `dir` (index.html at its root); `missing` when it was not built. */
export function loadDashboardBundle(dir: string): DashboardBundle {
  const index = join(dir, 'index.html');
  if (!isFile(index)) return { state: 'missing', dir };
  const files = new Map<string, BundleFile>();
  let bytes = 0;
  for (const path of listFiles(dir)) {
    const rel = relative(dir, path).split(sep).join('/');
    const body = readFileSync(path);
    bytes += body.length;
    if (files.size >= BUNDLE_FILES_MAX || bytes > BUNDLE_BYTES_MAX)
      throw new Error(
        `the dashboard bundle in ${dir} holds more than ${BUNDLE_FILES_MAX} files or ${BUNDLE_BYTES_MAX} bytes`,
      );
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const type = TYPES[extname(rel)] ?? 'application/octet-stream';
    files.set(`/${rel}`, { body, type, etag, immutable: rel.startsWith('assets/') });
  }
  return { state: 'ready', files };
}

/** Registers `GET /` (the page) and a route per bundle file. */
export function registerDashboard(app: FastifyInstance, bundle: DashboardBundle): void {
  if (bundle.state === 'missing') {
    app.get('/', async (_req, reply) =>
      reply.code(404).send({
        error: {
          code: 'not_found',
          message: `the dashboard is not built: no index.html in ${bundle.dir} (run npm run build)`,
          details: { path: '/' },
        },
      }),
    );
    return;
  }
  for (const [path, file] of bundle.files) {
    const answer = async (
      req: { headers: Record<string, unknown> },
      reply: FastifyReply,
    ): Promise<FastifyReply> => sendFile(reply, file, req.headers['if-none-match']);
    if (path === '/index.html') app.get('/', answer);
    app.get(path, answer);
  }
}

function sendFile(reply: FastifyReply, file: BundleFile, ifNoneMatch: unknown): FastifyReply {
  void reply
    .header('content-type', file.type)
    .header('etag', file.etag)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (file.type.startsWith('text/html'))
    void reply.header('content-security-policy', DASHBOARD_CSP);
  if (ifNoneMatch === file.etag) return reply.code(304).send();
  return reply.send(file.body);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw err;
  }
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}
