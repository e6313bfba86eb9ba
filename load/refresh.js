// Refresh chains: each virtual user keeps rotating its own session's token.
import http from 'k6/http';
import { check } from 'k6';
import { BASE, login, seedUsers, vus, DURATION } from './lib.js';

export const options = {
  scenarios: { refresh: { executor: 'constant-vus', vus: vus(32), duration: DURATION } },
  thresholds: {
    'http_req_failed{name:POST /login/refresh}': ['rate<0.01'],
    'http_req_duration{name:POST /login/refresh}': ['p(95)<50', 'p(99)<100'],
  },
};

export function setup() {
  const emails = seedUsers(Math.min(32, vus(32)));
  return { emails };
}

let token = null;

export default function (data) {
  if (!token) token = login(data.emails[(__VU - 1) % data.emails.length]);
  const res = http.post(`${BASE}/login/refresh`, null, {
    headers: { Authorization: `Bearer ${token}` },
    tags: { name: 'POST /login/refresh' },
  });
  if (check(res, { 'refresh 200': (r) => r.status === 200 })) {
    token = res.json('token');
  } else {
    token = null;
  }
}
