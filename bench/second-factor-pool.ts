/**
 * The second-step pool shared by `npm run bench` and `npm run bench:scale`.
 */
import { randomUUID } from 'node:crypto';
import { randomToken, sha256 } from '../src/core/crypto.js';
import { offeredMethods, startSignInFlow } from '../src/core/flows/sign-in.js';
import { generateTotpSecret } from '../src/core/totp.js';
import type { Runtime } from '../src/services/bootstrap.js';
import { totpSecretContext } from '../src/services/secret-contexts.js';
import type { User } from '../src/store/index.js';
import { factors, signInFlows, users } from '../src/store/index.js';
import type { PendingSecondFactor } from './protocol.js';

/**
 * Users with one active authenticator and one pending sign-in flow each, written straight
 * through the store (the rows the enrolment and password services would write), so setup
 * pays no argon2 per user. All share the template user's password hash.
 */
export async function prepareSecondFactorPool(runtime: Runtime, template: User, count: number, emailPrefix = 'bench-2fa'): Promise<PendingSecondFactor[]> {
  const { database, services } = runtime;
  const now = services.clock();
  const pool: PendingSecondFactor[] = [];
  const methods = offeredMethods(['totp'], 0);
  await database.db.transaction().execute(async (trx) => {
    for (let i = 0; i < count; i++) {
      const userId = randomUUID();
      const email = `${emailPrefix}-${i}@example.com`;
      await users.insertUser(trx, {
        id: userId,
        org_id: template.org_id,
        email,
        email_normalized: email,
        display_name: `${emailPrefix}-${i}`,
        time_zone: 'UTC',
        password_hash: template.password_hash,
        status: 'active',
        password_changed_at: now,
        created_at: now,
        totp_last_step: null,
        second_factor_locked_until: null,
      });
      const factorId = randomUUID();
      const secret = generateTotpSecret();
      await factors.insertFactor(trx, {
        id: factorId,
        user_id: userId,
        type: 'totp',
        label: 'Authenticator app',
        secret_encrypted: runtime.box.encrypt(secret, totpSecretContext(factorId)),
        status: 'active',
        created_at: now,
        expires_at: null,
        confirmed_at: now,
        last_used_at: now,
      });
      const challenge = randomToken(32);
      const flow = startSignInFlow({ id: randomUUID(), userId, state: 'second_factor_required', methods, nowMs: now, lifetimeMs: services.settings.signInFlowMs, returnTo: null });
      await signInFlows.insertSignInFlow(trx, flow, { tokenHash: sha256(challenge), ip: '127.0.0.1', userAgent: 'bench' });
      pool.push({ challenge, secret });
    }
  });
  return pool;
}
