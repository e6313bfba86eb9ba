// The same load as me.js, request for request (the same bearer tokens, the same tags and
// check), against the minimal hyper server (examples/hello.rs): k6 does the same work per
// request on both sides, so the ratio compares the servers. The tokens come from authd
// (BASE_URL), which is still running when `make load` gets here.
import http from 'k6/http';
import { check } from 'k6';
import { login, seedUsers, vus, DURATION } from './lib.js';

const HELLO = __ENV.HELLO_URL || 'http://127.0.0.1:18490';

export const options = { scenarios: { hello: { executor: 'constant-vus', vus: vus(32), duration: DURATION } } };

export function setup() {
  return { tokens: seedUsers(32).map(login) };
}

export default function (data) {
  const token = data.tokens[__VU % data.tokens.length];
  const res = http.get(`${HELLO}/user/me`, { headers: { Authorization: `Bearer ${token}` }, tags: { name: 'GET hello' } });
  check(res, { 'hello 200': (r) => r.status === 200 });
}
