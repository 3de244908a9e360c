//! Building the HTTP application: state, routes, middleware.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use tracing_actix_web::TracingLogger;

use crate::clock::Clock;
use crate::config::Settings;
use crate::error::Error;
use crate::store::Db;

/// What every handler can reach.
pub struct AppState {
    pub db: Db,
    pub settings: Settings,
    /// Billing's "today".
    pub clock: Clock,
}

pub struct Application {
    port: u16,
    server: Server,
    renewals: Option<crate::domain::renewal::Job>,
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
        if settings.auth.jwt.ephemeral {
            tracing::warn!(
                "SCIM_SEATS_JWT_SECRET is not set: owner tokens are signed with a random key \
                 and will not survive a restart"
            );
        }
        let clock = Clock::from_override(settings.clock_override);
        let renewals = settings
            .billing
            .renewal_interval
            .map(|every| crate::domain::renewal::Job::new(db.clone(), clock, every));
        let state = web::Data::new(AppState {
            db,
            settings,
            clock,
        });
        let mut server = HttpServer::new(move || {
            App::new()
                .wrap(TracingLogger::default())
                .app_data(state.clone())
                .configure(crate::api::scim::configure)
                .configure(crate::api::owner::configure)
                .default_service(web::to(not_found))
        })
        .listen(listener)?;
        if workers > 0 {
            server = server.workers(workers);
        }
        Ok(Application {
            port,
            server: server.run(),
            renewals,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serve, running due renewals in the background until the server stops.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let job = self.renewals.map(|job| tokio::spawn(job.run()));
        let result = self.server.await;
        if let Some(job) = job {
            job.abort();
        }
        result
    }
}

async fn not_found() -> Result<actix_web::HttpResponse, Error> {
    Err(Error::not_found("endpoint"))
}
