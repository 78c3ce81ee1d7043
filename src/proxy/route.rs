//! Routing and header hygiene: which upstream and which API a request is for,
//! the upstream URI, which headers are hop-by-hop, and which must never be recorded.

use hyper::header::{HeaderMap, HeaderName};
use hyper::{Method, Uri};

/// An upstream base URL, split once at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// `http` or `https`.
    pub scheme: hyper::http::uri::Scheme,
    pub authority: hyper::http::uri::Authority,
    /// Path prefix without a trailing `/` (`""` for none), e.g. `/api` for OpenRouter.
    pub prefix: String,
}

/// Why an upstream URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    #[error("not a URL")]
    Invalid,
    #[error("scheme must be http or https")]
    Scheme,
    #[error("no host")]
    NoHost,
    #[error("credentials in the URL are not allowed (send them as headers)")]
    UserInfo,
    #[error("a query string is not allowed")]
    Query,
}

impl Upstream {
    /// Parses `https://host[:port][/prefix]`.
    pub fn parse(url: &str) -> Result<Upstream, UpstreamError> {
        let uri: Uri = url.trim().parse().map_err(|_| UpstreamError::Invalid)?;
        let scheme = uri.scheme().cloned().ok_or(UpstreamError::Invalid)?;
        if scheme != hyper::http::uri::Scheme::HTTP && scheme != hyper::http::uri::Scheme::HTTPS {
            return Err(UpstreamError::Scheme);
        }
        let authority = uri.authority().cloned().ok_or(UpstreamError::NoHost)?;
        if authority.as_str().contains('@') {
            return Err(UpstreamError::UserInfo);
        }
        if authority.host().is_empty() {
            return Err(UpstreamError::NoHost);
        }
        if uri.query().is_some() {
            return Err(UpstreamError::Query);
        }
        let prefix = uri.path().trim_end_matches('/').to_string();
        Ok(Upstream {
            scheme,
            authority,
            prefix,
        })
    }

    /// The upstream URI for an incoming path and query (`/v1/chat/completions?x=1`).
    pub fn target(&self, path_and_query: &str) -> Result<Uri, hyper::http::Error> {
        let pq = if self.prefix.is_empty() {
            path_and_query.to_string()
        } else {
            format!("{}{}", self.prefix, path_and_query)
        };
        Uri::builder()
            .scheme(self.scheme.clone())
            .authority(self.authority.clone())
            .path_and_query(pq)
            .build()
    }

    /// `scheme://host[:port][/prefix]`, for records and messages.
    pub fn display(&self) -> String {
        format!("{}://{}{}", self.scheme, self.authority, self.prefix)
    }
}

/// The provider a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    OpenAi,
    Anthropic,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
        }
    }
}

/// The API a request speaks, when the proxy understands it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    ChatCompletions,
    Responses,
    Messages,
}

impl Api {
    /// The span name for an exchange of this API.
    pub fn as_str(self) -> &'static str {
        match self {
            Api::ChatCompletions => "chat.completions",
            Api::Responses => "responses",
            Api::Messages => "messages",
        }
    }
}

/// Where a request goes and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub provider: Provider,
    /// `None`: forwarded and recorded as a plain `http` span.
    pub api: Option<Api>,
}

/// Classifies a request. Anthropic: paths under `/v1/messages`, or any request
/// carrying `anthropic-version` (every Anthropic SDK sends it). Everything else
/// goes to the OpenAI-style upstream.
pub fn classify(method: &Method, path: &str, headers: &HeaderMap) -> Route {
    let trimmed = path.trim_end_matches('/');
    let anthropic = path.starts_with("/v1/messages") || headers.contains_key("anthropic-version");
    let post = method == Method::POST;
    if anthropic {
        let api = (post && trimmed.ends_with("/v1/messages")).then_some(Api::Messages);
        return Route {
            provider: Provider::Anthropic,
            api,
        };
    }
    let api = if !post {
        None
    } else if trimmed.ends_with("/chat/completions") {
        Some(Api::ChatCompletions)
    } else if trimmed.ends_with("/responses") {
        Some(Api::Responses)
    } else {
        None
    };
    Route {
        provider: Provider::OpenAi,
        api,
    }
}

/// The header clients send to authenticate to the proxy itself; never forwarded.
pub const TOKEN_HEADER: &str = "x-skilltrace-token";

/// Headers that belong to one connection (RFC 9110 §7.6.1) and are not forwarded.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Removes hop-by-hop headers (and those named in `Connection`), `Host` (the
/// client sets it from the upstream URI) and the proxy's own token header.
pub fn strip_for_forwarding(headers: &mut HeaderMap) {
    strip_hop_by_hop(headers);
    headers.remove(hyper::header::HOST);
    headers.remove(TOKEN_HEADER);
}

/// Removes hop-by-hop headers from a response before it goes back to the client.
pub fn strip_response(headers: &mut HeaderMap) {
    strip_hop_by_hop(headers);
}

/// Removes the headers named in `Connection`, then the fixed hop-by-hop list.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(hyper::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .collect();
    for n in named {
        headers.remove(n);
    }
    for n in HOP_BY_HOP {
        headers.remove(*n);
    }
}

/// Header names never recorded, whatever their value.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "cookie",
    "set-cookie",
    "x-goog-api-key",
    TOKEN_HEADER,
];

