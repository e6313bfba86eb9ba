// Password login throughput: argon2id-bound by design.
import { login, seedUsers } from './lib.js';

export const options = {
  scenarios: {
    login: {
      executor: 'constant-vus',
      vus: Number(__ENV.VUS || 8),
      duration: __ENV.DURATION || '15s',
    },
  },
  thresholds: {
    'http_req_failed{name:POST /login}': ['rate<0.01'],
    'http_req_duration{name:POST /login}': ['p(95)<1000'],
  },
};

export function setup() {
  return { emails: seedUsers(20) };
}

export default function (data) {
  login(data.emails[(__VU + __ITER) % data.emails.length]);
}
