//! The request body's deadline. actix times out a slow request head, but not a slow body: a
//! client that sends its headers and then a byte a second would hold the connection (and a file
//! descriptor, and memory) for as long as it likes. This middleware wraps the payload so that a
//! body not received in full within `BESKPLAN_BODY_TIMEOUT_SECS` of the request's arrival fails,
//! and answers that request 408 problem+json and closes the connection.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::{InternalError, PayloadError};
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::middleware::Next;
use actix_web::rt::time::{sleep, Sleep};
use actix_web::{web, HttpMessage, ResponseError};
use futures_util::Stream;

use crate::error::ApiError;
use crate::AppState;

/// The request's payload, shared by the wrapper that reads it and the middleware that answers.
struct Shared {
    payload: Payload,
    expired: bool,
}

/// Wraps the request's payload in the deadline and turns whatever the reader of the body made of
/// the failure (a 400 from an extractor, a problem from the idempotency guard) into the 408.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let seconds = req.app_data::<web::Data<AppState>>().map_or(30, |state| state.settings.body_timeout_secs);
    // No body (or no deadline, 0): nothing to wrap.
    if seconds == 0 || matches!(req.parts().1, Payload::None) {
        return next.call(req).await.map(ServiceResponse::map_into_boxed_body);
    }
    let shared = Rc::new(RefCell::new(Shared { payload: req.take_payload(), expired: false }));
    let timer = Box::pin(sleep(Duration::from_secs(seconds)));
    let stream = Deadline { shared: shared.clone(), timer, seconds };
    let boxed: Pin<Box<dyn Stream<Item = Result<web::Bytes, PayloadError>>>> = Box::pin(stream);
    req.set_payload(Payload::from(boxed));
    // (The request cannot be cloned to keep: routing needs it unshared.)
    let result = next.call(req).await;
    let (unread, expired) = {
        let mut shared = shared.borrow_mut();
        (shared.payload.take(), shared.expired)
    };
    // actix closes a connection whose body is unread only while the body's reader is alive; once
    // it is dropped, actix reads a chunked body to its end first, which a slow client may never
    // reach. So the answer keeps the reader until it is sent. (Once the body has been read in
    // full, keeping it changes nothing.)
    let hold = |response: actix_web::HttpResponse| {
        let (head, body) = response.into_parts();
        head.set_body(BoxBody::new(Holding { body, _unread: unread }))
    };
    if !expired {
        return match result {
            Ok(response) => {
                let (http_req, response) = response.map_into_boxed_body().into_parts();
                Ok(ServiceResponse::new(http_req, hold(response)))
            }
            Err(error) => {
                let response = hold(error.error_response());
                Err(InternalError::from_response(error.to_string(), response).into())
            }
        };
    }
    let error = ApiError::Http(
        StatusCode::REQUEST_TIMEOUT,
        format!("the request body did not arrive within {seconds} s; the connection is closed"),
    );
    let mut answer = hold(error.error_response());
    answer.head_mut().set_connection_type(ConnectionType::Close);
    match result {
        Ok(response) => Ok(ServiceResponse::new(response.into_parts().0, answer)),
        Err(_) => Err(InternalError::from_response(error, answer).into()),
    }
}

/// The payload, failing with a timed-out I/O error once the deadline has passed while it still
/// waits for data. Data that has arrived is always handed on first.
struct Deadline {
    shared: Rc<RefCell<Shared>>,
    timer: Pin<Box<Sleep>>,
    seconds: u64,
}

impl Stream for Deadline {
    type Item = Result<web::Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let mut shared = this.shared.borrow_mut();
        if shared.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(item) = Pin::new(&mut shared.payload).poll_next(cx) {
            return Poll::Ready(item);
        }
        match this.timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                shared.expired = true;
                let message = format!("the request body did not arrive within {} s", this.seconds);
                Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(std::io::ErrorKind::TimedOut, message)))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A response body that keeps the unread request payload alive while it is sent.
struct Holding {
    body: BoxBody,
    _unread: Payload,
}

impl MessageBody for Holding {
    type Error = <BoxBody as MessageBody>::Error;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<web::Bytes, Self::Error>>> {
        Pin::new(&mut self.body).poll_next(cx)
    }
}
