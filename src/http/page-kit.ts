import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import type { PageChrome } from '../ui/layout.js';
import { renderDocument } from '../ui/layout.js';
import { SCRIPT } from '../ui/static/script.js';
import { STYLES } from '../ui/static/styles.js';
import { csrfTokenFor } from './csrf.js';
import type { CookieSettings } from './request-context.js';

export interface PageKit {
  chrome(request: FastifyRequest, reply: FastifyReply, title: string): PageChrome;
  html(reply: FastifyReply, node: VNode): FastifyReply;
}

function fingerprint(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** Serves the stylesheet and script under content-hashed names so they cache forever. */
export function installPageKit(app: FastifyInstance, companyName: string, cookies: CookieSettings): PageKit {
  const assets = { css: `/static/app.${fingerprint(STYLES)}.css`, js: `/static/app.${fingerprint(SCRIPT)}.js` };
  const immutable = 'public, max-age=31536000, immutable';
  app.get(assets.css, { schema: { hide: true } }, async (_r, reply) => reply.type('text/css; charset=utf-8').header('Cache-Control', immutable).send(STYLES));
  app.get(assets.js, { schema: { hide: true } }, async (_r, reply) => reply.type('text/javascript; charset=utf-8').header('Cache-Control', immutable).send(SCRIPT));
  return {
    chrome(request, reply, title) {
      return { companyName, title, userName: request.auth?.user.display_name, csrf: csrfTokenFor(request, reply, cookies), assets };
    },
    html(reply, node) {
      return reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(renderDocument(node));
    },
  };
}
