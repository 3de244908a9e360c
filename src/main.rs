use clap::Parser;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    scim_seats::cli::run(scim_seats::cli::Cli::parse()).await
}
