//! What every handler can reach: the application state built once by `startup` and shared
//! by the api, web and auth modules. Its own module so that those can use it while `startup`
//! uses them.

use crate::clock::Clock;
use crate::config::Settings;
use crate::fair::OrgGate;
use crate::store::Db;

pub struct AppState {
    pub db: Db,
    pub settings: Settings,
    /// Billing's "today".
    pub clock: Clock,
    /// At most so many expensive reads per organization at once.
    pub searches: OrgGate,
}
