"""Apache httpd with mod_auth_openidc (Debian's packages) on a random port, in front of a
small CGI that prints who the module says is calling: the relying party and resource
server that operators put in front of applications they cannot change.

`/app/` is protected by `AuthType openid-connect` (a person signs in at authd), `/api/` by
`AuthType oauth20` (an application's bearer token, checked by introspection at authd).
mod_auth_openidc introspects over https only, so a second listener terminates TLS in
front of authd (mod_ssl + mod_proxy, a certificate made for the test), as docs/OIDC.md
shows operators.
"""

import os
import secrets
import shutil
import subprocess
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

from conftest import free_port

APACHE = os.environ.get("AUTH_TEST_APACHE", "/usr/sbin/apache2")
MODULES = Path("/usr/lib/apache2/modules")

WHOAMI = """#!/bin/sh
echo "Content-Type: text/plain"
echo
env | grep -E '^(REMOTE_USER|OIDC_CLAIM_|OAUTH2_CLAIM_)' | sort
"""


class Apache:
    """An httpd on `localhost`: its port is chosen first (the clients it serves register
    their redirect URIs with it), then `start` runs it; its error log explains failures."""

    def __init__(self):
        self.port = free_port()
        self.base = f"http://localhost:{self.port}"
        self.folder = tempfile.mkdtemp(prefix="authd-apache-")
        os.chmod(self.folder, 0o755)
        self.error_log = Path(self.folder) / "error.log"
        self.tls_port = free_port()
        self.process = None

    def start(self, authd, app=None, api=None):
        """`app` is (client id, secret) for `/app/`, `api` (client id, secret) for `/api/`."""
        cgi = Path(self.folder) / "whoami"
        cgi.write_text(WHOAMI)
        cgi.chmod(0o755)
        conf = Path(self.folder) / "httpd.conf"
        conf.write_text(self.config(authd, app, api, cgi))
        # prefork signals its whole process group when it stops: give it a group of its own.
        self.process = subprocess.Popen([APACHE, "-f", str(conf), "-DFOREGROUND"], start_new_session=True)
        self.wait_ready()
        return self

    def url(self, path):
        return self.base + path

    def config(self, authd, app, api, cgi):
        run_as = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
        parts = [
            f"""
            ServerRoot {self.folder}
            ServerName localhost
            Listen 127.0.0.1:{self.port}
            PidFile {self.folder}/httpd.pid
            ErrorLog {self.folder}/error.log
            LogLevel warn auth_openidc:info
            {run_as}
            LoadModule mpm_prefork_module {MODULES}/mod_mpm_prefork.so
            LoadModule authz_core_module {MODULES}/mod_authz_core.so
            LoadModule authz_user_module {MODULES}/mod_authz_user.so
            LoadModule authn_core_module {MODULES}/mod_authn_core.so
            LoadModule alias_module {MODULES}/mod_alias.so
            LoadModule cgi_module {MODULES}/mod_cgi.so
            LoadModule auth_openidc_module {MODULES}/mod_auth_openidc.so
            OIDCCryptoPassphrase {secrets.token_hex(16)}
            <Location /health>
              Require all granted
            </Location>
            ScriptAlias /health {cgi}
            """
        ]
        if app:
            parts.append(
                f"""
                OIDCProviderMetadataURL {authd.url("/.well-known/openid-configuration")}
                OIDCClientID {app[0]}
                OIDCClientSecret {app[1]}
                OIDCRedirectURI {self.url("/app/redirect_uri")}
                OIDCScope "openid email profile"
                OIDCPKCEMethod S256
                OIDCRemoteUserClaim email
                ScriptAlias /app/whoami {cgi}
                <Location /app>
                  AuthType openid-connect
                  Require valid-user
                </Location>
                """
            )
        if api:
            parts.append(self.tls_in_front_of(authd))
            parts.append(
                f"""
                OIDCCABundlePath {self.folder}/tls.crt
                OIDCOAuthTokenIntrospectionInterval 0
                OIDCOAuthIntrospectionEndpoint https://localhost:{self.tls_port}/oauth2/introspect
                OIDCOAuthIntrospectionEndpointAuth client_secret_basic
                OIDCOAuthClientID {api[0]}
                OIDCOAuthClientSecret {api[1]}
                OIDCOAuthRemoteUserClaim client_id
                ScriptAlias /api/whoami {cgi}
                <Location /api>
                  AuthType oauth20
                  Require valid-user
                </Location>
                """
            )
        return "\n".join(textwrap.dedent(part) for part in parts)

    def tls_in_front_of(self, authd):
        """A listener on `tls_port` passing everything to authd, and its certificate."""
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:TRUE",
             "-keyout", f"{self.folder}/tls.key", "-out", f"{self.folder}/tls.crt"],
            check=True, capture_output=True,
        )
        backend = authd.url("/").replace("localhost", "127.0.0.1")
        return f"""
            LoadModule socache_shmcb_module {MODULES}/mod_socache_shmcb.so
            LoadModule ssl_module {MODULES}/mod_ssl.so
            LoadModule proxy_module {MODULES}/mod_proxy.so
            LoadModule proxy_http_module {MODULES}/mod_proxy_http.so
            LoadModule headers_module {MODULES}/mod_headers.so
            Listen 127.0.0.1:{self.tls_port}
            <VirtualHost 127.0.0.1:{self.tls_port}>
              SSLEngine on
              SSLCertificateFile {self.folder}/tls.crt
              SSLCertificateKeyFile {self.folder}/tls.key
              ProxyPass / {backend}
              RequestHeader set X-Forwarded-Proto https
            </VirtualHost>
            """

    def wait_ready(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"httpd exited at start-up:\n{self.log()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"httpd did not start:\n{self.log()}")

    def log(self):
        return self.error_log.read_text() if self.error_log.exists() else ""

    def stop(self):
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=20)
        shutil.rmtree(self.folder, ignore_errors=True)
