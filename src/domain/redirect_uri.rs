//! The rules for the URIs a client registers: redirect URIs (RFC 6749 §3.1.2, RFC 8252,
//! RFC 9700 §2.1: absolute, exact, no userinfo, wildcard or control characters; `http` only
//! on loopback) and an API's resource URI (RFC 8707 §2), and the one normalised form every
//! comparison and redirect uses.

use std::net::IpAddr;

use url::Url;

use super::oauth::MAX_REDIRECT_URIS;
use super::oauth::MAX_REDIRECT_URI_LEN;
use super::AuthError;

/// The registered URI of `list` that `uri` names once both are normalised.
pub(super) fn registered<'a>(list: &'a [String], uri: &str) -> Option<&'a str> {
    let wanted = normalise_uri(uri)?;
    list.iter()
        .find(|candidate| normalise_uri(candidate).as_deref() == Some(wanted.as_str()))
        .map(String::as_str)
}

/// The one form a URI is compared in: parsed and serialised again (scheme and host in
/// lower case, default port dropped, percent-encoding made uniform), so two spellings of
/// one address match and nothing but a parsable URI matches anything.
pub fn normalise_uri(uri: &str) -> Option<String> {
    if uri.chars().any(char::is_control) {
        return None;
    }
    Url::parse(uri).ok().map(String::from)
}

pub(super) fn checked_uris(field: &'static str, uris: Vec<String>) -> Result<Vec<String>, AuthError> {
    if uris.len() > MAX_REDIRECT_URIS {
        return Err(AuthError::invalid(field, format!("at most {MAX_REDIRECT_URIS}")));
    }
    let mut kept: Vec<String> = Vec::with_capacity(uris.len());
    for uri in uris {
        check_redirect_uri(field, &uri)?;
        let uri = normalise_uri(&uri).ok_or_else(|| AuthError::invalid(field, "each must be an absolute URI"))?;
        if !kept.contains(&uri) {
            kept.push(uri);
        }
    }
    Ok(kept)
}

/// An API's URI (RFC 8707 §2): absolute, https (http on loopback), no fragment, no
/// userinfo; kept in its normalised form.
pub(super) fn check_resource(uri: &str) -> Result<String, AuthError> {
    let bad = |reason: &str| AuthError::invalid("resource", reason.to_owned());
    check_redirect_uri("resource", uri)?;
    let url = Url::parse(uri).map_err(|_| bad("an absolute URI"))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(bad("an https URI (http on loopback)"));
    }
    normalise_uri(uri).ok_or_else(|| bad("an absolute URI"))
}

/// A redirect URI must be absolute, without a fragment (RFC 6749 §3.1.2), and `https`,
/// except `http` on a loopback host (RFC 8252 §7.3) or a native app's own scheme
/// (`com.example.app:/callback`, RFC 8252 §7.1).
pub fn check_redirect_uri(field: &'static str, uri: &str) -> Result<(), AuthError> {
    if uri.len() > MAX_REDIRECT_URI_LEN {
        return Err(AuthError::invalid(field, "a URI is too long"));
    }
    if uri.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(AuthError::invalid(field, "a URI has no spaces or control characters"));
    }
    let parsed = Url::parse(uri).map_err(|_| AuthError::invalid(field, "each must be an absolute URI"))?;
    if parsed.fragment().is_some() {
        return Err(AuthError::invalid(field, "a redirect URI has no fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(AuthError::invalid(field, "a URI carries no user name or password"));
    }
    if uri.contains('*') {
        return Err(AuthError::invalid(field, "no wildcards: register each URI exactly"));
    }
    let hierarchical = uri
        .get(..parsed.scheme().len() + 3)
        .is_some_and(|start| start.eq_ignore_ascii_case(&format!("{}://", parsed.scheme())));
    if matches!(parsed.scheme(), "http" | "https") && !hierarchical {
        return Err(AuthError::invalid(field, "write the URI in full: scheme://host/path"));
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        "http" => Err(AuthError::invalid(
            field,
            "http only for loopback (127.0.0.1, [::1], localhost)",
        )),
        "javascript" | "data" | "file" | "vbscript" => Err(AuthError::invalid(field, "that scheme is not allowed")),
        scheme if scheme.contains('.') => Ok(()),
        _ => Err(AuthError::invalid(
            field,
            "use https, http on loopback, or a reverse-domain scheme of your app",
        )),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::oauth::ClientRequest;

    #[test]
    fn redirect_uris_are_https_loopback_http_or_an_app_scheme() {
        for good in [
            "https://app.example.com/cb",
            "http://127.0.0.1:3000/cb",
            "http://localhost/cb",
            "http://[::1]:8000/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(check_redirect_uri("redirectUris", good).is_ok(), "{good}");
        }
        for bad in [
            "http://app.example.com/cb",
            "https://app.example.com/cb#frag",
            "/relative",
            "javascript:alert(1)",
            "myapp:/cb",
            "https://*.example.com/cb",
            "https://user:pass@x.example/cb",
            "http:/127.0.0.1/cb",
            "https://a.example/cb\r\nSet-Cookie: x=1",
            "https://a.example/c b",
        ] {
            assert!(check_redirect_uri("redirectUris", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_api_registers_its_resource_uri_and_needs_no_grant() {
        let api = ClientRequest {
            name: "Orders API".into(),
            redirect_uris: vec![],
            resource: Some("https://API.example/".into()),
            ..ClientRequest::default()
        };
        let valid = api.clone().validate().unwrap();
        assert_eq!(valid.resource.as_deref(), Some("https://api.example/"));
        assert!(valid.grants.is_empty());
        for bad in ["https://api.example/#x", "ftp://api.example", "http://api.example"] {
            let wrong = ClientRequest {
                resource: Some(bad.into()),
                ..api.clone()
            };
            assert!(wrong.validate().is_err(), "{bad}");
        }
        let public = ClientRequest { public: true, ..api };
        assert!(public.validate().is_err());
    }
}
