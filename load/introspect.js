// Token introspection, as other services call it.
import { check } from 'k6';
import { login, postJson, seedUsers, vus, DURATION } from './lib.js';

export const options = {
  scenarios: { introspect: { executor: 'constant-vus', vus: vus(32), duration: DURATION } },
  thresholds: {
    'http_req_failed{name:POST /token/introspect}': ['rate<0.01'],
    'http_req_duration{name:POST /token/introspect}': ['p(95)<20', 'p(99)<50'],
  },
};

export function setup() {
  return { tokens: seedUsers(8).map(login) };
}

export default function (data) {
  const token = data.tokens[__VU % data.tokens.length];
  const res = postJson('/token/introspect', { token }, null, 'POST /token/introspect');
  check(res, { 'active': (r) => r.status === 200 && r.json('active') === true });
}
