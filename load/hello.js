// The same load as me.js against the minimal hyper server (examples/hello.rs).
import http from 'k6/http';
import { check } from 'k6';
import { vus, DURATION } from './lib.js';

export const options = { scenarios: { hello: { executor: 'constant-vus', vus: vus(32), duration: DURATION } } };

export default function () {
  const res = http.get(`${__ENV.HELLO_URL || 'http://127.0.0.1:18490'}/`, { tags: { name: 'GET hello' } });
  check(res, { 'hello 200': (r) => r.status === 200 });
}
