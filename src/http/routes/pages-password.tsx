import type { FastifyInstance } from 'fastify';
import { isTwofoldError } from '../../core/errors.js';
import type { Services } from '../../services/index.js';
import { RESET_LINK_MS } from '../../services/password-reset.js';
import { ForgotPasswordPage, ResetLinkSentPage } from '../../ui/pages/forgot-password.js';
import { PasswordChangedPage, ResetLinkInvalidPage, ResetPasswordPage } from '../../ui/pages/reset-password.js';
import type { PageKit } from '../page-kit.js';
import { requestMeta } from '../request-context.js';
import { pageStatus, userMessage } from '../pages/messages.js';

type Form = Record<string, string | undefined>;
const formBody = { type: 'object', additionalProperties: { type: 'string', maxLength: 2048 } } as const;

/** A link that is unknown, spent or expired: the page says so instead of showing the form. */
const isDeadLink = (error: unknown) => isTwofoldError(error) && error.code === 'reset_link_invalid';

/** Forgotten password: ask for a link by email, then set a new password with it. */
export function passwordPageRoutes(app: FastifyInstance, services: Services, kit: PageKit): void {
  app.get('/forgot-password', { schema: { hide: true } }, async (request, reply) =>
    kit.html(reply, <ForgotPasswordPage chrome={kit.chrome(request, reply, 'Forgot your password?')} />),
  );

  app.post<{ Body: Form }>('/forgot-password', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    const email = request.body.email ?? '';
    try {
      // The mail goes out after the answer (the service does not wait for it), so neither the
      // page nor its timing tells whether the address has an account.
      await services.passwordReset.request(email, requestMeta(request));
    } catch (error) {
      const message = userMessage(error);
      return kit.html(reply.code(pageStatus(error)), <ForgotPasswordPage chrome={kit.chrome(request, reply, 'Forgot your password?')} email={email} error={message} />);
    }
    return kit.html(reply, <ResetLinkSentPage chrome={kit.chrome(request, reply, 'Check your email')} minutesValid={RESET_LINK_MS / 60_000} />);
  });

  app.get<{ Querystring: { token?: string } }>(
    '/reset-password',
    { schema: { hide: true, querystring: { type: 'object', properties: { token: { type: 'string', maxLength: 256 } } } } },
    async (request, reply) => {
      const token = request.query.token ?? '';
      try {
        const { email } = await services.passwordReset.check(token);
        return kit.html(reply, <ResetPasswordPage chrome={kit.chrome(request, reply, 'Choose a new password')} token={token} email={email} />);
      } catch (error) {
        const message = userMessage(error);
        return kit.html(reply.code(pageStatus(error)), <ResetLinkInvalidPage chrome={kit.chrome(request, reply, 'Reset link')} message={message} />);
      }
    },
  );

  app.post<{ Body: Form }>('/reset-password', { schema: { hide: true, body: formBody } }, async (request, reply) => {
    const token = request.body.token ?? '';
    const password = request.body.password ?? '';
    const showForm = async (status: number, error: string) => {
      try {
        const { email } = await services.passwordReset.check(token);
        return kit.html(reply.code(status), <ResetPasswordPage chrome={kit.chrome(request, reply, 'Choose a new password')} token={token} email={email} error={error} />);
      } catch (linkError) {
        return kit.html(reply.code(pageStatus(linkError)), <ResetLinkInvalidPage chrome={kit.chrome(request, reply, 'Reset link')} message={userMessage(linkError)} />);
      }
    };
    if (password !== (request.body.confirmPassword ?? '')) return showForm(400, 'The two passwords are not the same. Type the new password twice.');
    try {
      const { user } = await services.passwordReset.complete(token, password, requestMeta(request));
      const secondFactor = (await services.factors.list(user.id)).length > 0;
      return kit.html(reply, <PasswordChangedPage chrome={kit.chrome(request, reply, 'Password changed')} secondFactor={secondFactor} />);
    } catch (error) {
      const message = userMessage(error);
      if (isDeadLink(error)) return kit.html(reply.code(pageStatus(error)), <ResetLinkInvalidPage chrome={kit.chrome(request, reply, 'Reset link')} message={message} />);
      return showForm(pageStatus(error), message);
    }
  });
}
