//! The operator CLI (clap): serve, migrate, org and token management. Operators script
//! these names, so they are stable.

use clap::{Args, Parser, Subcommand};

use std::time::Duration;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::auth::jwt::{self, JwtKeys};
use crate::config::{Settings, DEFAULT_BIND, DEFAULT_DATABASE_URL};
use crate::domain::{
    billing::contracts::NewContract, billing::renewal, members, oauth, orgs, seats::seat_policy,
    tokens, Actor, Source, Tier,
};
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
        /// Seconds between runs of due contract renewals (0 turns the task off).
        #[arg(long, env = "SCIM_SEATS_RENEWAL_INTERVAL_SECS", default_value_t = 60)]
        renewal_interval_secs: u64,
        /// Seconds between deliveries of queued mail (0 turns the task off).
        #[arg(long, env = "SCIM_SEATS_MAIL_INTERVAL_SECS", default_value_t = 5)]
        mail_interval_secs: u64,
        /// Public base URL of this server, used in invitation mails.
        #[arg(long, env = "SCIM_SEATS_PUBLIC_URL")]
        public_url: Option<String>,
        /// Hours a session token (invitation acceptance, SSO login) stays valid.
        #[arg(long, env = "SCIM_SEATS_SESSION_TTL_HOURS", default_value_t = 8)]
        session_ttl_hours: u64,
        /// SMTP server for outgoing mail: smtp://[user:password@]host[:port][?tls=required|none]
        /// (STARTTLS when offered by default) or smtps://… (TLS from the start). Unset: mail is
        /// only logged.
        #[arg(long, env = "SCIM_SEATS_SMTP_URL", hide_env_values = true)]
        smtp_url: Option<String>,
        /// From address of outgoing mail (required with --smtp-url), e.g. "Acme Seats <seats@acme.com>".
        #[arg(long, env = "SCIM_SEATS_MAIL_FROM")]
        mail_from: Option<String>,
        /// Milliseconds of database work one request may take (0: no limit): a read past it is
        /// answered 400 tooMany, a write 429 with Retry-After (see README, "Limits").
        #[arg(long, env = "SCIM_SEATS_DB_BUDGET_MS", default_value_t = 5000)]
        db_budget_ms: u64,
        /// List/search requests one organization may run at once (0: a quarter of the pool).
        #[arg(long, env = "SCIM_SEATS_SEARCHES_PER_ORG", default_value_t = 0)]
        searches_per_org: usize,
        /// Internal hosts outbound requests (webhooks, OpenID discovery) may reach:
        /// host[:port],… (everything else must be a public address).
        #[arg(long, env = "SCIM_SEATS_OUTBOUND_ALLOW", default_value = "")]
        outbound_allow: String,
        /// Days the provisioning log keeps a SCIM request (older rows are pruned in the background).
        #[arg(long, env = "SCIM_SEATS_PROVISIONING_LOG_DAYS", default_value_t = 30)]
        provisioning_log_days: u32,
        /// Record SCIM requests in the provisioning log (`false` turns it off, e.g. to
        /// measure its cost).
        #[arg(long, env = "SCIM_SEATS_PROVISIONING_LOG_ENABLED", default_value_t = true, action = clap::ArgAction::Set)]
        provisioning_log_enabled: bool,
        /// Seconds an OAuth 2.0 access token from POST /oauth/token stays valid.
        #[arg(long, env = "SCIM_SEATS_OAUTH_TOKEN_TTL_SECS", default_value_t = 3600)]
        oauth_token_ttl_secs: u64,
    },
    /// Renew (or expire) every contract whose term has ended, then exit.
    RenewDue {
        #[command(flatten)]
        db: DbArgs,
        /// The day to renew as of (default: today, UTC).
        #[arg(long)]
        today: Option<NaiveDate>,
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
    /// OAuth 2.0 clients for SCIM (client credentials grant at POST /oauth/token).
    OauthClient {
        #[command(subcommand)]
        command: OauthClientCommand,
    },
    /// Group → tier mapping: members of a mapped SCIM group get that tier's seat when one is
    /// free, else wait for one. A user in several mapped groups gets the highest tier.
    GroupTier {
        #[command(subcommand)]
        command: GroupTierCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum OauthClientCommand {
    /// Create a client; prints its id and its secret (shown once).
    Create {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Add a secret to a client (rotation); prints it once. Older secrets stay valid.
    AddSecret {
        client_id: String,
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
    },
    /// Revoke a client: its secrets and access tokens stop working at once.
    Revoke {
        client_id: String,
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
    },
    /// List an organization's clients and their secrets' ids.
    List {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum GroupTierCommand {
    /// List the rules and the users waiting for a tier.
    List {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
    },
    /// Map a group (its SCIM id or displayName) to `premium` or `standard`.
    Set {
        group: String,
        tier: String,
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
    },
    /// Remove a group's rule; its members keep their seats.
    Remove {
        group: String,
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
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
        /// Email of the Primary Owner: its member is created and its first invitation (valid
        /// 21 days) is queued for mail; accepting it returns a session token.
        #[arg(long)]
        owner_email: Option<String>,
        /// Public base URL of the server, for the link in the invitation mail.
        #[arg(
            long,
            env = "SCIM_SEATS_PUBLIC_URL",
            default_value = "http://127.0.0.1:8080"
        )]
        public_url: String,
        /// First day of the one-year contract term, YYYY-MM-DD (default: today, UTC).
        #[arg(long)]
        term_start: Option<NaiveDate>,
        /// ISO 4217 currency of the contract.
        #[arg(long, default_value = "USD")]
        currency: String,
        /// Annual price of a standard seat, exact decimal.
        #[arg(long, default_value = "600.00")]
        standard_price: Decimal,
        /// Annual price of a premium seat, exact decimal.
        #[arg(long, default_value = "1200.00")]
        premium_price: Decimal,
        /// Renew at term end with the seats in use (the default).
        #[arg(long, overrides_with = "no_auto_renew")]
        auto_renew: bool,
        /// Let the contract expire at term end.
        #[arg(long, overrides_with = "auto_renew")]
        no_auto_renew: bool,
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
    /// Print an owner-API token (JWT) for a member, to bootstrap the owner API. Signed with
    /// SCIM_SEATS_JWT_SECRET, which must be the server's.
    Owner {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long, default_value_t = 24)]
        ttl_hours: u64,
    },
}

fn open(db: &DbArgs) -> anyhow::Result<Db> {
    crate::migrate::open_and_migrate(|| Db::connect_for_command(&db.database_url))
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
            renewal_interval_secs,
            mail_interval_secs,
            public_url,
            session_ttl_hours,
            smtp_url,
            mail_from,
            outbound_allow,
            db_budget_ms,
            searches_per_org,
            oauth_token_ttl_secs,
            provisioning_log_days,
            provisioning_log_enabled,
        } => {
            crate::telemetry::init("info,actix_server=warn", log_json);
            let mut settings = Settings::default();
            if let Some(keys) = JwtKeys::from_env()? {
                settings.auth.jwt = keys;
            }
            settings.billing.renewal_interval =
                (renewal_interval_secs > 0).then(|| Duration::from_secs(renewal_interval_secs));
            settings.mail.delivery_interval =
                (mail_interval_secs > 0).then(|| Duration::from_secs(mail_interval_secs));
            settings.mail.public_url = public_url.unwrap_or_else(|| format!("http://{bind}"));
            settings.auth.session_ttl = Duration::from_secs(session_ttl_hours.max(1) * 3600);
            match (smtp_url, mail_from) {
                (Some(url), Some(from)) => {
                    settings.mail.sender =
                        std::sync::Arc::new(crate::smtp::SmtpSender::new(&url, &from)?);
                }
                (Some(_), None) => anyhow::bail!(
                    "SCIM_SEATS_SMTP_URL is set but SCIM_SEATS_MAIL_FROM is not: set the From address"
                ),
                (None, _) => {}
            }
            settings.outbound = crate::outbound::Policy::parse(&outbound_allow)
                .map_err(|e| anyhow::anyhow!("SCIM_SEATS_OUTBOUND_ALLOW: {e}"))?;
            settings.scim.oauth_token_ttl = Duration::from_secs(oauth_token_ttl_secs.max(1));
            settings.provisioning_log.retention_days = provisioning_log_days;
            settings.provisioning_log.enabled = provisioning_log_enabled;
            settings.database.url = db.database_url;
            settings.database.pool_size = pool_size;
            settings.database.budget =
                (db_budget_ms > 0).then(|| Duration::from_millis(db_budget_ms));
            settings.scim.searches_per_org = searches_per_org;
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
        Command::RenewDue { db, today } => {
            let db = open(&db)?;
            let today = today.unwrap_or_else(|| crate::clock::Clock::System.today());
            let outcomes = renewal::renew_due(&db, today)?;
            for o in &outcomes {
                match o {
                    renewal::Outcome::Renewed {
                        org_id,
                        term_start,
                        standard,
                        premium,
                        invoice,
                    } => println!(
                        "renewed {org_id} from {term_start}: {standard} standard, {premium} premium, invoice {}",
                        invoice.as_deref().unwrap_or("none (no seats in use)")
                    ),
                    renewal::Outcome::Expired { org_id, last_day } => {
                        println!("expired {org_id} (last day {last_day})")
                    }
                    renewal::Outcome::NotDue => {}
                }
            }
            println!(
                "{} contract(s) renewed or expired as of {today}",
                outcomes.len()
            );
        }
        Command::Org { command } => match command {
            OrgCommand::Create {
                slug,
                db,
                name,
                domains,
                standard_seats,
                premium_seats,
                owner_email,
                public_url,
                term_start,
                currency,
                standard_price,
                premium_price,
                auto_renew: _,
                no_auto_renew,
            } => {
                let db = open(&db)?;
                let new = orgs::NewOrg {
                    slug,
                    name,
                    domains,
                    standard_seats,
                    premium_seats,
                };
                let opts = orgs::OrgOptions {
                    contract: NewContract {
                        term_start,
                        currency,
                        standard_price,
                        premium_price,
                        auto_renew: !no_auto_renew,
                    },
                    owner_email,
                };
                let accept_url = format!(
                    "{}{}",
                    public_url.trim_end_matches('/'),
                    crate::domain::members::invitations::ACCEPT_PATH
                );
                let (org, invitation) =
                    db.write_sync(|c| orgs::create_full(c, &new, &opts, &accept_url))?;
                println!("created organization {} ({})", org.slug, org.id);
                if let (Some(email), Some(token)) = (&opts.owner_email, invitation) {
                    // Shown once, like a SCIM token: without a mail server configured this is
                    // how the Primary Owner gets in: the link opens the invitation page (the
                    // bare token also works with POST /api/v1/invitations/accept).
                    eprintln!(
                        "invitation for the Primary Owner {email} (valid 21 days, also queued for mail); open in a browser:\n  {accept_url}?token={token}\nthe token alone:"
                    );
                    println!("{token}");
                }
            }
        },
        Command::GroupTier { command } => group_tier(command)?,
        Command::OauthClient { command } => oauth_client(command)?,
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
            TokenCommand::Owner {
                db,
                org,
                email,
                ttl_hours,
            } => {
                let keys = JwtKeys::from_env()?.ok_or_else(|| {
                    anyhow::anyhow!(
                        "set SCIM_SEATS_JWT_SECRET to the server's secret: a token signed with \
                         another key would not verify"
                    )
                })?;
                let db = open(&db)?;
                let (org_id, member) = db.read_sync(|c| {
                    let org = orgs::by_slug(c, &org)?;
                    let member = members::by_email(c, &org.id, &email)?;
                    Ok((org.id, member))
                })?;
                let ttl = Duration::from_secs(ttl_hours.saturating_mul(3600));
                let token = jwt::issue_owner(
                    &keys,
                    &org_id,
                    &member.id,
                    ttl,
                    chrono::Utc::now().timestamp(),
                )?;
                eprintln!(
                    "owner token for {} ({}) valid {ttl_hours} h:",
                    member.email, member.role
                );
                println!("{token}");
            }
        },
    }
    Ok(())
}

