import { AccountService } from './accounts.js';
import { AuditQueryService } from './audit-query.js';
import { BackupCodeService } from './backup-codes.js';
import type { ServiceDeps } from './context.js';
import { FactorService } from './factors.js';
import { PolicyService } from './policy.js';
import { FailureLimiter } from './rate-limiter.js';
import { ReauthenticationService } from './reauthentication.js';
import { BackupCodeStrategy } from './second-factor/backup-code-strategy.js';
import { TotpStrategy } from './second-factor/totp-strategy.js';
import { SecondFactorVerifier } from './second-factor/verifier.js';
import { SessionService } from './sessions.js';
import { SetupService } from './setup.js';
import { SignOutService } from './sign-out.js';
import { SignInService } from './sign-in.js';
import { TrustedBrowserService } from './trusted-browsers.js';

export type { Clock, RequestMeta, ServiceDeps, ServiceSettings } from './context.js';

export interface Services {
  deps: ServiceDeps;
  accounts: AccountService;
  sessions: SessionService;
  setup: SetupService;
  signIn: SignInService;
  signOut: SignOutService;
  audit: AuditQueryService;
  factors: FactorService;
  backupCodes: BackupCodeService;
  trustedBrowsers: TrustedBrowserService;
  reauth: ReauthenticationService;
  policy: PolicyService;
}

/** Wires the use cases together. The HTTP layer and the CLI both start here. */
export function createServices(deps: ServiceDeps): Services {
  const limiter = new FailureLimiter(deps.database.db, deps.clock);
  const accounts = new AccountService(deps);
  const sessions = new SessionService(deps);
  const backupCodes = new BackupCodeService(deps);
  const trustedBrowsers = new TrustedBrowserService(deps);
  const policy = new PolicyService(deps);
  const verifier = new SecondFactorVerifier(deps, [new TotpStrategy(deps), new BackupCodeStrategy(deps, backupCodes)], limiter);
  const factors = new FactorService(deps, verifier, backupCodes, policy);
  return {
    deps,
    accounts,
    sessions,
    setup: new SetupService(deps, accounts, sessions),
    signIn: new SignInService(deps, limiter, sessions, verifier, trustedBrowsers, policy, factors),
    signOut: new SignOutService(deps),
    audit: new AuditQueryService(deps, accounts),
    factors,
    backupCodes,
    trustedBrowsers,
    reauth: new ReauthenticationService(deps, sessions, verifier, limiter),
    policy,
  };
}
