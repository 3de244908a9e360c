//! The operator CLI (clap): serve, migrate, org and token management. Operators script
//! these names, so they are stable.

use clap::{Args, Parser, Subcommand};

use crate::config::{Settings, DEFAULT_BIND, DEFAULT_DATABASE_URL};
use crate::domain::{orgs, tokens};
use crate::startup::Application;
use crate::store::Db;

#[derive(Debug, Parser)]
#[command(
    name = "scim-seats",
    version,
    about = "SCIM 2.0 provisioning server that sells seats"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone)]
pub struct DbArgs {
    /// postgres://… for PostgreSQL; a file path or sqlite://path for SQLite.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (migrates the database first).
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// ADDR:PORT to listen on.
        #[arg(long, env = "SCIM_SEATS_BIND", default_value = DEFAULT_BIND)]
        bind: String,
        /// Largest accepted request body, in bytes.
        #[arg(long, env = "SCIM_SEATS_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
        max_body_bytes: usize,
        /// Database connections in the pool.
        #[arg(long, env = "SCIM_SEATS_POOL_SIZE", default_value_t = 8)]
        pool_size: u32,
        /// HTTP worker threads (0: one per core).
        #[arg(long, env = "SCIM_SEATS_WORKERS", default_value_t = 0)]
        workers: usize,
        /// Log as JSON lines instead of text.
        #[arg(long, env = "SCIM_SEATS_LOG_JSON")]
        log_json: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Organizations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// SCIM bearer tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization with its initial seats.
    Create {
        slug: String,
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        name: String,
        /// A verified email domain (repeatable).
        #[arg(long = "domain")]
        domains: Vec<String>,
        #[arg(long, default_value_t = 0)]
        standard_seats: i64,
        #[arg(long, default_value_t = 0)]
        premium_seats: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a SCIM token; it is printed once and only its hash is stored.
    Create {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Revoke a token by id; it stops working at once.
    Revoke {
        token_id: String,
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
    },
    /// List an organization's tokens (ids, never secrets).
    List {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
    },
}

fn open(db: &DbArgs) -> anyhow::Result<Db> {
    let db = Db::connect(&db.database_url, 2)?;
    db.migrate()?;
    Ok(db)
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            db,
            bind,
            max_body_bytes,
            pool_size,
            workers,
            log_json,
        } => {
            crate::telemetry::init("info,actix_server=warn", log_json);
            let mut settings = Settings::default();
            settings.database.url = db.database_url;
            settings.database.pool_size = pool_size;
            settings.http.bind = bind;
            settings.http.max_body_bytes = max_body_bytes;
            settings.http.workers = workers;
            let app = Application::build(settings.clone()).await?;
            tracing::info!(port = app.port(), bind = %settings.http.bind, "scim-seats listening");
            app.run_until_stopped().await?;
        }
        Command::Migrate { db } => {
            open(&db)?;
            println!("migrations applied");
        }
        Command::Org { command } => match command {
            OrgCommand::Create {
                slug,
                db,
                name,
                domains,
                standard_seats,
                premium_seats,
            } => {
                let db = open(&db)?;
                let new = orgs::NewOrg {
                    slug,
                    name,
                    domains,
                    standard_seats,
                    premium_seats,
                };
                let org = db.write_sync(|c| orgs::create(c, &new))?;
                println!("created organization {} ({})", org.slug, org.id);
            }
        },
        Command::Token { command } => match command {
            TokenCommand::Create {
                db,
                org,
                description,
            } => {
                let db = open(&db)?;
                let issued = db.write_sync(|c| {
                    let org = orgs::by_slug(c, &org)?;
                    tokens::issue(c, &org.id, &description)
                })?;
                eprintln!("token {} issued; it is shown once:", issued.id);
                println!("{}", issued.secret);
            }
            TokenCommand::Revoke { token_id, db, org } => {
                let db = open(&db)?;
                db.write_sync(|c| {
                    let org = orgs::by_slug(c, &org)?;
                    tokens::revoke(c, &org.id, &token_id)
                })?;
                println!("token {token_id} revoked");
            }
            TokenCommand::List { db, org } => {
                let db = open(&db)?;
                let rows = db.read_sync(|c| {
                    let org = orgs::by_slug(c, &org)?;
                    Ok(crate::store::tokens::list(c, &org.id)?)
                })?;
                for t in rows {
                    let state = if t.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    let last = t
                        .last_used_at
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "never".into());
                    println!(
                        "{}\t{state}\tcreated {}\tlast used {last}\t{}",
                        t.id, t.created_at, t.description
                    );
                }
            }
        },
    }
    Ok(())
}
