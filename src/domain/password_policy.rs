//! The password rule of the contract: 8 to 128 characters and a zxcvbn score of at least 3,
//! with the user's own name and email counted as dictionary words.

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
    let mut words: Vec<&str> = Vec::with_capacity(user_inputs.len() * 3);
    for input in user_inputs {
        words.push(input);
        words.extend(input.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() >= 3));
    }
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
    }

    #[test]
    fn length_limits_are_validation_errors() {
        assert!(matches!(check_password("Xy7#", &[]), Err(AuthError::Validation { .. })));
        let long = "Xy7#".repeat(33);
        assert!(matches!(check_password(&long, &[]), Err(AuthError::Validation { .. })));
    }
}
