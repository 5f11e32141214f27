// GET /api/mirrors (docs/api.md, decision 0014): on a processor started with mirror node URLs,
// the health of each node as its MirrorWatch last saw it (answered from memory: the page asks
// when a block arrives, and no request of it reaches a node). A mirror node, or a processor
// without mirror URLs, answers 404 not_found: a node's own health is its GET /api/info.

import type { FastifyInstance } from 'fastify';
import type { MirrorWatch } from '../client/mirror-health.js';
import { ChainError } from '../core/errors.js';
import type { ApiRoutes } from './server.js';

export function mirrorsRoutes(watch: MirrorWatch | null, role: 'processor' | 'node'): ApiRoutes {
  return (app: FastifyInstance): void => {
    app.get('/api/mirrors', async () => {
      if (watch === null)
        throw new ChainError(
          'not_found',
          role === 'node'
            ? 'a mirror node does not watch other nodes: its own health is GET /api/info (head, alarm); ask the processor for /api/mirrors'
            : 'this processor was started without mirror node URLs (--mirror, config key "mirrors", HANZENET_MIRRORS)',
          { role },
        );
      return watch.view();
    });
  };
}
