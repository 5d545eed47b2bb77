//! Response compression: gzip and br, negotiated by `Accept-Encoding`, for the responses worth it
//! (a compressible type and at least [`MIN_BYTES`]). One middleware, [`compress`], decides for
//! every response and compresses with actix-http's encoder. A handler that keeps encoded bytes of
//! its own (the version documents) asks [`accepted`] which coding to send, sets
//! `Content-Encoding` itself, and the middleware leaves that body alone.
//!
//! Entity tags: a content coding makes another representation, whose strong ETag must differ
//! (RFC 9110 §8.8.3), so `"abc"` is sent as `"abc-br"` or `"abc-gzip"`. Handlers never see the
//! suffix: it is taken off `If-None-Match` and `If-Match` before they run, so a tag received in
//! either form still gives a 304 or lets a write through, and a 304 carries the form the client
//! holds. The ETags in JSON bodies have no suffix and work as they are.

use std::io::Write as _;

use actix_http::encoding::Encoder;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, AcceptEncoding, ContentEncoding, Encoding, HeaderMap, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest};

/// Bodies smaller than this are sent as they are: compressing them saves less than it costs.
pub const MIN_BYTES: u64 = 1024;

/// The content codings the service sends, besides none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Brotli,
    Gzip,
}

impl Coding {
    pub const ALL: [Coding; 2] = [Coding::Brotli, Coding::Gzip];

    /// Its token in `Content-Encoding` and in the ETag suffix.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Brotli => "br",
            Coding::Gzip => "gzip",
        }
    }

    fn from_token(token: &str) -> Option<Coding> {
        Coding::ALL.into_iter().find(|coding| token.eq_ignore_ascii_case(coding.token()))
    }

    /// Compresses all of `bytes` at a good ratio: for bodies that are kept and sent many times.
    /// Per request the middleware uses actix's faster settings instead.
    pub fn encode(self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len() / 4);
        match self {
            Coding::Brotli => {
                // Quality 5: on version documents as small as 9 makes them, in a fifth of the time
                // and about 3 MB of working memory instead of 34 MB (11 saves ~20 % more at 100×
                // the time).
                let mut writer = brotli::CompressorWriter::new(&mut out, 32 * 1024, 5, 22);
                writer.write_all(bytes).expect("writing to memory");
                // Ends the stream (as dropping would, but plainly).
                writer.into_inner();
            }
            Coding::Gzip => {
                let mut writer = flate2::write::GzEncoder::new(&mut out, flate2::Compression::best());
                writer.write_all(bytes).expect("writing to memory");
                writer.finish().expect("writing to memory");
            }
        }
        // Kept for as long as the body is cached: without the growth slack.
        out.shrink_to_fit();
        out
    }
}

/// Whether a body of `len` bytes is worth compressing.
pub fn worth_compressing(len: u64) -> bool {
    len >= MIN_BYTES
}

/// The coding negotiated for this request (by the middleware, once), `None` for none.
pub fn accepted(req: &HttpRequest) -> Option<Coding> {
    req.extensions().get::<Accepted>().and_then(|accepted| accepted.0)
}

struct Accepted(Option<Coding>);

/// The coding that `Accept-Encoding` prefers of br, gzip and none (br first among equals).
fn negotiate(req: &ServiceRequest) -> Option<Coding> {
    let offered = [Encoding::brotli(), Encoding::gzip(), Encoding::identity()];
    match req.get_header::<AcceptEncoding>()?.negotiate(offered.iter())? {
        Encoding::Known(ContentEncoding::Brotli) => Some(Coding::Brotli),
        Encoding::Known(ContentEncoding::Gzip) => Some(Coding::Gzip),
        _ => None,
    }
}

/// The types that compress well: JSON (problem+json too), HTML, Markdown, CSV, JavaScript, CSS.
fn compressible(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json"
        || essence.ends_with("+json")
        || matches!(
            essence.as_str(),
            "text/html" | "text/markdown" | "text/csv" | "text/css" | "text/javascript" | "application/javascript"
        )
}

