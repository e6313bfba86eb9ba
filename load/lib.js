// Shared helpers for the k6 scenarios: base URL, JSON requests, seeding users, TOTP.
import http from 'k6/http';
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';
import { check, fail } from 'k6';

export const BASE = __ENV.BASE_URL || 'http://127.0.0.1:8080';
export const PASSWORD = 'correct horse battery staple';
/** Scenario length: SOAK=1 runs ten minutes, SMOKE=1 a few seconds. */
export const DURATION = __ENV.SOAK === '1' ? '10m' : __ENV.SMOKE === '1' ? '3s' : __ENV.DURATION || '15s';
/** Virtual users, scaled down to one for the smoke run. */
export function vus(normal) {
  return __ENV.SMOKE === '1' ? 1 : Number(__ENV.VUS || normal);
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };

export function postJson(path, body, token, name) {
  const headers = token ? { ...JSON_HEADERS, Authorization: `Bearer ${token}` } : JSON_HEADERS;
  return http.post(`${BASE}${path}`, JSON.stringify(body), { headers, tags: { name: name || `POST ${path}` } });
}

// Creates `count` users (unique per run) and returns their emails.
export function seedUsers(count) {
  const run = `${Date.now()}-${Math.floor(Math.random() * 1e9)}`;
  const emails = [];
  for (let i = 0; i < count; i++) {
    const email = `load-${run}-${i}@example.com`;
    const res = postJson('/user', { name: `Load ${i}`, email, password: PASSWORD }, null, 'seed');
    if (res.status !== 201) fail(`seeding failed: ${res.status} ${res.body}`);
    emails.push(email);
  }
  return emails;
}

export function login(email) {
  const res = postJson('/login', { email, password: PASSWORD }, null, 'POST /login');
  check(res, { 'login 200': (r) => r.status === 200 });
  return res.status === 200 ? res.json('token') : null;
}

function base32ToBytes(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of text.replace(/=+$/, '')) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return new Uint8Array(out).buffer;
}

/** The RFC 6238 code (SHA-1, 6 digits, 30 s) of a base32 seed at `unixSeconds`. */
export function totp(secretBase32, unixSeconds) {
  const counter = Math.floor(unixSeconds / 30);
  const message = new Uint8Array(8);
  let c = counter;
  for (let i = 7; i >= 0; i--) {
    message[i] = c & 0xff;
    c = Math.floor(c / 256);
  }
  const digest = new Uint8Array(encoding.b64decode(crypto.hmac('sha1', base32ToBytes(secretBase32), message.buffer, 'base64'), 'std'));
  const offset = digest[19] & 0x0f;
  const value =
    ((digest[offset] & 0x7f) << 24) | (digest[offset + 1] << 16) | (digest[offset + 2] << 8) | digest[offset + 3];
  return String(value % 1000000).padStart(6, '0');
}
