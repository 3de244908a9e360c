//! What the base layout (`templates/base.html`) shows around every page: the title, and for a
//! signed-in person who they are, the navigation their role allows and the sign-out form.

use super::session::SignedIn;
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

    /// A page for a signed-in person; `current` is the section's path.
    pub fn signed_in(title: impl Into<String>, who: &SignedIn, current: &str) -> Layout {
        let nav = SECTIONS
            .iter()
            .filter(|(_, _, min)| who.session.role.at_least(*min))
            .map(|&(href, label, _)| NavItem {
                href,
                label,
                current: href == current,
            })
            .collect();
        Layout {
            title: title.into(),
            viewer: Some(Viewer {
                email: who.email.clone(),
                role: who.session.role.label().to_string(),
                csrf_token: who.csrf_token.clone(),
                nav,
            }),
            flash: None,
        }
    }

    /// The same layout showing `flash` above the page.
    pub fn with_flash(mut self, flash: Option<FlashMessage>) -> Layout {
        self.flash = flash;
        self
    }
}
