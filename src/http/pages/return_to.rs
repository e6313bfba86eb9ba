//! Where a page may send a person after they sign in: only to a path of this server.
//! Anything else (another host, a scheme, a protocol-relative `//host`, a backslash that
//! browsers read as a slash, control characters) falls back to the account page, so
//! `return_to` cannot be turned into an open redirect.

/// Where a person lands when `return_to` is missing or refused.
pub const HOME: &str = "/ui/account";

/// Longest `return_to` kept.
const MAX_LEN: usize = 2048;

/// `candidate` when it is a path of this server, else `None`.
pub fn own_path(candidate: &str) -> Option<&str> {
    let safe = candidate.len() <= MAX_LEN
        && candidate.starts_with('/')
        && !candidate.starts_with("//")
        && !candidate.contains('\\')
        && !candidate.chars().any(char::is_control)
        && !candidate.starts_with("/ui/logout");
    safe.then_some(candidate)
}

/// Where to go after signing in: `return_to` when it is safe, else [`HOME`].
pub fn destination(return_to: Option<&str>) -> &str {
    return_to.and_then(own_path).unwrap_or(HOME)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_paths_are_kept() {
        assert_eq!(destination(Some("/ui/account")), "/ui/account");
        assert_eq!(
            destination(Some("/oauth2/authorize?client_id=a&state=b")),
            "/oauth2/authorize?client_id=a&state=b"
        );
    }

    #[test]
    fn other_places_fall_back_to_the_account_page() {
        for refused in [
            "https://evil.example",
            "//evil.example/ui/account",
            "/\\evil.example",
            "\\\\evil.example",
            "javascript:alert(1)",
            "evil.example",
            "/ui/account\r\nSet-Cookie: x=y",
            "/ui/logout",
            "",
        ] {
            assert_eq!(destination(Some(refused)), HOME, "{refused:?}");
        }
        assert_eq!(destination(None), HOME);
    }

    #[test]
    fn an_overlong_path_is_refused() {
        let long = format!("/{}", "a".repeat(MAX_LEN));
        assert_eq!(own_path(&long), None);
    }
}
