// The token endpoint's refresh token grant: each virtual user signs in once through the
// hosted page and the code flow (offline_access), then keeps rotating its refresh token.
import http from 'k6/http';
import { check, fail } from 'k6';
import encoding from 'k6/encoding';
import { BASE, PASSWORD, seedUsers, vus, DURATION } from './lib.js';

export const options = {
  scenarios: { oidc_refresh: { executor: 'constant-vus', vus: vus(8), duration: DURATION } },
  thresholds: {
    'http_req_failed{name:POST /oauth2/token refresh}': ['rate<0.01'],
    'http_req_duration{name:POST /oauth2/token refresh}': ['p(95)<50'],
  },
};

const REDIRECT = 'http://127.0.0.1:9/callback';
const basic = `Basic ${encoding.b64encode(`${__ENV.OIDC_APP_ID}:${__ENV.OIDC_APP_SECRET}`)}`;

/** A refresh token for `email`: hosted sign-in, authorize, code exchange. */
function refreshTokenFor(email) {
  const jar = http.cookieJar();
  jar.clear(BASE);
  const page = http.get(`${BASE}/ui/login`, { tags: { name: 'setup' } });
  const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)[1];
  // What a browser says of a same-origin form; the pages refuse a form that nothing vouches for.
  http.post(`${BASE}/ui/login`, { csrf, email, password: PASSWORD }, {
    redirects: 0, headers: { 'Sec-Fetch-Site': 'same-origin' }, tags: { name: 'setup' },
  });
  const query = `client_id=${__ENV.OIDC_APP_ID}&redirect_uri=${encodeURIComponent(REDIRECT)}` +
    '&response_type=code&scope=openid%20offline_access&state=k6';
  const authorized = http.get(`${BASE}/oauth2/authorize?${query}`, { redirects: 0, tags: { name: 'setup' } });
  const code = /[?&]code=([^&]+)/.exec(authorized.headers.Location || '');
  if (!code) fail(`no code: ${authorized.status} ${authorized.headers.Location}`);
  const exchanged = http.post(`${BASE}/oauth2/token`, {
    grant_type: 'authorization_code', code: decodeURIComponent(code[1]), redirect_uri: REDIRECT,
  }, { headers: { Authorization: basic }, tags: { name: 'setup' } });
  if (exchanged.status !== 200) fail(`code exchange: ${exchanged.status} ${exchanged.body}`);
  return exchanged.json('refresh_token');
}

export function setup() {
  return { tokens: seedUsers(vus(8)).map(refreshTokenFor) };
}

let token = null;

export default function (data) {
  if (!token) token = data.tokens[(__VU - 1) % data.tokens.length];
  const res = http.post(`${BASE}/oauth2/token`, { grant_type: 'refresh_token', refresh_token: token }, {
    headers: { Authorization: basic },
    tags: { name: 'POST /oauth2/token refresh' },
  });
  if (check(res, { 'refresh 200': (r) => r.status === 200 })) token = res.json('refresh_token');
}
