//! Answers as the API server gives them: JSON or text bodies and `Status` objects
//! for errors (404, 400, 405).

use super::*;

/// An HTTP answer: status, content type and body.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Bytes,
}

impl Reply {
    pub(crate) fn json(status: u16, v: &impl Serialize) -> Reply {
        let body = serde_json::to_vec(v).unwrap_or_else(|_| b"{}".to_vec());
        Reply {
            status,
            content_type: "application/json",
            body: Bytes::from(body),
        }
    }

    pub(crate) fn text(status: u16, body: impl Into<Bytes>) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
        }
    }

    /// The body as UTF-8 (lossy), for tests and logs.
    pub fn body_str(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A `meta/v1 Status` failure.
pub(crate) fn status(
    code: u16,
    reason: &str,
    message: impl Into<String>,
    details: Option<Value>,
) -> Reply {
    let mut s = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message.into(),
        "reason": reason,
        "code": code,
    });
    if let (Some(d), Some(o)) = (details, s.as_object_mut()) {
        o.insert("details".into(), d);
    }
    Reply::json(code, &s)
}

pub(crate) fn not_found_path() -> Reply {
    status(
        404,
        "NotFound",
        "the server could not find the requested resource",
        Some(json!({})),
    )
}

pub(crate) fn not_found(def: &ResourceDef, name: &str) -> Reply {
    let mut d = json!({"name": name, "kind": def.name});
    if !def.group.is_empty() {
        d["group"] = json!(def.group);
    }
    status(
        404,
        "NotFound",
        format!("{} \"{name}\" not found", def.qualified()),
        Some(d),
    )
}

pub(crate) fn bad_request(msg: impl Into<String>) -> Reply {
    status(400, "BadRequest", msg, None)
}

pub(crate) fn method_not_allowed(msg: &str) -> Reply {
    status(405, "MethodNotAllowed", msg, Some(json!({})))
}