/// Fragments that mark a header as credential-bearing (`x-openrouter-key`, `x-auth-token`, ...).
const SECRET_FRAGMENTS: &[&str] = &[
    "auth",
    "key",
    "token",
    "secret",
    "cookie",
    "password",
    "signature",
    "credential",
];

/// True when a header must never be recorded.
pub fn is_secret_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_HEADERS.contains(&lower.as_str()) || SECRET_FRAGMENTS.iter().any(|f| lower.contains(f))
}

/// The headers worth recording: secrets and hop-by-hop headers dropped
/// entirely, at most 64 entries. Cheap (values are shared, not copied).
pub fn recordable_header_map(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in headers {
        let n = name.as_str();
        if is_secret_header(n) || HOP_BY_HOP.contains(&n) || n == "host" || out.len() >= 64 {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

/// Recordable headers as a JSON object (repeated headers joined with `, `,
/// values that are not visible ASCII dropped, values cut at 512 characters).
pub fn headers_json(headers: &HeaderMap) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    for (name, value) in &recordable_header_map(headers) {
        let Ok(v) = value.to_str() else { continue };
        let v: String = v.chars().take(512).collect();
        match out.get_mut(name.as_str()) {
            Some(serde_json::Value::String(prev)) => {
                prev.push_str(", ");
                prev.push_str(&v);
            }
            _ => {
                out.insert(name.as_str().to_string(), serde_json::Value::String(v));
            }
        }
    }
    out
}

/// Query parameters whose names look like credentials (`?key=`, `api_key=`, `token=`).
pub fn recordable_query(query: &str) -> String {
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let name = kv.split('=').next().unwrap_or("");
            if is_secret_header(name) || name.eq_ignore_ascii_case("sig") {
                format!("{name}=[dropped]")
            } else {
                kv.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        m
    }

    #[test]
    fn routes_by_path_and_anthropic_header() {
        let none = HeaderMap::new();
        let r = classify(&Method::POST, "/v1/messages", &none);
        assert_eq!(
            r,
            Route {
                provider: Provider::Anthropic,
                api: Some(Api::Messages)
            }
        );
        let r = classify(&Method::POST, "/v1/messages/count_tokens", &none);
        assert_eq!(r.provider, Provider::Anthropic);
        assert_eq!(r.api, None);
        let r = classify(
            &Method::GET,
            "/v1/models",
            &h(&[("anthropic-version", "2023-06-01")]),
        );
        assert_eq!(r.provider, Provider::Anthropic);
        let r = classify(&Method::POST, "/v1/chat/completions", &none);
        assert_eq!(r.api, Some(Api::ChatCompletions));
        assert_eq!(r.provider, Provider::OpenAi);
        let r = classify(&Method::POST, "/v1/responses", &none);
        assert_eq!(r.api, Some(Api::Responses));
        let r = classify(&Method::GET, "/v1/responses", &none);
        assert_eq!(r.api, None);
        let r = classify(&Method::POST, "/v1/embeddings", &none);
        assert_eq!(r.api, None);
    }

    #[test]
    fn upstream_parses_and_joins_prefix() {
        let u = Upstream::parse("https://openrouter.ai/api/").unwrap();
        assert_eq!(
            u.target("/v1/chat/completions?a=1").unwrap().to_string(),
            "https://openrouter.ai/api/v1/chat/completions?a=1"
        );
        let u = Upstream::parse("http://127.0.0.1:11434").unwrap();
        assert_eq!(
            u.target("/v1/models").unwrap().to_string(),
            "http://127.0.0.1:11434/v1/models"
        );
        assert_eq!(u.display(), "http://127.0.0.1:11434");
        assert_eq!(Upstream::parse("ftp://x"), Err(UpstreamError::Scheme));
        assert_eq!(
            Upstream::parse("https://user:pw@host"),
            Err(UpstreamError::UserInfo)
        );
        assert!(Upstream::parse("not a url").is_err());
    }

    #[test]
    fn strips_hop_by_hop_host_token_and_connection_named() {
        let mut m = h(&[
            ("host", "127.0.0.1:8787"),
            ("connection", "keep-alive, x-custom-hop"),
            ("x-custom-hop", "1"),
            ("transfer-encoding", "chunked"),
            ("x-skilltrace-token", "t"),
            ("authorization", "Bearer sk-x"),
            ("content-type", "application/json"),
        ]);
        strip_for_forwarding(&mut m);
        let mut names: Vec<&str> = m.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, vec!["authorization", "content-type"]);
    }

    #[test]
    fn secrets_never_recorded() {
        let m = h(&[
            ("authorization", "Bearer sk-secret"),
            ("x-api-key", "sk-ant-secret"),
            ("api-key", "azure"),
            ("cookie", "a=b"),
            ("proxy-authorization", "Basic x"),
            ("x-openrouter-key", "k"),
            ("anthropic-version", "2023-06-01"),
            ("user-agent", "OpenAI/Python 1.0"),
        ]);
        let rec = headers_json(&m);
        let keys: Vec<&String> = rec.keys().collect();
        assert_eq!(keys, vec!["anthropic-version", "user-agent"]);
        assert_eq!(
            recordable_query("api-version=1&key=AIza123&x=2"),
            "api-version=1&key=[dropped]&x=2"
        );
    }
}
