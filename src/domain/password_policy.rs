//! The password rules of the contract. A new password: 8 to 128 characters and a zxcvbn
//! score of at least 3, with the user's own name and email counted as dictionary words. A
//! presented password (login, current password): 1 to 128 characters.

use super::AuthError;

pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 128;
const MIN_SCORE: u8 = 3;

/// Accepts the password or says, without echoing it, why it is refused.
pub fn check_password(password: &str, user_inputs: &[&str]) -> Result<(), AuthError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_LEN..=MAX_PASSWORD_LEN).contains(&chars) {
        return Err(AuthError::invalid(
            "password",
            format!("must be {MIN_PASSWORD_LEN} to {MAX_PASSWORD_LEN} characters"),
        ));
    }
    let words = dictionary_words(user_inputs);
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let estimate = zxcvbn::zxcvbn(password, &words);
    if u8::from(estimate.score()) >= MIN_SCORE {
        return Ok(());
    }
    let feedback = estimate
        .feedback()
        .and_then(|f| f.warning().map(|w| w.to_string()))
        .unwrap_or_else(|| "add more words or characters that are hard to guess".to_owned());
    Err(AuthError::WeakPassword { feedback })
}

/// Checks a password someone presents to prove who they are (login, the current password
/// of a change): it must fit the length bounds, so no oversized input reaches the hasher.
/// `field` names the request field for the error.
pub fn check_presented_password(field: &'static str, password: &str) -> Result<(), AuthError> {
    if password.is_empty() || password.chars().count() > MAX_PASSWORD_LEN {
        return Err(AuthError::invalid(
            field,
            format!("must be 1 to {MAX_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

/// Each input whole, its parts, and its parts run together ("Ana Souza" gives "anasouza"),
/// lower-cased, so a password built from the user's own name or email scores as guessable.
fn dictionary_words(user_inputs: &[&str]) -> Vec<String> {
    let mut words = Vec::new();
    for input in user_inputs {
        let input = input.to_lowercase();
        let parts: Vec<&str> = input
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 3)
            .collect();
        words.push(parts.concat());
        words.extend(parts.iter().map(|p| (*p).to_owned()));
        words.push(input);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strong_passphrase_passes() {
        assert!(check_password("correct horse battery staple 42", &["Ana", "ana@example.com"]).is_ok());
    }

    #[test]
    fn common_passwords_are_weak() {
        assert!(matches!(
            check_password("password123", &[]),
            Err(AuthError::WeakPassword { .. })
        ));
    }

    #[test]
    fn the_users_own_name_does_not_make_a_password_strong() {
        let err = check_password("Marcelinho1987", &["Marcelinho Souza", "marcelinho@example.com"]);
        assert!(matches!(err, Err(AuthError::WeakPassword { .. })), "{err:?}");
        let err = check_password("carlamendes1", &["Carla Mendes", "carla@example.com"]);
        assert!(matches!(err, Err(AuthError::WeakPassword { .. })), "{err:?}");
    }

    #[test]
    fn a_presented_password_is_only_bounded_in_length() {
        assert!(check_presented_password("password", "x").is_ok());
        assert!(matches!(
            check_presented_password("currentPassword", ""),
            Err(AuthError::Validation {
                field: "currentPassword",
                ..
            })
        ));
        assert!(check_presented_password("password", &"é".repeat(MAX_PASSWORD_LEN)).is_ok());
        assert!(check_presented_password("password", &"é".repeat(MAX_PASSWORD_LEN + 1)).is_err());
    }

    #[test]
    fn length_limits_are_validation_errors() {
        assert!(matches!(check_password("Xy7#", &[]), Err(AuthError::Validation { .. })));
        let long = "Xy7#".repeat(33);
        assert!(matches!(check_password(&long, &[]), Err(AuthError::Validation { .. })));
    }
}
