// Password reset requests: answered at once (202), whatever the address.
import { check } from 'k6';
import { postJson, seedUsers, vus, DURATION } from './lib.js';

export const options = {
  scenarios: { reset: { executor: 'constant-vus', vus: vus(8), duration: DURATION } },
  thresholds: {
    'http_req_failed{name:POST /password/forget}': ['rate<0.01'],
    'http_req_duration{name:POST /password/forget}': ['p(95)<20'],
  },
};

export function setup() {
  return { emails: seedUsers(4) };
}

export default function (data) {
  const known = __ITER % 2 === 0;
  const email = known ? data.emails[__ITER % data.emails.length] : `nobody-${__VU}-${__ITER}@example.com`;
  const res = postJson('/password/forget', { email }, null, 'POST /password/forget');
  check(res, { 'reset 202': (r) => r.status === 202 });
}
