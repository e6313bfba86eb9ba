// panva's oidc-provider (an OpenID Certified OpenID Connect provider), unchanged, as the
// upstream of authd's "Continue with ..." in the browser suite: its own development sign-in
// and consent pages, one confidential client (authd), scope claims from userinfo as the
// library does by default (the ID token carries `sub` only), and RFC 9207 `iss` on the
// redirect. The login typed on its page becomes the person's `sub` and e-mail address.
//
// Usage: node upstream-provider.mjs <port> <client_id> <client_secret> <redirect_uri>
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: true, name: `Upstream ${id.split('@')[0]}` };
      },
    };
  },
  // The development pages are the provider's own; authd never sees them.
  features: { devInteractions: { enabled: true } },
});
provider.proxy = false;
provider.listen(Number(port), '127.0.0.1', () => {
  console.log(`oidc-provider ready at ${issuer}`);
});
