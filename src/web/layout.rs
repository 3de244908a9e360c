//! What the base layout (`templates/base.html`) shows around every page: the title, and for a
//! signed-in person who they are, the navigation their role allows and the sign-out form.

use crate::domain::members::Role;

#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

#[derive(Debug, Clone)]
pub struct Viewer {
    pub email: String,
    pub role: String,
    pub csrf_token: String,
    pub nav: Vec<NavItem>,
}

/// A message about the last action, shown once at the top of the next page.
#[derive(Debug, Clone)]
pub struct FlashMessage {
    pub ok: bool,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub viewer: Option<Viewer>,
    pub flash: Option<FlashMessage>,
}

/// The console's sections and the least role that may open each (PRODUCT.md's role table).
/// A section a role may not use is not offered; its URL answers 403 all the same.
pub const SECTIONS: &[(&str, &str, Role)] = &[
    ("/console", "Overview", Role::Member),
    ("/console/seats", "Seats", Role::Owner),
    ("/console/members", "Members", Role::Admin),
    ("/console/pending", "Pending users", Role::Admin),
    ("/console/invoices", "Invoices", Role::Owner),
    ("/console/settings", "Settings", Role::Owner),
    ("/console/audit", "Audit log", Role::Owner),
];

impl Layout {
    /// A page for someone who is not signed in.
    pub fn public(title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            viewer: None,
            flash: None,
        }
    }

    // `Layout::signed_in` is in session.rs, next to the session it reads.

    /// The same layout showing `flash` above the page.
    pub fn with_flash(mut self, flash: Option<FlashMessage>) -> Layout {
        self.flash = flash;
        self
    }
}
