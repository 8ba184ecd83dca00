import type { FastifyReply, FastifyRequest } from 'fastify';
import { isTwofoldError } from '../../core/errors.js';
import { formatInTimeZone } from '../../core/time-zone.js';
import { sessionActor } from '../../services/actor.js';
import type { Services } from '../../services/index.js';
import type { AuthenticatedSession } from '../../services/sessions.js';
import type { ManagedOrganisation } from '../../ui/admin-nav.js';
import type { PageChrome } from '../../ui/layout.js';
import { MessagePage } from '../../ui/pages/message.js';
import { describeError } from '../errors.js';
import type { PageKit } from '../page-kit.js';
import { userMessage } from './messages.js';

export const adminFormBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 } } as const;

export const reauthPath = (next: string) => `/reauthenticate?next=${encodeURIComponent(next)}`;

/** What the admin pages share: the guard in front of every page and form, and how refusals are shown. */
export interface AdminPages {
  chrome(request: FastifyRequest, reply: FastifyReply, title: string): PageChrome;
  /**
   * Signed in, admin, and confirmed recently (password, plus a code when the admin holds a
   * factor); otherwise answers the request itself and returns null. Admin is checked first, so
   * a non-admin is not asked to re-authenticate for nothing. This is for the browser's sake (a
   * stale GET goes to the confirmation page and comes back); the admin use cases check the
   * same again themselves, and that is what protects them.
   */
  guard(request: FastifyRequest, reply: FastifyReply, returnTo: string): Promise<AuthenticatedSession | null>;
  /** A page with the reason a request was refused, under the refusal's status. */
  problem(request: FastifyRequest, reply: FastifyReply, error: unknown, back: { href: string; label: string }): Promise<FastifyReply>;
  /** The admin's own organisation and every one below it, in tree order. */
  managedOrganisations(auth: AuthenticatedSession): Promise<ManagedOrganisation[]>;
  when(auth: AuthenticatedSession, iso: string | null): string | null;
}

export function adminPages(services: Services, kit: PageKit): AdminPages {
  const chrome = (request: FastifyRequest, reply: FastifyReply, title: string): PageChrome => ({ ...kit.chrome(request, reply, title), admin: true });
  return {
    chrome,
    async guard(request, reply, returnTo) {
      const auth = request.auth;
      if (!auth) {
        await reply.redirect('/sign-in', 303);
        return null;
      }
      try {
        await services.reauth.requireAdminSudo(sessionActor(auth));
      } catch (error) {
        if (!isTwofoldError(error)) throw error;
        if (error.code === 'reauthentication_required') {
          if (request.method === 'GET') {
            await reply.redirect(reauthPath(returnTo), 303);
            return null;
          }
          // A form that arrives after the window closed is not replayed: the admin confirms, then sends it again.
          const link = { href: reauthPath(returnTo), label: 'Confirm it is you' };
          await kit.html(reply.code(403), <MessagePage chrome={chrome(request, reply, 'Confirm it is you')} heading="Confirm it is you" text={`${error.message} Nothing was changed.`} link={link} />);
          return null;
        }
        if (error.code === 'not_admin') {
          const link = { href: '/account', label: 'Your account' };
          await kit.html(reply.code(403), <MessagePage chrome={kit.chrome(request, reply, 'Administrators only')} heading="Administrators only" text={error.message} link={link} />);
          return null;
        }
        throw error;
      }
      return auth;
    },
    async problem(request, reply, error, back) {
      const text = userMessage(error);
      const heading = isTwofoldError(error) && error.kind === 'not_found' ? 'Not found' : 'That did not work';
      return kit.html(reply.code(describeError(error).status), <MessagePage chrome={chrome(request, reply, heading)} heading={heading} text={text} link={back} />);
    },
    async managedOrganisations(auth) {
      return services.organisations.managedBy(sessionActor(auth));
    },
    when(auth, iso) {
      return iso === null ? null : formatInTimeZone(Date.parse(iso), auth.user.time_zone);
    },
  };
}
