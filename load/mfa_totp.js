// The full TOTP MFA login (login, choose, code), the code computed here from the seed.
import { check, fail } from 'k6';
import { login, postJson, seedUsers, totp, vus, DURATION } from './lib.js';

export const options = {
  scenarios: { mfa: { executor: 'constant-vus', vus: vus(4), duration: DURATION } },
  thresholds: {
    checks: ['rate>0.99'],
    'http_req_duration{name:POST /mfa/code}': ['p(95)<100'],
  },
};

export function setup() {
  return seedUsers(vus(4)).map((email) => {
    const token = login(email);
    const factor = postJson('/mfa', { strategy: 'TOTP' }, token, 'POST /mfa');
    const secret = factor.json('secret');
    const ok = postJson('/mfa/validate', { id: factor.json('mfaId'), code: totp(secret, Date.now() / 1000) }, token, 'POST /mfa/validate');
    if (ok.status !== 200) fail(`TOTP validation failed: ${ok.status} ${ok.body}`);
    return { email, secret };
  });
}

// A step is accepted once per factor: each user logs in at most once per 30 s step, using
// the step after the one last used (within the accepted drift).
let lastStep = 0;

export default function (users) {
  const user = users[(__VU - 1) % users.length];
  const now = Date.now() / 1000;
  const step = Math.max(Math.floor(now / 30) + 1, lastStep + 1);
  if (step > Math.floor(now / 30) + 1) {
    return;
  }
  const challenge = postJson('/login', { email: user.email, password: 'correct horse battery staple' }, null, 'POST /login');
  const chosen = postJson('/mfa/choose', { hash: challenge.json('hash'), strategy: 'TOTP' }, null, 'POST /mfa/choose');
  const credential = postJson('/mfa/code', { hash: chosen.json('hash'), code: totp(user.secret, step * 30) }, null, 'POST /mfa/code');
  check(credential, { 'mfa login 200': (r) => r.status === 200 && !!r.json('token') });
  lastStep = step;
}
