import { randomBytes, randomUUID } from 'node:crypto';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { deployBinding } from '../../core/approval.js';
import { invalidInput, notFound } from '../../core/errors.js';
import { decodeBase64Url, deployChallengeBytes } from '../../core/webauthn.js';
import type { DeployApprovalFlow } from '../../core/flows/deploy-approval.js';
import { acceptsApprovalMethod, acceptsCodeRequest, deployApprovalFlow } from '../../core/flows/deploy-approval.js';
import type { DeployTarget, Executor } from '../../store/index.js';
import { approvals as approvalsStore, deploys, factors } from '../../store/index.js';
import type { ApprovalService, ApprovalStatus, StartedApproval } from '../approvals/approvals.js';
import { PushStrategy } from '../second-factor/push-strategy.js';
import { parseAssertion, WebAuthnStrategy } from '../second-factor/webauthn-strategy.js';
import { deployChallengeScope } from '../second-factor/webauthn-challenges.js';
import type { SecurityKeyService } from '../security-keys.js';
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

const NONCE_BYTES = 32;

/** What the signed approval says about the key or phone that gave it. */
export type ApprovalEvidence = { credentialId: string | null; nonce: string | null; challenge: string; clientDataJSON: string | null } | { approverId: string | null; requestId: string };
import { APPROVAL_TYP } from './types.js';
import type { Principal } from '../principal.js';

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
    private readonly securityKeys: SecurityKeyService,
    private readonly approvals: ApprovalService,
  ) {}

  /**
   * Sends a code to approve the deploy (or roll back) the person reviewed, by text message or
   * email. Checked like the deploy itself first: a code is only sent to someone who could use it.
   */
  async sendCode(actor: DeployActor, targetId: string, input: { digest: string; method: string; rollbackTo?: string | undefined }, meta: RequestMeta): Promise<SentCode> {
    const reviewed = await reviewDeploy(this.access, actor, targetId, input);
    const method = acceptsCodeRequest(await this.flowOf(reviewed), input.method);
    const user = reviewed.approver;
    if (!user) throw new Error('a protected target was reviewed without its approver');
    await this.methods.assertUsable(user, method);
    const factor = (await factors.listActiveFactors(this.access.db, user.id)).find((f) => f.type === method);
    if (!factor) throw notFound('factor_not_found', `You have no ${method === 'sms' ? 'phone number' : 'email'} factor.`);
    const { target, expected, rollbackOf } = reviewed;
    return this.codes.send({ user, factor, ...deployCodeScope(target.id, expected.digest, method), deploy: { targetName: target.name, rollback: rollbackOf !== null } }, meta);
  }

  /**
   * Judges the approver's proof for exactly the reviewed target and digest; `commit` runs in the
   * transaction that spends it. Backup codes do not approve deploys: they are for getting in.
   * A security key signs a challenge derived from the digest and target (`nonce` comes back from
   * `webAuthnOptions`); a phone signs the deploy's binding, which names the digest. Either way the
   * proof fits this bundle only, and the signed approval names the credential or the phone.
   */
  async approve<T>(
    approver: Principal,
    reviewed: Reviewed,
    input: { method?: string | undefined; code?: string | undefined; nonce?: string | undefined },
    meta: RequestMeta,
    commit: (trx: Executor, approval: ApprovalDraft, method: string) => Promise<T>,
    sessionId?: string,
  ): Promise<T> {
    const method = acceptsApprovalMethod(await this.flowOf(reviewed), input.code ? input.method : undefined);
    const { target, expected } = reviewed;
    const code = input.code ?? '';
    if (method === 'webauthn') {
      const nonce = decodeBase64Url(input.nonce ?? '');
      // No nonce, no derivable challenge: nothing can match, and the verifier says so with its stable code.
      const expectedChallenge = nonce && nonce.length === NONCE_BYTES ? deployChallengeBytes(nonce, target.id, expected.digest).toString('base64url') : '!';
      const parsed = parseAssertion(code);
      // The signed client data travels in the approval: its challenge is what a pipeline recomputes from nonce, target and digest.
      const evidence = { credentialId: parsed?.id ?? null, nonce: input.nonce ?? null, challenge: expectedChallenge, clientDataJSON: parsed?.response.clientDataJSON ?? null };
      const approval = await this.prepare(target, expected.digest, approver, method, undefined, evidence);
      const strategy = new WebAuthnStrategy(this.deps, deployChallengeScope(target.id, expected.digest, { sessionId, userId: approver.id }), expectedChallenge);
      return this.verifier.verifyWith(strategy, approver, code, meta, 'deploy', (trx) => commit(trx, approval, method));
    }
    if (method === 'push') {
      const request = code.length <= 64 ? await approvalsStore.findRequest(this.access.db, code) : undefined;
      const approval = await this.prepare(target, expected.digest, approver, method, undefined, { approverId: request?.device_id ?? null, requestId: code });
      const strategy = new PushStrategy(this.deps, deployBinding(target.id, expected.digest));
      return this.verifier.verifyWith(strategy, approver, code, meta, 'deploy', (trx) => commit(trx, approval, method));
    }
    const approval = await this.prepare(target, expected.digest, approver, method);
    return this.verifier.verify(approver, method, code, meta, 'deploy', (trx) => commit(trx, approval, method), (channel) => deployCodeScope(target.id, expected.digest, channel));
  }

  /**
   * Options for the security key that approves this deploy: the challenge is SHA-256(nonce ||
   * target id || digest) with a fresh random nonce, stored only as a hash of the challenge, single
   * use, short-lived, and good in the approver's session only. The nonce goes back to the browser,
   * which returns it with the assertion, and into the signed approval, so a verifier can recompute
   * the challenge from the digest.
   */
  async webAuthnOptions(actor: DeployActor, targetId: string, input: { digest: string; rollbackTo?: string | undefined }): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; nonce: string }> {
    const reviewed = await reviewDeploy(this.access, actor, targetId, input);
    acceptsApprovalMethod(await this.flowOf(reviewed), 'webauthn');
    const user = reviewed.approver;
    if (!user) throw new Error('a protected target was reviewed without its approver');
    await this.methods.assertUsable(user, 'webauthn');
    const nonce = randomBytes(NONCE_BYTES);
    const { target, expected } = reviewed;
    const sessionId = actor.kind === 'user' ? actor.sessionId : undefined;
    const options = await this.securityKeys.assertionOptions(user, deployChallengeScope(target.id, expected.digest, { sessionId, userId: user.id }), deployChallengeBytes(nonce, target.id, expected.digest));
    return { options, nonce: nonce.toString('base64url') };
  }

  /**
   * Sends the deploy to one of the approver's phones. The phone shows the target and how many
   * changes go out (nothing secret), and signs the binding, which names the target and the digest.
   */
  async requestApproval(actor: DeployActor, targetId: string, input: { digest: string; approverId: string; rollbackTo?: string | undefined }, meta: RequestMeta): Promise<StartedApproval> {
    const reviewed = await reviewDeploy(this.access, actor, targetId, input);
    acceptsApprovalMethod(await this.flowOf(reviewed), 'push');
    const user = reviewed.approver;
    if (!user) throw new Error('a protected target was reviewed without its approver');
    await this.methods.assertUsable(user, 'push');
    const { target, expected, rollbackOf } = reviewed;
    const changes = rollbackOf !== null ? 1 : (await deploys.pendingChanges(this.access.db, target.id)).length;
    const action = rollbackOf !== null ? `Roll back ${target.name}` : `Deploy to ${target.name}`;
    return this.approvals.request(user, input.approverId, 'deploy', deployBinding(target.id, expected.digest), { action, target: target.name, changes }, meta);
  }

  /** Whether the phone has answered this deploy's request (for the reviewed digest only). */
  async approvalStatus(actor: DeployActor, targetId: string, input: { digest: string; requestId: string; rollbackTo?: string | undefined }): Promise<ApprovalStatus> {
    const reviewed = await reviewDeploy(this.access, actor, targetId, input);
    const user = reviewed.approver;
    if (!user) throw invalidInput('code_not_required', 'This target does not ask for an approval.');
    return this.approvals.status(user.id, input.requestId, deployBinding(reviewed.target.id, reviewed.expected.digest));
  }

  /** The approval a review calls for: a proof on a protected target (for the person who reviewed it, by what they hold), none otherwise. */
  async flowOf(reviewed: Reviewed): Promise<DeployApprovalFlow> {
    const approver = reviewed.approver;
    const held = approver ? [...(await factors.listActiveFactors(this.access.db, approver.id)).map((f) => f.type), ...((await this.approvals.hasApprover(approver.id)) ? ['push'] : [])] : [];
    return deployApprovalFlow({
      targetId: reviewed.target.id,
      digest: reviewed.expected.digest,
      rollbackOf: reviewed.rollbackOf,
      requireTwoFactor: approver !== null,
      nowMs: this.deps.clock(),
      codeLifetimeMs: this.deps.settings.codeValidityMs,
      held,
    });
  }

  /** Signed before the transaction: on SQLite the signing key cannot be read while one is open. */
  async prepare(target: DeployTarget, digest: string, user: Principal | null, method: string, approver = user ? `user:${user.id}` : 'system', evidence?: ApprovalEvidence): Promise<ApprovalDraft> {
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
        target: { id: target.id, name: target.name, bundleUrl: `${this.deps.settings.publicUrl}/deploy/${target.public_key}/bundle`, requireTwoFactor: target.require_two_factor },
        deployment: id,
        digest,
        approver: user ? { id: user.id, email: user.email } : { id: approver },
        method,
        // Which key or phone approved: a security key's credential id with the nonce its challenge
        // was derived from, or the phone's id and its request.
        ...(evidence && 'credentialId' in evidence ? { webauthn: evidence } : {}),
        ...(evidence && 'approverId' in evidence ? { phone: evidence } : {}),
      },
      APPROVAL_TYP,
    );
    return { id, at, token };
  }
}
