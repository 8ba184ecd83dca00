/**
 * A phone in the tests: an ECDSA P-256 device key made with node:crypto (as WebCrypto makes it
 * in the approver app), signing exactly what the app signs, in the same IEEE P1363 form.
 */
import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { generateKeyPairSync, sign } from 'node:crypto';
import type { ApprovalDecision } from '../../src/core/approval.js';
import { signedApprovalMessage, signedListingMessage } from '../../src/core/approval.js';
import type { TestClient } from './client.js';

export interface PendingRequest {
  requestId: string;
  challenge: string;
  binding: string;
  choices: number[];
  description: Record<string, unknown>;
  expiresAt: string;
}

export class FakePhone {
  readonly privateKey: KeyObject;
  readonly publicJwk: Record<string, unknown>;
  deviceId = '';

  constructor() {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = pair.privateKey;
    this.publicJwk = pair.publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  }

  sign(message: string, key: KeyObject = this.privateKey): string {
    return sign('sha256', Buffer.from(message, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  }

  /** Pairs through the link's token (the fragment of the QR code's URL). */
  async pair(client: TestClient, url: string, name = 'Pixel 8', subscription?: unknown): Promise<void> {
    const token = new URL(url).hash.replace(/^#pair=/, '');
    const res = await client.post('/api/v1/approver/pair', { token, name, publicKey: this.publicJwk, ...(subscription ? { subscription } : {}) });
    assert.equal(res.status, 201, res.text);
    this.deviceId = res.json?.deviceId as string;
  }

  async pending(client: TestClient, nowMs: number): Promise<PendingRequest[]> {
    const res = await client.post('/api/v1/approver/pending', { deviceId: this.deviceId, timestamp: nowMs, signature: this.sign(signedListingMessage(this.deviceId, nowMs)) });
    assert.equal(res.status, 200, res.text);
    return res.json?.requests as PendingRequest[];
  }

  decisionBody(request: PendingRequest, decision: ApprovalDecision, number: number | null, key?: KeyObject) {
    const message = signedApprovalMessage({ requestId: request.requestId, challenge: request.challenge, binding: request.binding, number, decision });
    return { requestId: request.requestId, decision, ...(number === null ? {} : { number }), signature: this.sign(message, key) };
  }
}
