import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { HOTP, Secret, TOTP, URI } from 'otpauth';
import {
  TOTP_DIGITS,
  TOTP_PERIOD_SECONDS,
  formatSecretForDisplay,
  generateTotpSecret,
  matchTotpCode,
  totpCodeAt,
  totpKeyUri,
  totpStepAt,
} from '../../src/core/totp.js';
import { isTwofoldError } from '../../src/core/errors.js';

const RFC_SECRET_ASCII = '12345678901234567890';
const RFC_SECRET_B32 = Secret.fromLatin1(RFC_SECRET_ASCII).base32;

test('constants', () => {
  assert.equal(TOTP_PERIOD_SECONDS, 30);
  assert.equal(TOTP_DIGITS, 6);
  assert.equal(RFC_SECRET_B32, 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
});

test('RFC 4226 appendix D HOTP vectors', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
  const secret = Secret.fromLatin1(RFC_SECRET_ASCII);
  expected.forEach((code, counter) => {
    assert.equal(HOTP.generate({ secret, counter, digits: 6, algorithm: 'SHA1' }), code, `counter ${counter}`);
    // Our TOTP is HOTP at counter = step, so the same vectors go through our module.
    assert.equal(totpCodeAt(RFC_SECRET_B32, counter * 30_000), code, `step ${counter}`);
  });
});

test('RFC 6238 appendix B SHA-1 vectors; 6-digit codes are the last 6 digits', () => {
  const vectors: Array<[number, string]> = [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ];
  const secret = Secret.fromLatin1(RFC_SECRET_ASCII);
  for (const [seconds, code8] of vectors) {
    const ms = seconds * 1000;
    assert.equal(TOTP.generate({ secret, algorithm: 'SHA1', digits: 8, period: 30, timestamp: ms }), code8);
    assert.equal(totpCodeAt(RFC_SECRET_B32, ms), code8.slice(-6), `t=${seconds}`);
    assert.equal(matchTotpCode({ secret: RFC_SECRET_B32, code: code8.slice(-6), nowMs: ms, window: 0 }), Math.floor(seconds / 30));
  }
});

const OATHTOOL = '/usr/bin/oathtool';

function oathtool(secret: string, epochSeconds: number): string {
  return execFileSync(OATHTOOL, ['--totp', '-b', secret, '-N', `@${epochSeconds}`], { encoding: 'utf8' }).trim();
}

test('agrees with oathtool for 20 random secrets', () => {
  // Deliberately an assertion, not a skip: interoperability is the point.
  assert.ok(existsSync(OATHTOOL), `${OATHTOOL} is required (apt-get install oathtool)`);
  for (let i = 0; i < 20; i++) {
    const secret = generateTotpSecret();
    const epoch = randomInt(1_000_000_000, 4_000_000_000);
    const nowMs = epoch * 1000;
    const code = oathtool(secret, epoch);
    assert.match(code, /^\d{6}$/);
    assert.equal(totpCodeAt(secret, nowMs), code, `secret ${secret} at ${epoch}`);
    assert.equal(matchTotpCode({ secret, code, nowMs, window: 1 }), totpStepAt(nowMs));
    // A code from the previous step (slow user, drifting phone) is accepted as that step.
    const previous = oathtool(secret, epoch - 30);
    if (previous !== code) {
      assert.equal(matchTotpCode({ secret, code: previous, nowMs, window: 1 }), totpStepAt(nowMs) - 1);
    }
  }
});

test('generateTotpSecret: 32 base32 characters of 20 random bytes', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const s = generateTotpSecret();
    assert.match(s, /^[A-Z2-7]{32}$/);
    assert.equal(Secret.fromBase32(s).bytes.length, 20);
    seen.add(s);
  }
  assert.equal(seen.size, 50);
});

test('totpStepAt floors to 30-second steps', () => {
  assert.equal(totpStepAt(0), 0);
  assert.equal(totpStepAt(29_999), 0);
  assert.equal(totpStepAt(30_000), 1);
  assert.equal(totpStepAt(59_000), 1);
  assert.equal(totpStepAt(1111111109_000), 37037036);
});

test('drift window edges', () => {
  const secret = 'JBSWY3DPEHPK3PXP';
  const nowMs = Date.UTC(2026, 10, 25, 12, 0, 15);
  const step = totpStepAt(nowMs);
  const at = (d: number) => totpCodeAt(secret, (step + d) * 30_000);
  const codes = [-2, -1, 0, 1, 2].map(at);
  assert.equal(new Set(codes).size, 5, 'fixture codes must be distinct for this test to mean anything');

  assert.equal(matchTotpCode({ secret, code: at(0), nowMs, window: 1 }), step);
  assert.equal(matchTotpCode({ secret, code: at(-1), nowMs, window: 1 }), step - 1);
  assert.equal(matchTotpCode({ secret, code: at(1), nowMs, window: 1 }), step + 1);
  assert.equal(matchTotpCode({ secret, code: at(-2), nowMs, window: 1 }), null);
  assert.equal(matchTotpCode({ secret, code: at(2), nowMs, window: 1 }), null);

  assert.equal(matchTotpCode({ secret, code: at(0), nowMs, window: 0 }), step);
  assert.equal(matchTotpCode({ secret, code: at(-1), nowMs, window: 0 }), null);
  assert.equal(matchTotpCode({ secret, code: at(1), nowMs, window: 0 }), null);

  assert.equal(matchTotpCode({ secret, code: at(-2), nowMs, window: 2 }), step - 2);
  // Boundaries of the current step itself.
  assert.equal(matchTotpCode({ secret, code: at(0), nowMs: step * 30_000, window: 0 }), step);
  assert.equal(matchTotpCode({ secret, code: at(0), nowMs: step * 30_000 + 29_999, window: 0 }), step);
});

