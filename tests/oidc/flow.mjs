// One authorization code flow against authd with openid-client, the certified library:
// discovery, an authorization URL with PKCE (S256), state and nonce, the hosted sign-in
// filled in over HTTP with a cookie jar (as a browser would: GET the form, POST it with
// its token and Origin), then the token exchange, in which the library checks the ID
// token (signature from the JWKS, iss, aud, exp, nonce, at_hash), and userinfo.
//
// Input (environment): ISSUER, CLIENT_ID, CLIENT_SECRET (empty: a public client),
// REDIRECT_URI, EMAIL, PASSWORD, SCOPE, ID_TOKEN_ALG, and REFRESH (refresh once), REVOKE
// (revoke), LOGOUT_URI (build the logout URL), MODE=client_credentials (that grant alone). Output: one JSON line with what the Rust test
// checks further (claims, userinfo, the used code, the tokens).
import * as client from "openid-client";

const env = process.env;
const issuer = new URL(env.ISSUER);
const secret = env.CLIENT_SECRET || undefined;
const auth = secret ? client.ClientSecretBasic(secret) : client.None();
const metadata = { ...(secret ? { client_secret: secret } : {}), id_token_signed_response_alg: env.ID_TOKEN_ALG || "RS256" };
const config = await client.discovery(issuer, env.CLIENT_ID, metadata, auth, {
  execute: [client.allowInsecureRequests],
});

// MODE=client_credentials: the client acts for itself; nothing else happens.
if (env.MODE === "client_credentials") {
  const granted = await client.clientCredentialsGrant(config, { scope: env.SCOPE });
  console.log(JSON.stringify({ accessToken: granted.access_token, scope: granted.scope }));
  process.exit(0);
}

const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authorizationUrl = client.buildAuthorizationUrl(config, {
  redirect_uri: env.REDIRECT_URI,
  scope: env.SCOPE || "openid email profile",
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: "S256",
  state,
  nonce,
});

// A browser without a screen: follows redirects by hand, keeps cookies.
const jar = new Map();
async function visit(url, options = {}) {
  const headers = { ...(options.headers || {}) };
  if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const answer = await fetch(url, { ...options, headers, redirect: "manual" });
  for (const cookie of answer.headers.getSetCookie()) {
    const [pair] = cookie.split(";");
    const [name, value] = [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)];
    if (value) jar.set(name, value);
    else jar.delete(name);
  }
  return answer;
}

let answer = await visit(authorizationUrl);
if (answer.status !== 303) throw new Error(`authorize answered ${answer.status}: ${await answer.text()}`);
const loginUrl = new URL(answer.headers.get("location"), issuer);
if (!loginUrl.pathname.startsWith("/ui/login")) throw new Error(`not sent to sign in: ${loginUrl}`);
const page = await (await visit(loginUrl)).text();
// An attribute value as a browser reads it (the pages escape `&`, `/`, quotes, `<`, `>`).
const unescape = (text) =>
  text.replace(/&(amp|quot|lt|gt|#x27|#x2f);/g, (_, e) => ({ amp: "&", quot: '"', lt: "<", gt: ">", "#x27": "'", "#x2f": "/" })[e]);
// The password form's hidden fields (its token, the sign-in flow), as a browser sends them.
const form = page.slice(page.indexOf('action="/ui/login"'), page.indexOf("</form>"));
const hidden = Object.fromEntries(
  [...form.matchAll(/type="hidden" name="([^"]+)" value="([^"]*)"/g)].map(([, name, value]) => [name, unescape(value)]),
);
answer = await visit(new URL("/ui/login", issuer), {
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded", origin: issuer.origin },
  body: new URLSearchParams({ ...hidden, email: env.EMAIL, password: env.PASSWORD }),
});
let location = answer.headers.get("location");
while (answer.status === 303 && !location.startsWith(env.REDIRECT_URI)) {
  answer = await visit(new URL(location, issuer));
  location = answer.headers.get("location");
}
if (!location || !location.startsWith(env.REDIRECT_URI)) {
  throw new Error(`never sent back to the client: ${answer.status} ${await answer.text()}`);
}
const callback = new URL(location);

const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
// With REFRESH set: one rotation through the library (a new access and refresh token).
const refreshed = env.REFRESH ? await client.refreshTokenGrant(config, tokens.refresh_token) : null;
// With REVOKE set: the refresh token (else the access token) revoked through the library.
if (env.REVOKE) await client.tokenRevocation(config, tokens.refresh_token || tokens.access_token);
// With LOGOUT_URI set: the RP-initiated logout URL the library builds, for the test to open.
const logoutUrl = env.LOGOUT_URI
  ? client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token, post_logout_redirect_uri: env.LOGOUT_URI, state: "bye" }).href
  : null;
console.log(
  JSON.stringify({
    claims,
    userinfo,
    state: callback.searchParams.get("state"),
    sentState: state,
    sentNonce: nonce,
    code: callback.searchParams.get("code"),
    verifier,
    accessToken: tokens.access_token,
    idToken: tokens.id_token,
    refreshToken: tokens.refresh_token,
    logoutUrl,
    refreshed: refreshed && { accessToken: refreshed.access_token, refreshToken: refreshed.refresh_token },
    scope: tokens.scope,
    cookies: Object.fromEntries(jar),
  }),
);
