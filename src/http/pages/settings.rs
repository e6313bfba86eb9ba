//! What the hosted pages are configured with: the operator's brand, whether cookies are
//! `Secure` (and `__Host-` prefixed), the origins forms may come from, and the compiled
//! page templates.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use minijinja::{context, Environment, Value};

/// The operator's name, accent colour and optional logo.
#[derive(Debug, Clone)]
pub struct Brand {
    pub name: String,
    /// `#rrggbb`, checked by the configuration parser.
    pub color: String,
    pub logo: Option<Logo>,
}

/// A logo image, read once at start-up and served from `/ui/assets/logo`.
#[derive(Debug, Clone)]
pub struct Logo {
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl Logo {
    /// The content type a logo file's name implies; `None` for an unsupported kind.
    pub fn content_type_of(file_name: &str) -> Option<&'static str> {
        let lower = file_name.to_ascii_lowercase();
        let types = [
            (".png", "image/png"),
            (".svg", "image/svg+xml"),
            (".jpg", "image/jpeg"),
            (".jpeg", "image/jpeg"),
        ];
        types
            .into_iter()
            .find(|(ending, _)| lower.ends_with(ending))
            .map(|(_, content_type)| content_type)
    }
}

/// Every page template, compiled in; `.html` values are escaped.
const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../../../templates/pages/layout.html")),
    ("forms.html", include_str!("../../../templates/pages/forms.html")),
    ("signup.html", include_str!("../../../templates/pages/signup.html")),
    (
        "signed_up.html",
        include_str!("../../../templates/pages/signed_up.html"),
    ),
    ("login.html", include_str!("../../../templates/pages/login.html")),
    ("mfa.html", include_str!("../../../templates/pages/mfa.html")),
    ("forgot.html", include_str!("../../../templates/pages/forgot.html")),
    ("recover.html", include_str!("../../../templates/pages/recover.html")),
    ("message.html", include_str!("../../../templates/pages/message.html")),
    ("account.html", include_str!("../../../templates/pages/account.html")),
    ("enrol.html", include_str!("../../../templates/pages/enrol.html")),
    (
        "recovery_codes.html",
        include_str!("../../../templates/pages/recovery_codes.html"),
    ),
    ("logout.html", include_str!("../../../templates/pages/logout.html")),
];

/// The hosted pages' settings and templates.
pub struct PageSettings {
    pub brand: Brand,
    /// The public URL is https: cookies are `Secure` and `__Host-` prefixed.
    pub secure_cookies: bool,
    /// Origins (`scheme://host[:port]`) a form may be posted from.
    origins: Vec<String>,
    views: Environment<'static>,
}

impl PageSettings {
    /// Settings for a server at `public_url` whose forms may also come from `other_origins`
    /// (the WebAuthn origins, e.g. `http://localhost:8080` beside `http://127.0.0.1:8080`).
    pub fn new(brand: Brand, public_url: &str, other_origins: &[String]) -> anyhow::Result<Self> {
        let public = url::Url::parse(public_url)?;
        let mut origins = vec![public.origin().ascii_serialization()];
        for other in other_origins {
            let origin = url::Url::parse(other)?.origin().ascii_serialization();
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        let mut views = Environment::new();
        for (name, source) in TEMPLATES {
            views.add_template(name, source)?;
        }
        Ok(Self {
            brand,
            secure_cookies: public.scheme() == "https",
            origins,
            views,
        })
    }

    /// Whether a form posted with this `Origin` header came from one of the server's pages.
    pub fn allows_origin(&self, origin: &str) -> bool {
        self.origins.iter().any(|allowed| allowed == origin)
    }

    /// The name of a cookie: `__Host-<base>` on https (bound to this host, `Secure`, path `/`).
    pub fn cookie_name(&self, base: &str) -> String {
        match self.secure_cookies {
            true => format!("__Host-{base}"),
            false => base.to_owned(),
        }
    }

    /// The stylesheet that carries the brand colour (pages allow no inline styles).
    pub fn brand_css(&self) -> String {
        format!(":root {{ --accent: {}; }}\n", self.brand.color)
    }

    /// Renders `template` with `page` (its own values) and the brand, as a page answer
    /// with `status`.
    pub fn render(&self, status: StatusCode, template: &str, page: Value) -> Response {
        let brand = context! { name => self.brand.name, logo => self.brand.logo.is_some() };
        let values = context! { brand, ..page };
        match self.views.get_template(template).and_then(|t| t.render(values)) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(err) => {
                tracing::error!(template, error = %err, "page template failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be shown").into_response()
            }
        }
    }
}
