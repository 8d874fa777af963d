//! `detwiki serve`: a local preview of a built site (127.0.0.1 only).

use std::net::{Ipv4Addr, SocketAddr};

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
        let app = axum::Router::new().fallback_service(pages);
        match axum::serve(listener, app).await {
            Ok(()) => Outcome::Success,
            Err(error) => {
                message!("server stopped: {error}");
                Outcome::Failures
            }
        }
    })
}
