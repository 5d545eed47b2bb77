//! `HEAD` for every `GET` route (RFC 9110 §9.3.2): the request is served as a `GET`. The HTTP
//! layer remembers that the request was a `HEAD` (it decided so when it read the request line),
//! so it sends the `GET`'s status and headers, `Content-Length` included, and leaves out the body.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;

pub async fn head_as_get<B: MessageBody>(
    mut req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    if req.method() == Method::HEAD {
        req.head_mut().method = Method::GET;
    }
    next.call(req).await
}
