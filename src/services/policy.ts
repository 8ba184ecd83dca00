import type { User } from '../store/index.js';

/**
 * What organisation policy demands of a user. The policy issue replaces the default with
 * rules per organisation and role; everything that must respect policy asks through here.
 */
export interface SecondFactorPolicy {
  requiresSecondFactor(user: User): Promise<boolean>;
}

export const NO_POLICY: SecondFactorPolicy = {
  async requiresSecondFactor() {
    return false;
  },
};
