import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import type { PageChrome, PageSection } from '../ui/layout.js';
import { renderDocument } from '../ui/layout.js';
import { SCRIPT } from '../ui/static/script.js';
import { STYLES } from '../ui/static/styles.js';
import { csrfTokenFor } from './csrf.js';
import type { CookieSettings } from './request-context.js';

/** What the header needs to know about the signed-in viewer: whether to show "Admin", and the company name their organisation shows. */
export interface Viewer {
  admin: boolean;
  companyName: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the pages' viewer hook (`PageKit.resolveViewer`) for a signed-in request; null otherwise. */
    viewer: Viewer | null;
  }
}

export interface PageKit {
  chrome(request: FastifyRequest, reply: FastifyReply, title: string): PageChrome;
  html(reply: FastifyReply, node: VNode): FastifyReply;
  /** A hook for the pages: looks up the viewer once per request, so every page's header is the same. */
  resolveViewer(request: FastifyRequest): Promise<void>;
}

/** The header section a path belongs to, so the header can mark it. */
export function sectionOf(path: string): PageSection | undefined {
  if (path === '/admin' || path.startsWith('/admin/')) return 'admin';
  if (path === '/deploy' || path.startsWith('/deploy/')) return 'deploys';
  if (path.startsWith('/account/security') || path.startsWith('/account/activity')) return 'security';
  if (path === '/account' || path.startsWith('/account/')) return 'account';
  return undefined;
}

function fingerprint(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** Serves the stylesheet and script under content-hashed names so they cache forever. */
export function installPageKit(app: FastifyInstance, companyName: string, cookies: CookieSettings, describeViewer?: (user: { id: string; org_id: string }) => Promise<Viewer>): PageKit {
  const assets = { css: `/static/app.${fingerprint(STYLES)}.css`, js: `/static/app.${fingerprint(SCRIPT)}.js` };
  const immutable = 'public, max-age=31536000, immutable';
  app.get(assets.css, { schema: { hide: true } }, async (_r, reply) => reply.type('text/css; charset=utf-8').header('Cache-Control', immutable).send(STYLES));
  app.get(assets.js, { schema: { hide: true } }, async (_r, reply) => reply.type('text/javascript; charset=utf-8').header('Cache-Control', immutable).send(SCRIPT));
  app.decorateRequest('viewer', null);
  return {
    chrome(request, reply, title) {
      const viewer = request.viewer;
      const path = request.url.split('?')[0] ?? '/';
      return {
        companyName: viewer?.companyName ?? companyName,
        title,
        userName: request.auth?.user.display_name,
        ...(viewer?.admin ? { admin: true } : {}),
        section: sectionOf(path),
        path,
        csrf: csrfTokenFor(request, reply, cookies),
        assets,
      };
    },
    async resolveViewer(request) {
      request.viewer = request.auth && describeViewer ? await describeViewer(request.auth.user) : null;
    },
    html(reply, node) {
      return reply.type('text/html; charset=utf-8').header('Cache-Control', 'no-store').send(renderDocument(node));
    },
  };
}
