import type { SealedCellRef } from '../store/index.js';

/**
 * AAD labels for sealed secrets: a ciphertext only opens for the row it was made for, so a
 * database writer cannot move one user's secret onto another.
 */
export function totpSecretContext(factorId: string): string {
  return `totp:${factorId}`;
}

export function backupCodeContext(userId: string): string {
  return `backup-code:${userId}`;
}

/** A security key's public key: sealed for integrity (a database writer cannot swap in their own key), not for secrecy. */
export function webAuthnKeyContext(factorId: string): string {
  return `webauthn:${factorId}`;
}

export function factorDestinationContext(factorId: string): string {
  return `destination:${factorId}`;
}

export function providerConfigContext(providerId: string): string {
  return `provider:${providerId}`;
}

export function signingKeyContext(kid: string): string {
  return `signing-key:${kid}`;
}

export function oidcPayloadContext(model: string, storedId: string): string {
  return `oidc-payload:${model}:${storedId}`;
}

export function keyMaterialContext(name: string): string {
  return `key-material:${name}`;
}

export function pushSubscriptionContext(deviceId: string): string {
  return `push-subscription:${deviceId}`;
}

/** The context a stored cell was sealed with: what a key rotation and a backup check open it with. */
export function contextOfCell(ref: SealedCellRef): string {
  switch (ref.column) {
    case 'factor':
      return ref.type === 'totp' ? totpSecretContext(ref.id) : ref.type === 'webauthn' ? webAuthnKeyContext(ref.id) : factorDestinationContext(ref.id);
    case 'backup-code':
      return backupCodeContext(ref.userId);
    case 'provider':
      return providerConfigContext(ref.id);
    case 'signing-key':
      return signingKeyContext(ref.kid);
    case 'oidc-payload':
      return oidcPayloadContext(ref.model, ref.id);
    case 'key-material':
      return keyMaterialContext(ref.name);
    case 'approver-device':
      return pushSubscriptionContext(ref.id);
  }
}
