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
    ("consent.html", include_str!("../../../templates/pages/consent.html")),
    (
        "upstreams.html",
        include_str!("../../../templates/pages/upstreams.html"),
    ),
];

/// The hosted pages' settings and templates.
pub struct PageSettings {
    pub brand: Brand,
    /// The public URL is https: cookies are `Secure` and `__Host-` prefixed.
    pub secure_cookies: bool,
    /// Origins (`scheme://host[:port]`) a form may be posted from.
    origins: Vec<String>,
    views: Environment<'static>,
    stylesheet: String,
    /// The upstream providers the sign-in pages offer: (id, name).
    upstreams: Vec<(String, String)>,
}

/// The stylesheet as written, with the default accent colour.
const STYLE: &str = include_str!("../../../assets/ui/style.css");
const DEFAULT_ACCENT: &str = "--accent: #2f5bd3;";

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
        let stylesheet = STYLE.replacen(DEFAULT_ACCENT, &format!("--accent: {};", brand.color), 1);
        Ok(Self {
            stylesheet,
            brand,
            secure_cookies: public.scheme() == "https",
            origins,
            views,
            upstreams: Vec::new(),
        })
    }

    /// The same settings offering "Continue with ..." for `upstreams` (id, name).
    pub fn with_upstreams(self, upstreams: Vec<(String, String)>) -> Self {
        Self { upstreams, ..self }
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

    /// The pages' one stylesheet, with the brand's accent colour (pages allow no inline
    /// styles, so the colour is set here).
    pub fn stylesheet(&self) -> &str {
        &self.stylesheet
    }

    /// Renders `template` with `page` (its own values) and the brand, as a page answer
    /// with `status`.
    pub fn render(&self, status: StatusCode, template: &str, page: Value) -> Response {
        let brand = context! { name => self.brand.name, logo => self.brand.logo.is_some() };
        let upstreams: Vec<Value> = self.upstreams.iter().map(|(id, name)| context! { id, name }).collect();
        let values = context! { brand, upstreams, ..page };
        match self.views.get_template(template).and_then(|t| t.render(values)) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(err) => {
                tracing::error!(template, error = %err, "page template failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be shown").into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brand(color: &str) -> Brand {
        Brand {
            name: "Acme".into(),
            color: color.into(),
            logo: None,
        }
    }

    #[test]
    fn the_stylesheet_takes_the_brand_colour() {
        assert!(
            STYLE.contains(DEFAULT_ACCENT),
            "style.css must keep its accent line as written"
        );
        let pages = PageSettings::new(brand("#aa3300"), "https://auth.example.com", &[]).unwrap();
        assert!(pages.stylesheet().contains("--accent: #aa3300;"));
        assert!(!pages.stylesheet().contains(DEFAULT_ACCENT));
    }

    #[test]
    fn forms_may_come_from_the_public_and_the_webauthn_origins_only() {
        let others = ["http://localhost:8080".to_owned()];
        let pages = PageSettings::new(brand("#000000"), "http://127.0.0.1:8080/", &others).unwrap();
        assert!(pages.allows_origin("http://127.0.0.1:8080"));
        assert!(pages.allows_origin("http://localhost:8080"));
        assert!(!pages.allows_origin("http://localhost:8081"));
        assert!(!pages.allows_origin("null"));
        assert!(!pages.secure_cookies);
        assert_eq!(pages.cookie_name("authd_session"), "authd_session");
    }

    #[test]
    fn https_cookies_are_host_prefixed() {
        let pages = PageSettings::new(brand("#000000"), "https://auth.example.com", &[]).unwrap();
        assert_eq!(pages.cookie_name("authd_session"), "__Host-authd_session");
    }

    #[test]
    fn a_logo_is_known_by_its_file_name() {
        assert_eq!(Logo::content_type_of("brand/Logo.SVG"), Some("image/svg+xml"));
        assert_eq!(Logo::content_type_of("logo.jpeg"), Some("image/jpeg"));
        assert_eq!(Logo::content_type_of("logo.gif"), None);
    }
}