test('input normalisation and malformed codes', () => {
  const secret = 'JBSWY3DPEHPK3PXP';
  const nowMs = Date.UTC(2026, 0, 1);
  const step = totpStepAt(nowMs);
  const code = totpCodeAt(secret, nowMs);
  const spaced = `${code.slice(0, 3)} ${code.slice(3)}`;
  assert.equal(matchTotpCode({ secret, code: spaced, nowMs, window: 1 }), step);
  assert.equal(matchTotpCode({ secret, code: ` ${code}\n`, nowMs, window: 1 }), step);
  const fullWidth = [...code].map((d) => String.fromCodePoint(0xff10 + Number(d))).join('');
  for (const bad of ['', code.slice(0, 5), code + '0', '0' + code, 'abcdef', code.slice(0, 5) + 'a', fullWidth, `${code}-`, '-' + code.slice(1), '1e5000']) {
    assert.equal(matchTotpCode({ secret, code: bad, nowMs, window: 1 }), null, JSON.stringify(bad));
  }
});

test('near the epoch no negative counters are tried', () => {
  const secret = 'JBSWY3DPEHPK3PXP';
  assert.equal(matchTotpCode({ secret, code: totpCodeAt(secret, 0), nowMs: 0, window: 1 }), 0);
});

test('bad secret or window is a TwofoldError', () => {
  assert.throws(() => totpCodeAt('not base32 1!', 0), (e: unknown) => isTwofoldError(e) && e.code === 'totp_secret_invalid');
  assert.throws(() => totpCodeAt('', 0), (e: unknown) => isTwofoldError(e) && e.code === 'totp_secret_invalid');
  assert.throws(
    () => matchTotpCode({ secret: 'JBSWY3DPEHPK3PXP', code: '123456', nowMs: 0, window: -1 }),
    (e: unknown) => isTwofoldError(e) && e.code === 'totp_window_invalid',
  );
});

test('key URI has the exact Key URI format and order', () => {
  assert.equal(
    totpKeyUri({ issuer: 'Twofold', account: 'alice', secret: 'JBSWY3DPEHPK3PXP' }),
    'otpauth://totp/Twofold:alice?secret=JBSWY3DPEHPK3PXP&issuer=Twofold&algorithm=SHA1&digits=6&period=30',
  );
});

test('key URI percent-encodes spaces, @ and : in issuer and account', () => {
  const uri = totpKeyUri({ issuer: 'Acme Co @ Ops', account: 'bob smith:2@example.com', secret: 'JBSWY3DPEHPK3PXP' });
  assert.equal(
    uri,
    'otpauth://totp/Acme%20Co%20%40%20Ops:bob%20smith%3A2%40example.com' +
      '?secret=JBSWY3DPEHPK3PXP&issuer=Acme%20Co%20%40%20Ops&algorithm=SHA1&digits=6&period=30',
  );
  assert.ok(!uri.includes('+'));
  // otpauth's own parser (which splits the label like the apps do) reads it back intact.
  const parsed = URI.parse(uri);
  assert.ok(parsed instanceof TOTP);
  assert.equal(parsed.issuer, 'Acme Co @ Ops');
  assert.equal(parsed.label, 'bob smith:2@example.com');
  assert.equal(parsed.secret.base32, 'JBSWY3DPEHPK3PXP');
  assert.equal(parsed.digits, 6);
  assert.equal(parsed.period, 30);
  assert.equal(parsed.algorithm, 'SHA1');
});

test('key URI refuses an issuer with a colon, which apps would split on', () => {
  // Parsers treat both ":" and "%3A" as the issuer/account separator, so
  // encoding cannot save it: otpauth would read the account as " Ops:bob".
  assert.equal(URI.parse('otpauth://totp/Acme%3A%20Ops:bob?secret=JBSWY3DPEHPK3PXP').label, ' Ops:bob');
  for (const issuer of ['Acme: Ops', '']) {
    assert.throws(
      () => totpKeyUri({ issuer, account: 'bob', secret: 'JBSWY3DPEHPK3PXP' }),
      (e: unknown) => isTwofoldError(e) && e.code === 'totp_issuer_invalid',
    );
  }
  assert.throws(
    () => totpKeyUri({ issuer: 'Acme', account: '', secret: 'JBSWY3DPEHPK3PXP' }),
    (e: unknown) => isTwofoldError(e) && e.code === 'totp_account_invalid',
  );
});

test('formatSecretForDisplay groups by four', () => {
  assert.equal(formatSecretForDisplay('JBSWY3DPEHPK3PXP'), 'JBSW Y3DP EHPK 3PXP');
  assert.equal(formatSecretForDisplay('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'), 'GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ');
  assert.equal(formatSecretForDisplay('ABCDEF'), 'ABCD EF');
});
