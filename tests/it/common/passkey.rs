//! A software authenticator: what a browser and a platform authenticator do with the
//! WebAuthn JSON options, with a P-256 key, `none` attestation and CBOR by hand. It answers
//! in the JSON forms of `PublicKeyCredential.toJSON()`, so the server sees what a real
//! browser sends.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use rand::RngCore as _;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// One passkey held by the authenticator.
pub struct SoftPasskey {
    key: SigningKey,
    pub credential_id: Vec<u8>,
    /// The user handle the server gave at creation.
    user_handle: Vec<u8>,
    pub counter: u32,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).expect("base64url")
}

/// CBOR, only as much as an attestation object and a COSE key need.
enum Cbor {
    Int(i64),
    Bytes(Vec<u8>),
    Text(&'static str),
    Map(Vec<(Cbor, Cbor)>),
}

fn head(major: u8, length: u64, out: &mut Vec<u8>) {
    match length {
        0..=23 => out.push(major << 5 | length as u8),
        24..=0xff => out.extend([major << 5 | 24, length as u8]),
        0x100..=0xffff => {
            out.push(major << 5 | 25);
            out.extend((length as u16).to_be_bytes());
        }
        _ => {
            out.push(major << 5 | 26);
            out.extend((length as u32).to_be_bytes());
        }
    }
}

impl Cbor {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Int(n) if *n >= 0 => head(0, *n as u64, out),
            Cbor::Int(n) => head(1, (-1 - n) as u64, out),
            Cbor::Bytes(b) => {
                head(2, b.len() as u64, out);
                out.extend(b);
            }
            Cbor::Text(t) => {
                head(3, t.len() as u64, out);
                out.extend(t.as_bytes());
            }
            Cbor::Map(entries) => {
                head(5, entries.len() as u64, out);
                for (k, v) in entries {
                    k.encode(out);
                    v.encode(out);
                }
            }
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// The `clientDataJSON` a browser makes for a ceremony of `kind` answering `options`.
fn client_data(kind: &str, options: &Value, origin: &str, twist: &Twist) -> String {
    json!({
        "type": kind,
        "challenge": options["challenge"],
        "origin": twist.origin.clone().unwrap_or_else(|| origin.to_owned()),
        "crossOrigin": false,
    })
    .to_string()
}

/// User present, user verified.
const UP_UV: u8 = 0x01 | 0x04;
/// ... with attested credential data.
const UP_UV_AT: u8 = UP_UV | 0x40;

/// How a test bends a ceremony.
#[derive(Clone, Default)]
pub struct Twist {
    /// The origin the "browser" reports (default: the one asked for).
    pub origin: Option<String>,
    /// The RP ID the authenticator hashes (default: the options' RP ID).
    pub rp_id: Option<String>,
    /// Authenticator data flags of an assertion (default: user present and verified).
    pub flags: Option<u8>,
}

impl SoftPasskey {
    /// Answers creation options (`PublicKeyCredentialCreationOptionsJSON`) from `origin`:
    /// a new passkey and its `RegistrationResponseJSON`.
    pub fn create(options: &Value, origin: &str, twist: &Twist) -> (SoftPasskey, Value) {
        let mut credential_id = vec![0u8; 16];
        rand::thread_rng().fill_bytes(&mut credential_id);
        let passkey = SoftPasskey {
            key: SigningKey::random(&mut rand::rngs::OsRng),
            credential_id,
            user_handle: unb64(options["user"]["id"].as_str().expect("user.id")),
            counter: 0,
        };
        let response = passkey.attest(options, origin, twist);
        (passkey, response)
    }

    /// Answers creation options with this same credential again (as an authenticator that
    /// ignores `excludeCredentials` would).
    pub fn attest(&self, options: &Value, origin: &str, twist: &Twist) -> Value {
        let rp_id = twist
            .rp_id
            .clone()
            .unwrap_or_else(|| options["rp"]["id"].as_str().expect("rp.id").to_owned());
        let point = self.key.verifying_key().to_encoded_point(false);
        let cose = Cbor::Map(vec![
            (Cbor::Int(1), Cbor::Int(2)),
            (Cbor::Int(3), Cbor::Int(-7)),
            (Cbor::Int(-1), Cbor::Int(1)),
            (Cbor::Int(-2), Cbor::Bytes(point.x().unwrap().to_vec())),
            (Cbor::Int(-3), Cbor::Bytes(point.y().unwrap().to_vec())),
        ]);
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(UP_UV_AT);
        auth_data.extend(0u32.to_be_bytes());
        auth_data.extend([0u8; 16]);
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(cose.bytes());
        let attestation = Cbor::Map(vec![
            (Cbor::Text("fmt"), Cbor::Text("none")),
            (Cbor::Text("attStmt"), Cbor::Map(vec![])),
            (Cbor::Text("authData"), Cbor::Bytes(auth_data)),
        ]);
        let client_data = client_data("webauthn.create", options, origin, twist);
        self.credential(json!({
            "clientDataJSON": b64(client_data.as_bytes()),
            "attestationObject": b64(&attestation.bytes()),
            "transports": ["internal"],
        }))
    }

    /// Answers request options (`PublicKeyCredentialRequestOptionsJSON`) from `origin` with
    /// the next sign count: an `AuthenticationResponseJSON`.
    pub fn get(&mut self, options: &Value, origin: &str, twist: &Twist) -> Value {
        self.counter += 1;
        let counter = self.counter;
        self.assert_with_counter(options, origin, twist, counter)
    }

    /// Like [`Self::get`], with a sign count of the test's choosing.
    pub fn assert_with_counter(&self, options: &Value, origin: &str, twist: &Twist, counter: u32) -> Value {
        let rp_id = twist
            .rp_id
            .clone()
            .unwrap_or_else(|| options["rpId"].as_str().expect("rpId").to_owned());
        let mut auth_data = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth_data.push(twist.flags.unwrap_or(UP_UV));
        auth_data.extend(counter.to_be_bytes());
        let client_data = client_data("webauthn.get", options, origin, twist);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(client_data.as_bytes()));
        let signature: DerSignature = self.key.sign(&signed);
        self.credential(json!({
            "clientDataJSON": b64(client_data.as_bytes()),
            "authenticatorData": b64(&auth_data),
            "signature": b64(signature.as_bytes()),
            "userHandle": b64(&self.user_handle),
        }))
    }

    /// A `PublicKeyCredential` as `toJSON()` gives it, around `response`.
    fn credential(&self, response: Value) -> Value {
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": response,
        })
    }

    /// The same credential id and user, signed by a different key (an impostor).
    pub fn impostor(&self) -> SoftPasskey {
        SoftPasskey {
            key: SigningKey::random(&mut rand::rngs::OsRng),
            credential_id: self.credential_id.clone(),
            user_handle: self.user_handle.clone(),
            counter: self.counter,
        }
    }
}
