//! Building the HTTP application: state, routes, middleware.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use tracing_actix_web::TracingLogger;

use crate::config::Settings;
use crate::error::Error;
use crate::store::Db;

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub settings: Settings,
}

pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Connect, migrate, bind. Port 0 picks a free port (see `port()`).
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let db = Db::connect(&settings.database.url, settings.database.pool_size)?;
        db.migrate()?;
        let listener = TcpListener::bind(&settings.http.bind)
            .map_err(|e| anyhow::anyhow!("binding {}: {e}", settings.http.bind))?;
        let port = listener.local_addr()?.port();
        let workers = settings.http.workers;
        let state = web::Data::new(AppState { db, settings });
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(TracingLogger::default())
                .app_data(state.clone())
                .configure(crate::api::scim::configure)
                .default_service(web::to(not_found))
        })
        .listen(listener)?;
        if workers > 0 {
            server = server.workers(workers);
        }
        Ok(Application {
            port,
            server: server.run(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

async fn not_found() -> Result<actix_web::HttpResponse, Error> {
    Err(Error::not_found("endpoint"))
}
