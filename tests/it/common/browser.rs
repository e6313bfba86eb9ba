//! A person's browser, as far as the upstream tests need one: cookies kept per origin
//! (two servers on 127.0.0.1 with different ports must not share them, as they would in a
//! real browser by host name alone, so the tests name one of them `localhost`), redirects
//! followed, and forms on a page filled in and submitted with their hidden fields.

use std::collections::BTreeMap;

use parking_lot::Mutex;
use reqwest::redirect::Policy;
use reqwest::{Method, StatusCode};

/// A page the browser ended on.
#[derive(Debug, Clone)]
pub struct Page {
    pub url: url::Url,
    pub status: StatusCode,
    pub body: String,
    /// Every address the browser went through, the last one included.
    pub visited: Vec<url::Url>,
}

impl Page {
    /// Whether the browser went through an address starting with `prefix`.
    pub fn went_through(&self, prefix: &str) -> bool {
        self.visited.iter().any(|url| url.as_str().starts_with(prefix))
    }
}

pub struct WebBrowser {
    http: reqwest::Client,
    jar: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
    /// Addresses not to go to (an application's redirect URI nobody listens on).
    stop_at: Mutex<Vec<String>>,
}

impl Default for WebBrowser {
    fn default() -> Self {
        Self::new()
    }
}

impl WebBrowser {
    pub fn new() -> Self {
        Self {
            http: reqwest::Client::builder().redirect(Policy::none()).build().unwrap(),
            jar: Mutex::new(BTreeMap::new()),
            stop_at: Mutex::new(Vec::new()),
        }
    }

    /// Redirects to addresses starting with `prefix` are noted, not followed.
    pub fn stop_at(&self, prefix: &str) {
        self.stop_at.lock().push(prefix.to_owned());
    }

    /// Opens `url`, following redirects.
    pub async fn open(&self, url: &str) -> Page {
        self.go(Method::GET, url::Url::parse(url).unwrap(), None, None).await
    }

    /// The cookie `name` the browser holds for `origin` (`http://host:port`).
    pub fn cookie(&self, origin: &str, name: &str) -> Option<String> {
        self.jar
            .lock()
            .get(origin)
            .and_then(|cookies| cookies.get(name).cloned())
    }

    /// Sets the cookie `name` for `origin`, as a server would have.
    pub fn set_cookie(&self, origin: &str, name: &str, value: &str) {
        self.jar
            .lock()
            .entry(origin.to_owned())
            .or_default()
            .insert(name.to_owned(), value.to_owned());
    }

    /// Forgets the cookies of `origin` (the person signs out by clearing them).
    pub fn clear(&self, origin: &str) {
        self.jar.lock().remove(origin);
    }

    /// Submits the form of `page` whose action contains `action`, with its hidden fields
    /// and `fields`, as the page's own form (its origin sent along).
    pub async fn submit(&self, page: &Page, action: &str, fields: &[(&str, &str)]) -> Page {
        let (target, mut values) =
            form(&page.body, action).unwrap_or_else(|| panic!("no form {action} in {}", page.body));
        for (name, value) in fields {
            values.retain(|(n, _)| n != name);
            values.push(((*name).to_owned(), (*value).to_owned()));
        }
        let url = page.url.join(&target).unwrap();
        let body = serde_urlencoded::to_string(&values).unwrap();
        let origin = page.url.origin().ascii_serialization();
        self.go(Method::POST, url, Some(body), Some(origin)).await
    }

    async fn go(&self, method: Method, mut url: url::Url, mut body: Option<String>, origin: Option<String>) -> Page {
        let mut method = method;
        let mut visited = Vec::new();
        for _ in 0..20 {
            visited.push(url.clone());
            let site = url.origin().ascii_serialization();
            let mut request = self.http.request(method.clone(), url.clone());
            let cookies = self.cookie_header(&site);
            if !cookies.is_empty() {
                request = request.header("cookie", cookies);
            }
            if let Some(form) = body.take() {
                request = request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form);
                if let Some(origin) = &origin {
                    request = request.header("origin", origin);
                }
            }
            let response = request.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
            self.keep(&site, &response);
            let status = response.status();
            if status.is_redirection() {
                let to = url.join(response.headers()["location"].to_str().unwrap()).unwrap();
                if self.stop_at.lock().iter().any(|prefix| to.as_str().starts_with(prefix)) {
                    visited.push(to.clone());
                    return Page {
                        url: to,
                        status,
                        body: String::new(),
                        visited,
                    };
                }
                // 307/308 keep the method; 302/303 become a GET, as browsers do.
                method = Method::GET;
                url = to;
                continue;
            }
            let text = response.text().await.unwrap_or_default();
            return Page {
                url,
                status,
                body: text,
                visited,
            };
        }
        panic!("too many redirects: {visited:?}");
    }

    fn cookie_header(&self, site: &str) -> String {
        let jar = self.jar.lock();
        jar.get(site)
            .map(|cookies| {
                cookies
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    }

    fn keep(&self, site: &str, response: &reqwest::Response) {
        let mut jar = self.jar.lock();
        let cookies = jar.entry(site.to_owned()).or_default();
        for header in response.headers().get_all("set-cookie") {
            let text = header.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let expired = text.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
            match expired {
                true => cookies.remove(name),
                false => cookies.insert(name.to_owned(), value.to_owned()),
            };
        }
    }
}

/// The form whose `action` contains `action`: its target and its inputs' names and values.
pub fn form(html: &str, action: &str) -> Option<(String, Vec<(String, String)>)> {
    let mut rest = html;
    while let Some(at) = rest.find("<form") {
        let form = &rest[at..];
        let end = form.find("</form>").unwrap_or(form.len());
        let form = &form[..end];
        let open = &form[..form.find('>').unwrap_or(form.len())];
        let target = attribute(open, "action").unwrap_or_default();
        if target.contains(action) {
            let inputs = form
                .split("<input")
                .skip(1)
                .filter_map(|input| {
                    let tag = &input[..input.find('>').unwrap_or(input.len())];
                    Some((attribute(tag, "name")?, attribute(tag, "value").unwrap_or_default()))
                })
                .collect();
            return Some((target, inputs));
        }
        rest = &rest[at + end.max(5)..];
    }
    None
}

/// An attribute's value in a tag, unescaped.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let value = &tag[at..at + tag[at..].find('"')?];
    Some(
        value
            .replace("&quot;", "\"")
            .replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&#x27;", "'")
            .replace("&#x2f;", "/")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}