/// A strong entity tag with the coding's suffix (`"abc"` → `"abc-br"`); a weak one stays as it
/// is, since it may be shared by representations that differ only in coding.
pub fn tagged(etag: &str, coding: Coding) -> Option<String> {
    let opaque = etag.strip_prefix('"')?.strip_suffix('"')?;
    Some(format!("\"{opaque}-{}\"", coding.token()))
}

/// One tag of a condition header without a coding suffix, and the opaque part it names when
/// there was one (lenient about quotes, like the comparisons in `api::http`).
fn untagged(tag: &str) -> (String, Option<String>) {
    let tag = tag.trim();
    let (weak, rest) = match tag.strip_prefix("W/") {
        Some(rest) => ("W/", rest),
        None => ("", tag),
    };
    let opaque = rest.trim_matches('"');
    let base = opaque.rsplit_once('-').filter(|(_, suffix)| Coding::from_token(suffix).is_some()).map(|(base, _)| base);
    match base {
        Some(base) => (format!("{weak}\"{base}\""), Some(base.to_owned())),
        None => (tag.to_owned(), None),
    }
}

/// Takes the coding suffixes off `If-None-Match` and `If-Match`; returns the opaque parts of the
/// `If-None-Match` tags the client held in a coding.
fn untag_conditions(headers: &mut HeaderMap) -> Vec<String> {
    let mut held = Vec::new();
    for name in [header::IF_NONE_MATCH, header::IF_MATCH] {
        let values: Vec<String> = headers.get_all(&name).filter_map(|v| v.to_str().ok()).map(str::to_owned).collect();
        let mut changed = false;
        let values: Vec<String> = values
            .iter()
            .map(|value| {
                let tags: Vec<String> = value
                    .split(',')
                    .map(|tag| {
                        let (tag, base) = untagged(tag);
                        if let Some(base) = base {
                            changed = true;
                            if name == header::IF_NONE_MATCH {
                                held.push(base);
                            }
                        }
                        tag
                    })
                    .collect();
                tags.join(", ")
            })
            .collect();
        if changed {
            headers.remove(&name);
            for value in values.into_iter().filter_map(|v| HeaderValue::from_str(&v).ok()) {
                headers.append(name.clone(), value);
            }
        }
    }
    held
}

fn retag(headers: &mut HeaderMap, coding: Coding) {
    let etag = headers.get(header::ETAG).and_then(|v| v.to_str().ok()).and_then(|etag| tagged(etag, coding));
    if let Some(value) = etag.and_then(|etag| HeaderValue::from_str(&etag).ok()) {
        headers.insert(header::ETAG, value);
    }
}

/// Appends `Vary: Accept-Encoding` unless the response already says so (or `Vary: *`).
fn vary(headers: &mut HeaderMap) {
    let said = headers.get_all(header::VARY).filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|name| {
        let name = name.trim();
        name == "*" || name.eq_ignore_ascii_case("accept-encoding")
    });
    if !said {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

/// The middleware. A `HEAD` is answered as an uncompressed `GET` would be, headers and
/// `Content-Length` included, so it compresses nothing.
pub async fn compress<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<Encoder<B>>, actix_web::Error> {
    let coding = if req.method() == Method::HEAD { None } else { negotiate(&req) };
    let held = untag_conditions(req.headers_mut());
    req.extensions_mut().insert(Accepted(coding));
    let response = next.call(req).await?;
    Ok(response.map_body(|head, body| {
        let headers = &mut head.headers;
        let mut encoding = ContentEncoding::Identity;
        if headers.contains_key(header::CONTENT_ENCODING) {
            // Encoded by the handler: sent as it is (and named, if it is one of ours).
            let own = headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).and_then(Coding::from_token);
            if let Some(own) = own {
                retag(headers, own);
                vary(headers);
            }
        } else if head.status == StatusCode::NOT_MODIFIED {
            let etag = headers.get(header::ETAG).and_then(|v| v.to_str().ok()).unwrap_or_default();
            if held.iter().any(|base| etag.trim_matches('"') == base) {
                // The client holds a coded representation: the 200 would have been coded too.
                if let Some(coding) = coding {
                    retag(headers, coding);
                }
                vary(headers);
            }
        } else if worth_sending_coded(head.status, headers, body.size()) {
            match coding {
                Some(coding) => {
                    retag(headers, coding);
                    // The encoder adds `Vary` itself.
                    encoding = match coding {
                        Coding::Brotli => ContentEncoding::Brotli,
                        Coding::Gzip => ContentEncoding::Gzip,
                    };
                }
                None => vary(headers),
            }
        }
        Encoder::response(encoding, head, body)
    }))
}