/// The operator, as the audit log names it.
fn operator() -> Actor {
    Actor::new("cli", Source::System)
}

fn group_tier(command: GroupTierCommand) -> anyhow::Result<()> {
    match command {
        GroupTierCommand::List { db, org } => {
            let db = open(&db)?;
            let p = db.read_sync(|c| {
                let org = orgs::by_slug(c, &org)?;
                seat_policy::policy(c, &org.id)
            })?;
            for r in p.rules {
                println!(
                    "{}\t{}\t{}\t{} members",
                    r.group_id, r.group, r.tier, r.members
                );
            }
            for w in p.waits {
                println!(
                    "waiting\t{}\t{}\tholds {}\twants {}\tsince {}",
                    w.user_id,
                    w.user_name,
                    w.holding.as_deref().unwrap_or("-"),
                    w.waiting_for,
                    w.since
                );
            }
        }
        GroupTierCommand::Set {
            group,
            tier,
            db,
            org,
        } => {
            let t = Tier::parse(&tier)
                .ok_or_else(|| anyhow::anyhow!("unknown tier '{tier}': use premium or standard"))?;
            let db = open(&db)?;
            let rule = db.write_sync(|c| {
                let org = orgs::by_slug(c, &org)?;
                let id = seat_policy::resolve_group(c, &org.id, &group)?;
                seat_policy::put_rule(c, &org.id, &id, t, &operator())
            })?;
            println!(
                "group {} ({}) maps to {} ({} members)",
                rule.group, rule.group_id, rule.tier, rule.members
            );
        }
        GroupTierCommand::Remove { group, db, org } => {
            let db = open(&db)?;
            let id = db.write_sync(|c| {
                let org = orgs::by_slug(c, &org)?;
                let id = seat_policy::resolve_group(c, &org.id, &group)?;
                seat_policy::remove_rule(c, &org.id, &id, &operator())?;
                Ok(id)
            })?;
            println!("rule of group {id} removed");
        }
    }
    Ok(())
}

