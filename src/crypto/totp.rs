//! TOTP (RFC 6238) with totp-rs: SHA-1, 6 digits, 30-second steps, one step of drift either
//! way. Which step matched is returned, so the caller can refuse a step used before.

use rand::RngCore as _;
use secrecy::SecretSlice;

use crate::domain::mfa::TotpProvisioning;
use subtle::ConstantTimeEq as _;
use totp_rs::{Algorithm, TOTP};

const DIGITS: usize = 6;
const STEP_SECS: u64 = 30;
const SECRET_BYTES: usize = 20;

/// A new random 160-bit seed.
pub fn new_secret() -> SecretSlice<u8> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret.into()
}

fn totp(secret: &[u8], issuer: &str, account: &str) -> anyhow::Result<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECS,
        secret.to_vec(),
        Some(issuer.replace(':', " ")),
        account.replace(':', " "),
    )
    .map_err(|e| anyhow::anyhow!("invalid TOTP parameters: {e}"))
}

/// The seed as base32, its `otpauth://` URI and a QR code of it.
pub fn provisioning(secret: &[u8], issuer: &str, account: &str) -> anyhow::Result<TotpProvisioning> {
    let totp = totp(secret, issuer, account)?;
    let qr = totp.get_qr_base64().map_err(|e| anyhow::anyhow!("QR code: {e}"))?;
    Ok(TotpProvisioning {
        secret_base32: totp.get_secret_base32().into(),
        otpauth_uri: totp.get_url().into(),
        qr_code: format!("data:image/png;base64,{qr}").into(),
    })
}

/// The time step `code` is valid for at `now` (Unix seconds), within one step of drift.
pub fn matching_step(secret: &[u8], code: &str, now: i64) -> Option<i64> {
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "authd", "user").ok()?;
    let current = now.max(0) as u64 / STEP_SECS;
    let mut found = None;
    for step in [current.saturating_sub(1), current, current + 1] {
        let expected = totp.generate(step * STEP_SECS);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step as i64);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    /// RFC 6238 appendix B, SHA-1 column (8 digits, seed "12345678901234567890").
    #[test]
    fn rfc6238_test_vectors() {
        let totp = TOTP::new(
            Algorithm::SHA1,
            8,
            1,
            30,
            b"12345678901234567890".to_vec(),
            None,
            "t".into(),
        )
        .unwrap();
        for (time, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(totp.generate(time), expected, "T = {time}");
        }
    }

    #[test]
    fn a_code_matches_its_step_and_its_neighbours_only() {
        let seed = new_secret();
        let secret = seed.expose_secret();
        let totp = totp(secret, "authd", "a@example.com").unwrap();
        let now = 1_800_000_015;
        let code = totp.generate(now as u64);
        let step = now / 30;
        assert_eq!(matching_step(secret, &code, now), Some(step));
        assert_eq!(matching_step(secret, &code, now + 30), Some(step), "one step late");
        assert_eq!(matching_step(secret, &code, now - 30), Some(step), "one step early");
        assert_eq!(matching_step(secret, &code, now + 60), None);
        assert_eq!(matching_step(secret, "12345", now), None);
        assert_eq!(matching_step(secret, "abcdef", now), None);
    }

    proptest::proptest! {
        #[test]
        fn a_code_is_accepted_one_step_either_way_and_never_further(
            secret in proptest::collection::vec(proptest::num::u8::ANY, 20),
            now in 60i64..4_000_000_000,
            drift in -3i64..=3,
        ) {
            let totp = totp(&secret, "authd", "user").unwrap();
            let code = totp.generate(now as u64);
            let step = now / 30;
            let at = now + drift * 30;
            let matched = matching_step(&secret, &code, at);
            if drift.abs() <= 1 {
                proptest::prop_assert_eq!(matched, Some(step));
            } else {
                // Another step may share the code by chance (1 in 10^6); never this one.
                proptest::prop_assert_ne!(matched, Some(step));
            }
        }

        #[test]
        fn anything_but_six_digits_is_refused(code in ".{0,12}", now in 0i64..4_000_000_000) {
            let well_formed = code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit());
            proptest::prop_assume!(!well_formed);
            proptest::prop_assert_eq!(matching_step(new_secret().expose_secret(), &code, now), None);
        }
    }

    #[test]
    fn provisioning_gives_uri_and_png() {
        let p = provisioning(new_secret().expose_secret(), "authd", "a@example.com").unwrap();
        let uri = p.otpauth_uri.expose_secret();
        assert!(uri.starts_with("otpauth://totp/"));
        assert!(uri.contains(p.secret_base32.expose_secret()));
        assert!(p.qr_code.expose_secret().starts_with("data:image/png;base64,"));
        assert!(
            !format!("{p:?}").contains(p.secret_base32.expose_secret()),
            "Debug hides the seed"
        );
    }
}
