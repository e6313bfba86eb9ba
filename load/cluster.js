// Two instances sharing PostgreSQL + Redis (load/cluster.sh starts them): a mix spread over
// both, MFA logins whose steps hop between them, and a probe that revokes on one instance
// and times how long the other takes to refuse the token (must be under 1 s, also while
// Redis restarts). Zero failed requests and zero failed checks are the thresholds.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Trend } from 'k6/metrics';
import { PASSWORD, postJson, seedUsers, totp, vus, DURATION } from './lib.js';

const LENGTH = __ENV.CLUSTER_DURATION || DURATION;
const INSTANCES = (__ENV.BASE_URLS || 'http://127.0.0.1:18481,http://127.0.0.1:18482').split(',');
const crossing = new Trend('revocation_crossing_ms', true);

export const options = {
  scenarios: {
    mix: { executor: 'constant-vus', vus: vus(24), duration: LENGTH, exec: 'mix' },
    // One VU: a TOTP step is accepted once per factor, so its users must not be shared.
    mfa: { executor: 'constant-vus', vus: 1, duration: LENGTH, exec: 'mfa' },
    probe: { executor: 'constant-vus', vus: 1, duration: LENGTH, exec: 'probe' },
  },
  thresholds: {
    http_req_failed: ['rate==0'],
    checks: ['rate==1'],
    revocation_crossing_ms: ['max<1000'],
  },
};

/** An instance other than the one at `index` (both, in turn). */
function instance(index) {
  return INSTANCES[index % INSTANCES.length];
}

/** A JSON request; `refusalExpected` marks a 401 as the answer sought (the probe's polls). */
function request(base, method, path, body, token, name, refusalExpected = false) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const params = { headers, tags: { name } };
  if (refusalExpected) params.responseCallback = http.expectedStatuses(200, 401);
  return http.request(method, `${base}${path}`, body === null ? null : JSON.stringify(body), params);
}

function signIn(base, email) {
  const res = request(base, 'POST', '/login', { email, password: PASSWORD }, null, 'POST /login');
  check(res, { 'login 200': (r) => r.status === 200 && !!r.json('token') });
  return res.status === 200 ? res.json('token') : null;
}

export function setup() {
  const base = instance(0);
  const plain = seedUsers(vus(24) + 1);
  const withTotp = seedUsers(vus(16)).map((email) => {
    const token = signIn(base, email);
    const factor = request(base, 'POST', '/mfa', { strategy: 'TOTP' }, token, 'POST /mfa');
    const secret = factor.json('secret');
    const code = totp(secret, Date.now() / 1000);
    request(base, 'POST', '/mfa/validate', { id: factor.json('mfaId'), code }, token, 'POST /mfa/validate');
    return { email, secret, lastStep: Math.floor(Date.now() / 30000) };
  });
  return { plain, withTotp };
}

let token = null;
let turn = 0;

/** Mostly protected reads, some refreshes, now and then a logout and a fresh sign-in, each
 * request on the next instance in turn. */
export function mix(data) {
  const email = data.plain[__VU % data.plain.length];
  turn += 1;
  if (!token) token = signIn(instance(turn), email);
  if (!token) return;
  const roll = Math.random();
  if (roll < 0.75) {
    const res = request(instance(turn), 'GET', '/user/me', null, token, 'GET /user/me');
    check(res, { 'me 200': (r) => r.status === 200 });
  } else if (roll < 0.999) {
    const res = request(instance(turn), 'POST', '/login/refresh', null, token, 'POST /login/refresh');
    check(res, { 'refresh 200': (r) => r.status === 200 });
    token = res.status === 200 ? res.json('token') : null;
  } else {
    const res = request(instance(turn), 'POST', '/logout', {}, token, 'POST /logout');
    check(res, { 'logout 200': (r) => r.status === 200 });
    token = null;
  }
}

// A TOTP step is accepted once per factor: each user signs in at most once per 30 s step.
const lastSteps = {};

/** Password on one instance, the factor chosen on the other, the code on the first. */
export function mfa(data) {
  const now = Date.now() / 1000;
  const step = Math.floor(now / 30) + 1;
  const user = data.withTotp.find((u) => (lastSteps[u.email] || u.lastStep) < step);
  if (!user) {
    sleep(0.5);
    return;
  }
  lastSteps[user.email] = step;
  const first = instance(__ITER);
  const other = instance(__ITER + 1);
  const challenge = request(first, 'POST', '/login', { email: user.email, password: PASSWORD }, null, 'POST /login (mfa)');
  const chosen = request(other, 'POST', '/mfa/choose', { hash: challenge.json('hash'), strategy: 'TOTP' }, null, 'POST /mfa/choose');
  const signedIn = request(first, 'POST', '/mfa/code', { hash: chosen.json('hash'), code: totp(user.secret, step * 30) }, null, 'POST /mfa/code');
  if (signedIn.status !== 200) console.warn(`mfa login refused: ${challenge.status} ${chosen.status} ${signedIn.status} ${signedIn.body}`);
  check(signedIn, { 'mfa login (password on one instance, factor on the other) 200': (r) => r.status === 200 && !!r.json('token') });
}

/** Milliseconds until `base` refuses `token` (polling every 10 ms, giving up after 3 s). */
function refusedAfter(base, token) {
  const started = Date.now();
  while (Date.now() - started < 3000) {
    const res = request(base, 'GET', '/user/me', null, token, 'GET /user/me (probe)', true);
    if (res.status === 401) return Date.now() - started;
    sleep(0.01);
  }
  return Date.now() - started;
}

let probeToken = null;

/** Revokes on one instance (a logout, then a rotation) and times the other's refusal. */
export function probe(data) {
  const email = data.plain[0];
  const [here, there] = __ITER % 2 === 0 ? [instance(0), instance(1)] : [instance(1), instance(0)];
  if (!probeToken) probeToken = signIn(here, email);
  const known = request(there, 'GET', '/user/me', null, probeToken, 'GET /user/me (probe)');
  check(known, { 'probe token valid on the other instance': (r) => r.status === 200 });

  const refreshed = request(here, 'POST', '/login/refresh', null, probeToken, 'POST /login/refresh (probe)');
  check(refreshed, { 'probe refresh 200': (r) => r.status === 200 });
  const rotatedAway = probeToken;
  probeToken = refreshed.json('token');
  const rotationMs = refusedAfter(there, rotatedAway);
  crossing.add(rotationMs, { kind: 'rotation' });
  check(rotationMs, { 'rotated-away token refused on the other instance within 1 s': (ms) => ms < 1000 });

  const out = request(here, 'POST', '/logout', {}, probeToken, 'POST /logout (probe)');
  check(out, { 'probe logout 200': (r) => r.status === 200 });
  const logoutMs = refusedAfter(there, probeToken);
  crossing.add(logoutMs, { kind: 'logout' });
  check(logoutMs, { 'logged-out token refused on the other instance within 1 s': (ms) => ms < 1000 });
  probeToken = null;
  sleep(0.2);
}
