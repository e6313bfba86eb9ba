// Shared helpers for the k6 scenarios: base URL, JSON requests, seeding users.
import http from 'k6/http';
import { check, fail } from 'k6';

export const BASE = __ENV.BASE_URL || 'http://127.0.0.1:8080';
export const PASSWORD = 'correct horse battery staple';
const JSON_HEADERS = { 'Content-Type': 'application/json' };

export function postJson(path, body, token, tags) {
  const headers = token ? { ...JSON_HEADERS, Authorization: `Bearer ${token}` } : JSON_HEADERS;
  return http.post(`${BASE}${path}`, JSON.stringify(body), { headers, tags });
}

// Creates `count` users (unique per run) and returns their emails.
export function seedUsers(count) {
  const run = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const emails = [];
  for (let i = 0; i < count; i++) {
    const email = `load-${run}-${i}@example.com`;
    const res = postJson('/user', { name: `Load ${i}`, email, password: PASSWORD });
    if (res.status !== 201) fail(`seeding failed: ${res.status} ${res.body}`);
    emails.push(email);
  }
  return emails;
}

export function login(email) {
  const res = postJson('/login', { email, password: PASSWORD }, null, { name: 'POST /login' });
  check(res, { 'login 200': (r) => r.status === 200 });
  return res.status === 200 ? res.json('token') : null;
}
