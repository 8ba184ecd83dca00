import type { FastifyInstance } from 'fastify';
import { isTwofoldError } from '../../core/errors.js';
import type { Services } from '../../services/index.js';
import { AcceptInvitationPage, InvitationAcceptedPage, InvitationInvalidPage } from '../../ui/pages/invitation.js';
import type { PageKit } from '../page-kit.js';
import { requestMeta } from '../request-context.js';
import { pageStatus, userMessage } from '../pages/messages.js';

type Form = Record<string, string | undefined>;
const formBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 } } as const;

/** An invitation link that is unknown, spent, withdrawn or expired: the page says so instead of showing the form. */
const isDeadLink = (error: unknown) => isTwofoldError(error) && error.code === 'invitation_invalid';

/**
 * The emailed invitation link: the invited person chooses a password here, then signs in
 * through the normal sign-in (which sends them to enrolment when policy requires 2FA).
 */
export function invitationPageRoutes(app: FastifyInstance, services: Services, kit: PageKit): void {
  app.get<{ Querystring: { token?: string } }>(
    '/invitation',
    { schema: { hide: true, querystring: { type: 'object', properties: { token: { type: 'string', maxLength: 256 } } } } },
    async (request, reply) => {
      const token = request.query.token ?? '';
      try {
        const { email } = await services.invitations.check(token);
        return kit.html(reply, <AcceptInvitationPage chrome={kit.chrome(request, reply, 'Choose your password')} token={token} email={email} />);
      } catch (error) {
        return kit.html(reply.code(pageStatus(error)), <InvitationInvalidPage chrome={kit.chrome(request, reply, 'Invitation')} message={userMessage(error)} />);
      }
    },
  );

  app.post<{ Body: Form }>('/invitation', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    const token = request.body.token ?? '';
    const password = request.body.password ?? '';
    const showForm = async (status: number, error: string) => {
      try {
        const { email } = await services.invitations.check(token);
        return kit.html(reply.code(status), <AcceptInvitationPage chrome={kit.chrome(request, reply, 'Choose your password')} token={token} email={email} error={error} />);
      } catch (linkError) {
        return kit.html(reply.code(pageStatus(linkError)), <InvitationInvalidPage chrome={kit.chrome(request, reply, 'Invitation')} message={userMessage(linkError)} />);
      }
    };
    if (password !== (request.body.confirmPassword ?? '')) return showForm(400, 'The two passwords are not the same. Type the password twice.');
    try {
      const { email } = await services.invitations.accept(token, password, requestMeta(request));
      return kit.html(reply, <InvitationAcceptedPage chrome={kit.chrome(request, reply, 'Password set')} email={email} />);
    } catch (error) {
      const message = userMessage(error);
      if (isDeadLink(error)) return kit.html(reply.code(pageStatus(error)), <InvitationInvalidPage chrome={kit.chrome(request, reply, 'Invitation')} message={message} />);
      return showForm(pageStatus(error), message);
    }
  });
}
