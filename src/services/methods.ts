import { forbidden } from '../core/errors.js';
import type { EffectivePolicy, PolicyMethod } from '../core/policy.js';
import { POLICY_METHODS } from '../core/policy.js';
import type { Executor } from '../store/index.js';
import type { ServiceDeps } from './context.js';
import { CHANNEL_LABELS, channelStatus, unavailableExplanation } from './messaging/channels.js';
import type { PolicyService } from './policy.js';
import type { Principal } from './principal.js';

export interface MethodAvailability {
  method: PolicyMethod;
  available: boolean;
  /** Why not, in words for the user; absent when available. */
  reason?: string;
  /** Text and email: the channel's title as the organisation named it, when it set one up. */
  title?: string;
}

const METHOD_LABELS: Record<PolicyMethod, string> = { totp: 'Authenticator app', ...CHANNEL_LABELS, webauthn: 'Security key or passkey', push: 'Phone approval' };

/**
 * Which second-factor methods a user may enrol and use now: allowed by their effective policy
 * and, for text and email, carried by a provider their organisation has set up and allowed.
 * Enrolment, sign-in and the pages all ask here, so they cannot disagree.
 */
export class MethodCatalogue {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly policy: PolicyService,
  ) {}

  /** Pass `policy` when the caller has just computed it (sign-in does), so it is not read twice. */
  async forUser(user: Principal, db: Executor = this.deps.database.db, policy?: EffectivePolicy): Promise<MethodAvailability[]> {
    const allowed = (policy ?? (await this.policy.effectiveFor(user, db))).allowedMethods.value;
    const out: MethodAvailability[] = [];
    for (const method of POLICY_METHODS) {
      if (!allowed.includes(method)) {
        out.push({ method, available: false, reason: `${METHOD_LABELS[method]} is not allowed by your organisation's policy.` });
        continue;
      }
      // Authenticators, security keys and paired phones hold their own secret: nothing has to carry a message.
      if (method === 'totp' || method === 'webauthn' || method === 'push') {
        out.push({ method, available: true });
        continue;
      }
      const status = await channelStatus(db, user.org_id, method);
      const title = status.entry?.title ? { title: status.entry.title } : {};
      out.push(status.available ? { method, available: true, ...title } : { method, available: false, reason: unavailableExplanation(status), ...title });
    }
    return out;
  }

  async usableMethods(user: Principal, db?: Executor, policy?: EffectivePolicy): Promise<PolicyMethod[]> {
    return (await this.forUser(user, db, policy)).filter((m) => m.available).map((m) => m.method);
  }

  async assertUsable(user: Principal, method: PolicyMethod, db?: Executor): Promise<void> {
    const entry = (await this.forUser(user, db)).find((m) => m.method === method);
    if (!entry?.available) {
      throw forbidden('method_unavailable', entry?.reason ?? 'This method is not available.');
    }
  }
}