/// Whether a response would be sent compressed to a client that accepts a coding.
fn worth_sending_coded(status: StatusCode, headers: &HeaderMap, size: BodySize) -> bool {
    let coded_status = !(status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::PARTIAL_CONTENT
        || status == StatusCode::NOT_MODIFIED);
    let big = match size {
        BodySize::Sized(len) => worth_compressing(len),
        BodySize::Stream => true,
        BodySize::None => false,
    };
    coded_status && big && compressible(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strong_tags_carry_the_coding_and_lose_it_again() {
        assert_eq!(tagged("\"abc\"", Coding::Brotli).as_deref(), Some("\"abc-br\""));
        assert_eq!(tagged("\"7\"", Coding::Gzip).as_deref(), Some("\"7-gzip\""));
        assert_eq!(tagged("W/\"abc\"", Coding::Gzip), None);
        assert_eq!(untagged(" \"abc-br\""), ("\"abc\"".to_owned(), Some("abc".to_owned())));
        assert_eq!(untagged("W/\"abc-gzip\""), ("W/\"abc\"".to_owned(), Some("abc".to_owned())));
        assert_eq!(untagged("abc-gzip"), ("\"abc\"".to_owned(), Some("abc".to_owned())));
        for plain in ["\"abc\"", "*", "\"a-b\"", "W/\"abc\""] {
            assert_eq!(untagged(plain), (plain.to_owned(), None), "{plain}");
        }
    }

    #[test]
    fn condition_headers_are_untagged_and_the_held_tags_remembered() {
        let mut headers = HeaderMap::new();
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"x\", \"abc-br\""));
        headers.insert(header::IF_MATCH, HeaderValue::from_static("\"5-gzip\""));
        assert_eq!(untag_conditions(&mut headers), vec!["abc".to_owned()]);
        assert_eq!(headers.get(header::IF_NONE_MATCH).unwrap(), "\"x\", \"abc\"");
        assert_eq!(headers.get(header::IF_MATCH).unwrap(), "\"5\"");
    }

    #[test]
    fn only_compressible_types_of_some_size_are_coded() {
        let with_type = |value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            headers
        };
        let big = BodySize::Sized(MIN_BYTES);
        for kind in ["application/json", "application/problem+json", "text/html; charset=utf-8", "text/csv", "text/css"]
        {
            assert!(worth_sending_coded(StatusCode::OK, &with_type(kind), big), "{kind}");
        }
        assert!(!worth_sending_coded(StatusCode::OK, &with_type("image/png"), big));
        assert!(!worth_sending_coded(StatusCode::OK, &HeaderMap::new(), big));
        let json = with_type("application/json");
        assert!(!worth_sending_coded(StatusCode::OK, &json, BodySize::Sized(MIN_BYTES - 1)));
        assert!(!worth_sending_coded(StatusCode::NO_CONTENT, &json, big));
        assert!(!worth_sending_coded(StatusCode::PARTIAL_CONTENT, &json, big));
    }
}
