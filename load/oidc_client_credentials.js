// The token endpoint's client credentials grant: each virtual user is a machine client
// asking for a token (HTTP Basic), as Keycloak's sizing guide and ZITADEL's benchmark count.
import http from 'k6/http';
import { check } from 'k6';
import encoding from 'k6/encoding';
import { BASE, vus, DURATION } from './lib.js';

export const options = {
  scenarios: { client_credentials: { executor: 'constant-vus', vus: vus(32), duration: DURATION } },
  thresholds: {
    'http_req_failed{name:POST /oauth2/token}': ['rate<0.01'],
    'http_req_duration{name:POST /oauth2/token}': ['p(95)<50'],
  },
};

const basic = `Basic ${encoding.b64encode(`${__ENV.OIDC_MACHINE_ID}:${__ENV.OIDC_MACHINE_SECRET}`)}`;

export default function () {
  const res = http.post(`${BASE}/oauth2/token`, { grant_type: 'client_credentials' }, {
    headers: { Authorization: basic },
    tags: { name: 'POST /oauth2/token' },
  });
  check(res, { 'token 200': (r) => r.status === 200 && r.json('access_token') });
}
