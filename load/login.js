// Password login throughput: argon2id-bound by design; excess is refused fast (503/429).
import { login, seedUsers, vus, DURATION } from './lib.js';

export const options = {
  scenarios: { login: { executor: 'constant-vus', vus: vus(8), duration: DURATION } },
  thresholds: {
    'http_req_failed{name:POST /login}': ['rate<0.01'],
    'http_req_duration{name:POST /login}': ['p(95)<1000', 'p(99)<2000'],
  },
};

export function setup() {
  return { emails: seedUsers(20) };
}

export default function (data) {
  login(data.emails[(__VU + __ITER) % data.emails.length]);
}
