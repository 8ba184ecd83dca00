import { randomUUID } from 'node:crypto';
import { forbidden, invalidInput, notFound } from '../../core/errors.js';
import type { DeployTarget, Executor, User } from '../../store/index.js';
import { factors } from '../../store/index.js';
import type { RequestMeta, ServiceDeps } from '../context.js';
import type { CodeSender, SentCode } from '../messaging/code-sender.js';
import type { MethodCatalogue } from '../methods.js';
import { deployCodeScope } from '../second-factor/delivered-code-strategy.js';
import type { SecondFactorVerifier } from '../second-factor/verifier.js';
import type { SigningKeyService } from '../signing-keys.js';
import type { DeployAccess } from './access.js';
import type { Reviewed } from './review.js';
import { reviewDeploy } from './review.js';
import type { ApprovalDraft, DeployActor } from './types.js';
import { APPROVAL_TYP } from './types.js';

/**
 * Approving a deploy: the signed approval a pipeline checks against the JWKS, and the fresh code
 * a person enters for a protected target. A text or email code is sent for one target and one
 * bundle digest (`deployCodeScope`): it approves that deploy and nothing else, not a sign-in,
 * not a re-authentication, not another bundle or target.
 */
export class DeployApprovals {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly access: DeployAccess,
    private readonly verifier: SecondFactorVerifier,
    private readonly signingKeys: SigningKeyService,
    private readonly codes: CodeSender,
    private readonly methods: MethodCatalogue,
  ) {}

  /**
   * Sends a code to approve the deploy (or roll back) the person reviewed, by text message or
   * email. Checked like the deploy itself first: a code is only sent to someone who could use it.
   */
  async sendCode(actor: DeployActor, targetId: string, input: { digest: string; method: string; rollbackTo?: string | undefined }, meta: RequestMeta): Promise<SentCode> {
    const method = input.method;
    if (method !== 'sms' && method !== 'email') throw invalidInput('method_not_sendable', 'Only text-message and email codes are sent.');
    const reviewed = await reviewDeploy(this.access, actor, targetId, input);
    const user = reviewed.approver;
    if (!user) throw invalidInput('code_not_required', 'This target does not ask for a code: deploy without one.');
    await this.methods.assertUsable(user, method);
    const factor = (await factors.listActiveFactors(this.access.db, user.id)).find((f) => f.type === method);
    if (!factor) throw notFound('factor_not_found', `You have no ${method === 'sms' ? 'phone number' : 'email'} factor.`);
    const { target, expected, rollbackOf } = reviewed;
    return this.codes.send({ user, factor, ...deployCodeScope(target.id, expected.digest, method), deploy: { targetName: target.name, rollback: rollbackOf !== null } }, meta);
  }

  /**
   * Judges the approver's code for exactly the reviewed target and digest; `commit` runs in the
   * transaction that spends it. Backup codes do not approve deploys: they are for getting in.
   */
  async approve<T>(approver: User, reviewed: Reviewed, input: { method?: string | undefined; code?: string | undefined }, meta: RequestMeta, commit: (trx: Executor, approval: ApprovalDraft, method: string) => Promise<T>): Promise<T> {
    if (!input.method || !input.code) throw forbidden('code_required', 'Enter a current code to deploy to this target.');
    if (input.method === 'backup_code') throw invalidInput('method_not_allowed', 'Deploys need a code from your device, not a backup code.');
    const method = input.method;
    const { target, expected } = reviewed;
    const approval = await this.prepare(target, expected.digest, approver, method);
    return this.verifier.verify(approver, method, input.code, meta, 'deploy', (trx) => commit(trx, approval, method), (channel) => deployCodeScope(target.id, expected.digest, channel));
  }

  /** Signed before the transaction: on SQLite the signing key cannot be read while one is open. */
  async prepare(target: DeployTarget, digest: string, user: User | null, method: string, approver = user ? `user:${user.id}` : 'system'): Promise<ApprovalDraft> {
    const id = randomUUID();
    const at = this.deps.clock();
    const token = await this.signingKeys.sign(
      {
        iss: this.deps.settings.publicUrl,
        aud: 'twofold:deploy',
        sub: approver,
        jti: id,
        iat: Math.floor(at / 1000),
        // A verifier must check the target and that it required a code: one key signs every
        // target's approvals, so an automatic target's approval must not pass for a protected one.
        target: { id: target.id, name: target.name, bundleUrl: `${this.deps.settings.publicUrl}/deploy/${target.public_key}/bundle`, requireTwoFactor: target.require_two_factor === 1 },
        deployment: id,
        digest,
        approver: user ? { id: user.id, email: user.email } : { id: approver },
        method,
      },
      APPROVAL_TYP,
    );
    return { id, at, token };
  }
}
