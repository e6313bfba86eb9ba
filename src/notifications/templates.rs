//! Message texts, from the files under `templates/` (compiled in), rendered with minijinja.
//! Each message has `<name>.subject.txt`, `<name>.txt` and `<name>.html` for e-mail and
//! `<name>.sms.txt` for SMS and WhatsApp; `.html` values are escaped.

use minijinja::Environment;
use serde::Serialize;

use crate::domain::notification::{DeliveryChannel, OutgoingMessage};

/// The messages the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// A one-time MFA code; context: `code`.
    MfaCode,
    /// A password reset link; context: `link`.
    PasswordReset,
    /// An e-mail verification link; context: `link`.
    EmailVerification,
    /// A security notice; context: `kind` (see `SecurityNotice::kind`) and its details.
    SecurityNotice,
}

impl Template {
    fn name(self) -> &'static str {
        match self {
            Template::MfaCode => "mfa_code",
            Template::PasswordReset => "password_reset",
            Template::EmailVerification => "email_verification",
            Template::SecurityNotice => "security_notice",
        }
    }
}

/// Every template file, compiled in.
const FILES: &[(&str, &str)] = &[
    (
        "mfa_code.subject.txt",
        include_str!("../../templates/mfa_code.subject.txt"),
    ),
    ("mfa_code.txt", include_str!("../../templates/mfa_code.txt")),
    ("mfa_code.html", include_str!("../../templates/mfa_code.html")),
    ("mfa_code.sms.txt", include_str!("../../templates/mfa_code.sms.txt")),
    (
        "password_reset.subject.txt",
        include_str!("../../templates/password_reset.subject.txt"),
    ),
    ("password_reset.txt", include_str!("../../templates/password_reset.txt")),
    (
        "password_reset.html",
        include_str!("../../templates/password_reset.html"),
    ),
    (
        "password_reset.sms.txt",
        include_str!("../../templates/password_reset.sms.txt"),
    ),
    (
        "email_verification.subject.txt",
        include_str!("../../templates/email_verification.subject.txt"),
    ),
    (
        "email_verification.txt",
        include_str!("../../templates/email_verification.txt"),
    ),
    (
        "email_verification.html",
        include_str!("../../templates/email_verification.html"),
    ),
    (
        "email_verification.sms.txt",
        include_str!("../../templates/email_verification.sms.txt"),
    ),
    (
        "security_notice.subject.txt",
        include_str!("../../templates/security_notice.subject.txt"),
    ),
    (
        "security_notice.txt",
        include_str!("../../templates/security_notice.txt"),
    ),
    (
        "security_notice.html",
        include_str!("../../templates/security_notice.html"),
    ),
    (
        "security_notice.sms.txt",
        include_str!("../../templates/security_notice.sms.txt"),
    ),
];

/// The loaded templates.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn load() -> anyhow::Result<Self> {
        let mut env = Environment::new();
        for (name, source) in FILES {
            env.add_template(name, source)?;
        }
        Ok(Self { env })
    }

    /// Renders `template` for `channel` to `recipient`.
    pub fn render(
        &self,
        template: Template,
        channel: DeliveryChannel,
        recipient: &str,
        context: impl Serialize,
    ) -> anyhow::Result<OutgoingMessage> {
        let context = minijinja::Value::from_serialize(&context);
        let render = |suffix: &str| -> anyhow::Result<String> {
            Ok(self
                .env
                .get_template(&format!("{}.{suffix}", template.name()))?
                .render(&context)?)
        };
        Ok(match channel {
            DeliveryChannel::Email => OutgoingMessage {
                channel,
                recipient: recipient.to_owned(),
                subject: Some(render("subject.txt")?.trim().to_owned()),
                text: render("txt")?,
                html: Some(render("html")?),
            },
            DeliveryChannel::Sms | DeliveryChannel::Whatsapp => OutgoingMessage {
                channel,
                recipient: recipient.to_owned(),
                subject: None,
                text: render("sms.txt")?.trim().to_owned(),
                html: None,
            },
            DeliveryChannel::Webhook => anyhow::bail!("webhook deliveries carry events, not worded messages"),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_template_renders_for_every_channel() {
        let templates = Templates::load().unwrap();
        let email = templates
            .render(
                Template::MfaCode,
                DeliveryChannel::Email,
                "a@example.com",
                json!({ "code": "123456" }),
            )
            .unwrap();
        assert!(email.text.contains("123456"));
        assert!(email.html.unwrap().contains("<strong>123456</strong>"));
        assert!(!email.subject.unwrap().is_empty());
        let sms = templates
            .render(
                Template::MfaCode,
                DeliveryChannel::Whatsapp,
                "+5511999998888",
                json!({ "code": "654321" }),
            )
            .unwrap();
        assert!(sms.text.contains("654321") && sms.html.is_none());
        let link = "http://127.0.0.1:8080/password/recover?hash=abc_-123";
        let reset = templates
            .render(
                Template::PasswordReset,
                DeliveryChannel::Email,
                "a@example.com",
                json!({ "link": link }),
            )
            .unwrap();
        assert!(reset.text.contains(link));
        assert!(
            reset.html.unwrap().contains("hash=abc_-123"),
            "escaped for HTML, link intact"
        );
    }

    #[test]
    fn every_security_notice_has_its_own_wording() {
        let templates = Templates::load().unwrap();
        let kinds = [
            json!({ "kind": "password_changed" }),
            json!({ "kind": "password_reset" }),
            json!({ "kind": "factor_added", "strategy": "EMAIL" }),
            json!({ "kind": "factor_removed", "strategy": "PHONE" }),
            json!({ "kind": "recovery_codes_created" }),
            json!({ "kind": "email_changed", "newEmail": "new@example.com" }),
            json!({ "kind": "new_device", "userAgent": "Firefox", "ip": "10.0.0.1" }),
        ];
        let mut subjects = std::collections::HashSet::new();
        for context in kinds {
            let email = templates
                .render(
                    Template::SecurityNotice,
                    DeliveryChannel::Email,
                    "a@example.com",
                    &context,
                )
                .unwrap();
            assert!(email.html.is_some() && !email.text.trim().is_empty());
            subjects.insert(email.subject.unwrap());
        }
        assert_eq!(subjects.len(), 7, "each notice has a subject of its own");
    }

    #[test]
    fn html_escapes_values() {
        let templates = Templates::load().unwrap();
        let email = templates
            .render(
                Template::MfaCode,
                DeliveryChannel::Email,
                "a@example.com",
                json!({ "code": "<b>" }),
            )
            .unwrap();
        assert!(email.html.unwrap().contains("&lt;b&gt;"));
    }
}
