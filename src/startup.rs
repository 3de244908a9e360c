//! Building the HTTP application: its state (`crate::state`), routes, middleware.

use std::net::TcpListener;

use actix_service::{fn_service, map_config, IntoServiceFactory, ServiceFactoryExt};
use actix_web::dev::{AppConfig, Server, Service};
use actix_web::{web, App};
use tracing_actix_web::TracingLogger;

use crate::clock::Clock;
use crate::config::Settings;
use crate::error::Error;
use crate::state::AppState;
use crate::store::Db;

pub struct Application {
    port: u16,
    server: Server,
    renewals: Option<crate::domain::billing::renewal::Job>,
    mail: Option<crate::domain::mail::Delivery>,
    webhooks: Option<crate::webhooks::Deliverer>,
    events: Option<crate::event_hooks::EventDeliverer>,
    log_writer: crate::provisioning_log::Writer,
}

impl Application {
    /// Connect, migrate, bind. Port 0 picks a free port (see `port()`).
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let db = crate::migrate::open_and_migrate(|| {
            Db::connect_with_budget(
                &settings.database.url,
                settings.database.pool_size,
                settings.database.budget,
            )
        })?;
        let listener = TcpListener::bind(&settings.http.bind)
            .map_err(|e| anyhow::anyhow!("binding {}: {e}", settings.http.bind))?;
        let port = listener.local_addr()?.port();
        let workers = settings.http.workers;
        let pool_size = settings.database.pool_size as usize;
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
            .map(|every| crate::domain::billing::renewal::Job::new(db.clone(), clock, every));
        // Mail is delivered after commit, outside every seat transaction.
        if settings.mail.sender.name() == "log" {
            tracing::warn!(
                "SCIM_SEATS_SMTP_URL is not set: mail (invitations, sign-in links) is only \
                 logged, never sent"
            );
        }
        let mail = settings.mail.delivery_interval.map(|every| {
            crate::domain::mail::Delivery::new(
                db.clone(),
                settings.mail.sender.clone(),
                every,
                settings.mail.retry_base,
            )
        });
        let webhooks = match settings.webhooks.delivery_interval {
            Some(_) => Some(crate::webhooks::Deliverer::new(
                db.clone(),
                settings.webhooks.clone(),
                settings.outbound.clone(),
            )?),
            None => None,
        };
        let events = match settings.webhooks.delivery_interval {
            Some(_) => Some(crate::event_hooks::EventDeliverer::new(
                db.clone(),
                settings.webhooks.clone(),
                settings.outbound.clone(),
            )?),
            None => None,
        };
        let (recorder, log_writer) =
            crate::provisioning_log::channel(db.clone(), settings.provisioning_log.clone());
        let recorder = web::Data::new(recorder);
        let metrics = web::Data::from(crate::metrics::Metrics::new()?);
        // One OpenID Connect client per server: its discovery and key cache is shared.
        let oidc = web::Data::new(crate::oidc::Oidc::new(settings.outbound.clone())?);
        let per_org = match settings.scim.searches_per_org {
            0 => (pool_size / 4).max(1),
            n => n,
        };
        // A request waits for its turn at most one read budget (or 30 s without one).
        let wait = settings
            .database
            .budget
            .unwrap_or(std::time::Duration::from_secs(30));
        let state = web::Data::new(AppState {
            db,
            settings,
            clock,
            searches: crate::fair::OrgGate::new(per_org, wait),
        });
        let app =
            move || {
                let m = metrics.clone();
                App::new()
                    // Innermost: refusals of the head still pass the logger and the metrics.
                    .wrap_fn(|req, srv| {
                        use futures_util::future::{ready, Either, FutureExt};
                        match crate::api::guard::check(&req) {
                            Ok(()) => Either::Left(
                                srv.call(req).map(|r| r.map(|r| r.map_into_boxed_body())),
                            ),
                            Err(e) => Either::Right(ready(Ok(req.error_response(e)))),
                        }
                    })
                    .wrap(TracingLogger::<crate::telemetry::RequestSpan>::new())
                    .wrap_fn(move |req, srv| {
                        // Route pattern, not path: bounded label values.
                        let (m, started) = (m.clone(), std::time::Instant::now());
                        let method = req.method().clone();
                        let fut = srv.call(req);
                        async move {
                            let res = fut.await?;
                            let route = res.request().match_pattern();
                            let status = res.status().as_u16();
                            m.observe(route.as_deref(), method.as_str(), status, started);
                            Ok(res)
                        }
                    })
                    // Typed query and path extractors answer with our error body, not plain text.
                    .app_data(web::QueryConfig::default().error_handler(|e, _| {
                        Error::BadRequest(format!("invalid query string: {e}")).into()
                    }))
                    .app_data(web::PathConfig::default().error_handler(|e, _| {
                        Error::BadRequest(format!("invalid path: {e}")).into()
                    }))
                    .app_data(state.clone())
                    .app_data(metrics.clone())
                    .app_data(recorder.clone())
                    .app_data(oidc.clone())
                    // Before the owner API: its `/api/v1` scope would swallow our paths.
                    .configure(crate::api::reports::configure)
                    .configure(crate::api::openapi::configure)
                    .configure(crate::api::scim::configure)
                    .configure(crate::api::oauth::configure)
                    .configure(crate::api::owner::configure)
                    .configure(crate::web::configure)
                    .default_service(web::to(not_found))
            };
        let mut server = actix_server::Server::build();
        let shutdown = server.graceful_shutdown_signal();
        let addr = listener.local_addr()?;
        // What `HttpServer::listen` builds, HTTP/1.1 over TCP with its timeouts, except that
        // each connection passes through `ScimRefusals` (see `api::codec_refusals`).
        server = server.listen("scim-seats", listener, move || {
            let shutdown = shutdown.clone();
            let app = app()
                .into_factory()
                .map_err(|e: actix_web::Error| e.as_response_error().error_response());
            let http = actix_http::HttpService::build()
                .graceful_shutdown_signal(move || {
                    let signal = shutdown.clone();
                    async move { signal.notified().await }
                })
                .keep_alive(actix_http::KeepAlive::default())
                .client_request_timeout(std::time::Duration::from_secs(5))
                .client_disconnect_timeout(std::time::Duration::from_secs(1))
                .h1_allow_half_closed(true)
                .local_addr(addr)
                .h1(map_config(app, |_| AppConfig::default()));
            fn_service(|io: actix_web::rt::net::TcpStream| {
                let peer = io.peer_addr().ok();
                std::future::ready(Ok::<_, actix_http::error::DispatchError>((
                    crate::api::codec_refusals::ScimRefusals::new(io),
                    peer,
                )))
            })
            .and_then(http)
        })?;
        if workers > 0 {
            server = server.workers(workers);
        }
        // Blocking threads only run database work, and no more of that can run at once than
        // there are pooled connections: actix's default of 512 per process let a burst of
        // list requests start dozens of threads that each kept their own allocator memory.
        let effective_workers = match workers {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        server = server.worker_max_blocking_threads(blocking_threads(pool_size, effective_workers));
        Ok(Application {
            port,
            server: server.run(),
            renewals,
            mail,
            webhooks,
            events,
            log_writer,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serve, running due renewals in the background until the server stops.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let job = self.renewals.map(|job| tokio::spawn(job.run()));
        let mail = self.mail.map(|d| tokio::spawn(d.run()));
        let hooks = self.webhooks.map(|d| tokio::spawn(d.run()));
        let events = self.events.map(|d| tokio::spawn(d.run()));
        let log = Some(tokio::spawn(self.log_writer.run()));
        let result = self.server.await;
        for task in [job, mail, hooks, events, log].into_iter().flatten() {
            task.abort();
        }
        result
    }
}

/// Blocking threads per HTTP worker: the pool's connections shared out, at least two.
fn blocking_threads(pool_size: usize, workers: usize) -> usize {
    pool_size.div_ceil(workers.max(1)).max(2)
}

async fn not_found() -> Result<actix_web::HttpResponse, Error> {
    Err(Error::not_found("endpoint"))
}
