// Login at 4x what the password pool can take: every request must be answered within 2 s,
// the excess refused fast with 503 (or 429), never queued without bound.
import { check } from 'k6';
import { postJson, PASSWORD, seedUsers, vus, DURATION } from './lib.js';

export const options = {
  scenarios: { overload: { executor: 'constant-vus', vus: vus(64), duration: DURATION } },
  thresholds: {
    'http_req_duration{name:POST /login}': ['max<2000'],
    checks: ['rate>0.99'],
  },
};

export function setup() {
  return { emails: seedUsers(40) };
}

export default function (data) {
  const email = data.emails[(__VU + __ITER) % data.emails.length];
  const res = postJson('/login', { email, password: PASSWORD }, null, 'POST /login');
  check(res, { 'answered 200/503/429': (r) => [200, 503, 429].includes(r.status) });
}
