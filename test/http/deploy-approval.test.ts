import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JWK } from 'jose';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { currentBackend } from '../helpers/backend.js';
import { deployWorld, fetchBundle } from '../helpers/deploys.js';
import { startTestServer } from '../helpers/server.js';

const backend = currentBackend();
const TYP = 'twofold-deploy-approval+jwt';

/** Flips one character of the token's payload segment to another valid base64url character. */
function tamperPayload(token: string, at: number): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const i = at % payload.length;
  const flipped = payload[i] === 'A' ? 'B' : 'A';
  return [header, payload.slice(0, i) + flipped + payload.slice(i + 1), signature].join('.');
}

test(`the approval served with the bundle verifies against the published JWKS, names what was approved, and tampering is detected (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const deployer = await world.person();
  await world.authorise(target, [deployer]);
  await world.addChange(deployer.client, target, 'agents/x', { state: 'started' }, 'Agent X started');
  const deployed = await world.deployNow(deployer, target);
  const served = await fetchBundle(target.bundleUrl);
  assert.equal(served.status, 200);
  assert.ok(served.approval, 'the bundle carries its approval');
  assert.equal(served.approval, deployed.approval);

  // A pipeline verifies offline: the JWKS from the well-known URL, nothing else from the server.
  const jwksUrl = new URL('/.well-known/jwks.json', world.server.url);
  const jwksResponse = await fetch(jwksUrl);
  assert.equal(jwksResponse.status, 200);
  const jwks = (await jwksResponse.json()) as { keys: JWK[] };
  assert.ok(jwks.keys.length >= 1);
  for (const key of jwks.keys) {
    assert.equal(key.d, undefined, 'no private key material is published');
    assert.equal(key.kty, 'EC');
    assert.equal(key.use, 'sig');
  }
  const header = decodeProtectedHeader(served.approval);
  assert.equal(header.typ, TYP);
  assert.equal(header.alg, 'ES256');
  assert.ok(jwks.keys.some((k) => k.kid === header.kid), 'signed with a published key');

  const options = { typ: TYP, issuer: world.server.url, audience: 'twofold:deploy', algorithms: ['ES256'], currentDate: new Date(world.clock.now()) };
  const remote = await jwtVerify(served.approval, createRemoteJWKSet(jwksUrl), options);
  const local = await jwtVerify(served.approval, createLocalJWKSet(jwks), options);
  assert.deepEqual(remote.payload, local.payload);
  const claims = remote.payload as Record<string, unknown>;
  assert.deepEqual(claims.target, { id: target.id, name: 'Production', bundleUrl: target.bundleUrl, requireTwoFactor: true });
  assert.equal(claims.deployment, deployed.id);
  assert.equal(claims.deployment, served.deployment);
  assert.equal(claims.jti, deployed.id);
  assert.equal(claims.digest, deployed.digest);
  assert.equal(`"${claims.digest as string}"`, served.etag, 'the approval names the digest of exactly what is served');
  assert.deepEqual(claims.approver, { id: deployer.user.id, email: deployer.email });
  assert.equal(claims.sub, `user:${deployer.user.id}`);
  assert.equal(claims.method, 'totp');
  assert.equal(claims.iat, Math.floor(Date.parse(deployed.createdAt) / 1000), 'the time of the deployment');

  // Tampering anywhere in the payload breaks the signature.
  for (const at of [0, 7, 40, 99]) {
    const forged = tamperPayload(served.approval, at);
    assert.notEqual(forged, served.approval);
    await assert.rejects(jwtVerify(forged, createLocalJWKSet(jwks), options), (e: Error & { code?: string }) => e.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', `flip at ${at}`);
  }
  // A payload rewritten to another digest, re-signed by someone else's key, does not verify either.
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const forgedClaims = { ...claims, digest: `sha256:${'f'.repeat(64)}` };
  const forged = await new SignJWT(forgedClaims).setProtectedHeader({ alg: 'ES256', kid: header.kid!, typ: TYP }).sign(privateKey);
  await assert.rejects(jwtVerify(forged, createLocalJWKSet(jwks), options));
  // ...while the same check accepts it under the forger's own key: the test can tell the two apart.
  const forgerKeys = { keys: [{ ...(await exportJWK(publicKey)), kid: header.kid!, alg: 'ES256' }] };
  assert.equal((await jwtVerify(forged, createLocalJWKSet(forgerKeys), options)).payload.digest, forgedClaims.digest);
  // An approval is not some other kind of token.
  await assert.rejects(jwtVerify(served.approval, createLocalJWKSet(jwks), { ...options, typ: 'JWT' }));
});

test(`every node publishes the same keys, and later deployments keep verifying (${backend})`, async (t) => {
  const world = await deployWorld(t);
  const target = await world.createTarget({ name: 'Production', timing: 'manual', requireTwoFactor: true });
  const deployer = await world.person();
  await world.authorise(target, [deployer]);
  const tokens: string[] = [];
  for (const n of [1, 2]) {
    await world.addChange(deployer.client, target, 'n', n, `Set n to ${n}`);
    tokens.push((await world.deployNow(deployer, target)).approval);
  }
  const jwks = (await (await fetch(`${world.server.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
  // A second node on the same database signs nothing of its own: it publishes the same keys.
  const other = await startTestServer({ clock: world.clock, location: world.server.location });
  try {
    assert.deepEqual((await (await fetch(`${other.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] }, jwks);
  } finally {
    await other.close();
  }
  for (const token of tokens) {
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { typ: TYP, currentDate: new Date(world.clock.now()) });
    assert.equal(payload.target && (payload.target as { id: string }).id, target.id);
    // What a verifier must check besides the digest (README): the target required a code.
    assert.equal((payload.target as { requireTwoFactor?: unknown }).requireTwoFactor, target.requireTwoFactor === true);
  }
  assert.equal(new Set(tokens.map((tk) => decodeProtectedHeader(tk).kid)).size, 1, 'one active key signs them all');
});
