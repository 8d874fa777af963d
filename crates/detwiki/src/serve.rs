//! `detwiki serve`: a local preview of a built site (127.0.0.1 only).
//!
//! Every response carries the site's Content-Security-Policy as a header, with the directives a
//! page's `<meta>` tag cannot carry, so the preview behaves as a hardened public host would.

use std::net::{Ipv4Addr, SocketAddr};

use axum::http::{HeaderValue, header};
use axum::response::Response;
use detwiki_site::{CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_HEADER_EXTRA};
use tower_http::services::{ServeDir, ServeFile};

use crate::flags::ServeArgs;
use crate::messages::{Outcome, message};

pub fn run(args: &ServeArgs) -> Outcome {
    if !args.dir.join("index.html").is_file() {
        message!(
            "{}: no built site here (no index.html); run `detwiki build --out {}` first",
            args.dir.display(),
            args.dir.display()
        );
        return Outcome::Usage;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            message!("starting the server failed: {error}");
            return Outcome::Failures;
        }
    };
    runtime.block_on(async {
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
        let listener = match tokio::net::TcpListener::bind(address).await {
            Ok(listener) => listener,
            Err(error) => {
                message!("cannot listen on {address}: {error}; pick another --port");
                return Outcome::Usage;
            }
        };
        let bound = listener.local_addr().unwrap_or(address);
        message!("serving {} at http://{bound}/ (Ctrl-C stops)", args.dir.display());
        // A missing path gets the site's own 404 page (with status 404), as on a static host.
        let pages = ServeDir::new(&args.dir).not_found_service(ServeFile::new(args.dir.join("404.html")));
        let app =
            axum::Router::new().fallback_service(pages).layer(axum::middleware::map_response(add_security_headers));
        match axum::serve(listener, app).await {
            Ok(()) => Outcome::Success,
            Err(error) => {
                message!("server stopped: {error}");
                Outcome::Failures
            }
        }
    })
}

/// The header form of the site's Content-Security-Policy.
pub fn content_security_policy_header() -> String {
    format!("{CONTENT_SECURITY_POLICY}; {CONTENT_SECURITY_POLICY_HEADER_EXTRA}")
}

/// Adds the Content-Security-Policy, and `nosniff` so a rule file served as text is never run
/// as a script or rendered as HTML.
async fn add_security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy_header()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
