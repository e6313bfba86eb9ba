//! Token introspection and the public keys.

use std::sync::Arc;

use axum::extract::State;
use axum::Json as JsonResponse;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::http::extract::Json;
use crate::http::problem::Problem;
use crate::usecases::Core;

#[derive(Deserialize)]
pub struct IntrospectBody {
    token: String,
}

pub async fn introspect(
    State(core): State<Arc<Core>>,
    Json(body): Json<IntrospectBody>,
) -> Result<JsonResponse<Value>, Problem> {
    let answer = match core.introspect(&body.token).active {
        Some(claims) => json!({ "active": true, "sub": claims.sub, "sid": claims.sid, "exp": claims.exp }),
        None => json!({ "active": false }),
    };
    Ok(JsonResponse(answer))
}

pub async fn jwks(State(core): State<Arc<Core>>) -> JsonResponse<Value> {
    JsonResponse(core.signer.jwks())
}
