// Opens SESSIONS sessions (default 100 000) as fast as it can, for the memory figure in
// docs/PERFORMANCE.md. Run it against a server with a cheap argon2 cost, e.g.
//   AUTH_ARGON2_MEMORY_KIB=64 AUTH_ARGON2_ITERATIONS=1 authd
// then read the server's VmRSS.
import { login, seedUsers } from './lib.js';

export const options = {
  scenarios: {
    sessions: { executor: 'shared-iterations', vus: 16, iterations: Number(__ENV.SESSIONS || 100000), maxDuration: '20m' },
  },
  thresholds: { 'http_req_failed{name:POST /login}': ['rate<0.01'] },
};

export function setup() {
  return { emails: seedUsers(50) };
}

export default function (data) {
  login(data.emails[(__VU + __ITER) % data.emails.length]);
}
