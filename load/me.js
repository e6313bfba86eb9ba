// A protected route: signature check, revocation check, one indexed read.
import http from 'k6/http';
import { check } from 'k6';
import { BASE, login, seedUsers } from './lib.js';

export const options = {
  scenarios: {
    me: {
      executor: 'constant-vus',
      vus: Number(__ENV.VUS || 32),
      duration: __ENV.DURATION || '15s',
    },
  },
  thresholds: {
    'http_req_failed{name:GET /user/me}': ['rate<0.01'],
    'http_req_duration{name:GET /user/me}': ['p(99)<10'],
  },
};

export function setup() {
  return { tokens: seedUsers(32).map(login) };
}

export default function (data) {
  const token = data.tokens[__VU % data.tokens.length];
  const res = http.get(`${BASE}/user/me`, {
    headers: { Authorization: `Bearer ${token}` },
    tags: { name: 'GET /user/me' },
  });
  check(res, { 'me 200': (r) => r.status === 200 });
}
