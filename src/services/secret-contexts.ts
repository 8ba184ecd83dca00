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

export function factorDestinationContext(factorId: string): string {
  return `destination:${factorId}`;
}

export function providerConfigContext(providerId: string): string {
  return `provider:${providerId}`;
}
