// A protected route: signature check, revocation check, three indexed reads.
import http from 'k6/http';
import { check } from 'k6';
import { BASE, login, seedUsers, vus, DURATION } from './lib.js';

export const options = {
  scenarios: { me: { executor: 'constant-vus', vus: vus(32), duration: DURATION } },
  thresholds: {
    'http_req_failed{name:GET /user/me}': ['rate<0.01'],
    'http_req_duration{name:GET /user/me}': ['p(95)<20', 'p(99)<50'],
  },
};

export function setup() {
  return { tokens: seedUsers(32).map(login) };
}

export default function (data) {
  const token = data.tokens[__VU % data.tokens.length];
  const res = http.get(`${BASE}/user/me`, { headers: { Authorization: `Bearer ${token}` }, tags: { name: 'GET /user/me' } });
  check(res, { 'me 200': (r) => r.status === 200 });
}
