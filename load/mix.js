// A realistic mix: mostly protected reads and introspection, some refreshes, few logins.
import http from 'k6/http';
import { check } from 'k6';
import { BASE, login, postJson, seedUsers, vus, DURATION } from './lib.js';

export const options = {
  scenarios: { mix: { executor: 'constant-vus', vus: vus(32), duration: DURATION } },
  thresholds: { http_req_failed: ['rate<0.01'], 'http_req_duration{name:GET /user/me}': ['p(99)<50'] },
};

export function setup() {
  return { emails: seedUsers(16) };
}

let token = null;

export default function (data) {
  const email = data.emails[__VU % data.emails.length];
  if (!token || __ITER % 500 === 0) token = login(email);
  const roll = Math.random();
  if (roll < 0.7) {
    const res = http.get(`${BASE}/user/me`, { headers: { Authorization: `Bearer ${token}` }, tags: { name: 'GET /user/me' } });
    check(res, { 'me 200': (r) => r.status === 200 });
  } else if (roll < 0.9) {
    const res = postJson('/token/introspect', { token }, null, 'POST /token/introspect');
    check(res, { 'introspect 200': (r) => r.status === 200 });
  } else {
    const res = http.post(`${BASE}/login/refresh`, null, { headers: { Authorization: `Bearer ${token}` }, tags: { name: 'POST /login/refresh' } });
    if (check(res, { 'refresh 200': (r) => r.status === 200 })) token = res.json('token');
  }
}
