//! Request bodies: every JSON body the API accepts goes through the same extractor the
//! server uses, and every string field through the domain rule that validates it. Nothing may
//! panic, and a refused body must be a 4xx problem.

#![no_main]

use authd::domain::mfa::{PhoneChannel, Strategy};
use authd::domain::password_policy::check_password;
use authd::domain::user::{Email, Phone, UserName};
use authd::http::extract::Json;
use authd::http::api::{mfa, organizations, password, sessions, tokens, users};
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::response::IntoResponse;
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;

fn extract<T: DeserializeOwned>(body: &[u8], content_type: &str) {
    let request = Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", content_type)
        .body(Body::from(body.to_vec()))
        .expect("a valid request");
    if let Err(problem) = futures::executor::block_on(Json::<T>::from_request(request, &())) {
        let status = problem.into_response().status();
        assert!(status.is_client_error(), "a refused body answered {status}");
    }
}

fn all_bodies(body: &[u8], content_type: &str) {
    extract::<users::SignUpBody>(body, content_type);
    extract::<users::UpdateBody>(body, content_type);
    extract::<sessions::LoginBody>(body, content_type);
    extract::<password::ForgetBody>(body, content_type);
    extract::<password::RecoverBody>(body, content_type);
    extract::<password::ChangeBody>(body, content_type);
    extract::<mfa::EnrolBody>(body, content_type);
    extract::<mfa::ValidateBody>(body, content_type);
    extract::<mfa::ChooseBody>(body, content_type);
    extract::<mfa::CodeBody>(body, content_type);
    extract::<organizations::CreateBody>(body, content_type);
    extract::<organizations::AddMemberBody>(body, content_type);
    extract::<organizations::UpdateBody>(body, content_type);
    extract::<tokens::IntrospectBody>(body, content_type);
}

fn validate_fields(text: &str) {
    let _ = Email::parse(text).map(|email| email.normalized());
    let _ = UserName::parse(text);
    let _ = Phone::parse(text);
    let _ = Strategy::parse(text);
    let _ = Strategy::parse_enrollable(text);
    let _ = PhoneChannel::parse(Some(text));
    let _ = check_password(text, &["Some Name", "someone@example.com"]);
}

fuzz_target!(|data: &[u8]| {
    all_bodies(data, "application/json");
    if data.first() == Some(&b'!') {
        all_bodies(&data[1..], "text/plain");
    }
    if let Ok(text) = std::str::from_utf8(data) {
        validate_fields(text);
    }
});