fn oauth_client(command: OauthClientCommand) -> anyhow::Result<()> {
    match command {
        OauthClientCommand::Create {
            db,
            org,
            description,
        } => {
            let db = open(&db)?;
            let issued = db.write_sync(|c| {
                let org = orgs::by_slug(c, &org)?;
                oauth::create_client(c, &org.id, &description, &operator())
            })?;
            eprintln!("OAuth client created; its secret is shown once:");
            println!("client_id={}", issued.client_id);
            println!("client_secret={}", issued.client_secret);
        }
        OauthClientCommand::AddSecret { client_id, db, org } => {
            let db = open(&db)?;
            let issued = db.write_sync(|c| {
                let org = orgs::by_slug(c, &org)?;
                oauth::add_secret(c, &org.id, &client_id, &operator())
            })?;
            eprintln!("secret {} added; it is shown once:", issued.secret_id);
            println!("client_secret={}", issued.client_secret);
        }
        OauthClientCommand::Revoke { client_id, db, org } => {
            let db = open(&db)?;
            db.write_sync(|c| {
                let org = orgs::by_slug(c, &org)?;
                oauth::revoke_client(c, &org.id, &client_id, &operator())
            })?;
            println!("OAuth client {client_id} revoked");
        }
        OauthClientCommand::List { db, org } => {
            let db = open(&db)?;
            let clients = db.read_sync(|c| {
                let org = orgs::by_slug(c, &org)?;
                oauth::list(c, &org.id)
            })?;
            for cl in clients {
                let state = if cl.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                let live = cl.secrets.iter().filter(|s| s.revoked_at.is_none()).count();
                println!(
                    "{}\t{state}\t{live} active secrets\tcreated {}\t{}",
                    cl.client_id, cl.created_at, cl.description
                );
            }
        }
    }
    Ok(())
}
