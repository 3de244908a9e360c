//! `GET /reports`: the owner's report page, rendered on the server. Seat usage with a small
//! inline-SVG bar chart, the "buy what is needed" quote, and the pending table (sortable and
//! filterable by a few lines of inline JS), with a link to the full CSV.
//!
//! Log-in: `/reports?token=<owner JWT>` checks the token, stores it in an HttpOnly,
//! SameSite=Strict cookie and redirects to `/reports`, so the token leaves the address bar and
//! the history. The cookie is accepted only here and on the CSV (both read-only GETs).
//! Everything user-derived is HTML-escaped; a Content-Security-Policy with a per-response
//! nonce lets only our own script run, should escaping ever miss something.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;

use crate::api::owner::render::escape_html as e;
use crate::domain::billing::{LineKind, Quote};
use crate::domain::members::Role;
use crate::domain::reports::{self, PendingEntry, PendingSummary, Usage};
use crate::error::Error;
use crate::startup::AppState;
use crate::store::{self, reports::From};

/// Rows shown on the page; the CSV has them all.
pub const PAGE_ROWS: i64 = 1000;

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    token: Option<String>,
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> HttpResponse {
    match render_or_login(&req, &state, query.into_inner()).await {
        Ok(resp) => resp,
        Err(err) => error_page(&err),
    }
}

async fn render_or_login(
    req: &HttpRequest,
    state: &AppState,
    query: PageQuery,
) -> Result<HttpResponse, Error> {
    if let Some(token) = query.token.filter(|t| !t.is_empty()) {
        // Check it before storing it: a bad token gets an error, not a cookie.
        super::session::from_token(req, &token).await?;
        let max_age = super::session::seconds_left(req, &token);
        let secure = req.connection_info().scheme() == "https";
        let cookie = Cookie::build(super::session::COOKIE, token)
            .path("/")
            .http_only(true)
            .secure(secure)
            .same_site(SameSite::Strict)
            .max_age(time::Duration::seconds(max_age))
            .finish();
        return Ok(HttpResponse::SeeOther()
            .cookie(cookie)
            .insert_header((header::LOCATION, "/reports"))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .finish());
    }
    let session = super::session::bearer_or_cookie(req).await?;
    session.require(Role::Admin)?;
    let org_id = session.org_id.clone();
    let today = state.clock.today();
    let data = state
        .db
        .read(move |c| {
            let org =
                store::orgs::find(c, &org_id)?.ok_or_else(|| Error::not_found("organization"))?;
            let usage = reports::usage(c, &org_id)?;
            let summary = reports::pending_summary(c, &org_id, today)?;
            let entries =
                reports::pending_entries(c, &org_id, From::Offset(0), PAGE_ROWS, 1, store::now())?;
            Ok(PageData {
                org_name: org.name,
                usage,
                summary,
                entries,
            })
        })
        .await?;
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("Content-Security-Policy", csp(&nonce)))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .insert_header(("Referrer-Policy", "no-referrer"))
        .body(html(&data, &nonce)))
}

fn csp(nonce: &str) -> String {
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; \
         img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
    )
}

fn error_page(err: &Error) -> HttpResponse {
    let status = err.status_code();
    let hint = match status {
        StatusCode::UNAUTHORIZED => {
            "Open this page with your owner token once: <code>/reports?token=&lt;owner JWT&gt;</code>."
        }
        StatusCode::FORBIDDEN => "The pending-user report is for Admins, Owners and the Primary Owner.",
        _ => "",
    };
    let detail = match err {
        Error::Internal(_) => "internal error".to_string(),
        other => other.to_string(),
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Seat report</title></head>\
             <body style=\"font-family:sans-serif;margin:2em\"><h1>{} {}</h1><p>{}</p><p>{}</p></body></html>\n",
            status.as_u16(),
            e(status.canonical_reason().unwrap_or("")),
            e(&detail),
            hint
        ))
}

struct PageData {
    org_name: String,
    usage: Usage,
    summary: PendingSummary,
    entries: Vec<PendingEntry>,
}

fn percent(ratio: f64) -> String {
    format!("{:.1}%", ratio * 100.0)
}

/// Bars per tier: claimed over purchased, labelled.
fn chart(u: &Usage) -> String {
    const W: f64 = 520.0;
    const ROW: usize = 46;
    let height = ROW * u.tiers.len().max(1) + 10;
    let mut svg = format!(
        "<svg id=\"usage-chart\" role=\"img\" aria-label=\"Seats claimed per tier\" width=\"760\" \
         height=\"{height}\" viewBox=\"0 0 760 {height}\" xmlns=\"http://www.w3.org/2000/svg\">"
    );
    for (i, t) in u.tiers.iter().enumerate() {
        let y = i * ROW + 8;
        let filled = if t.purchased > 0 {
            (t.claimed as f64 / t.purchased as f64).min(1.0) * W
        } else {
            0.0
        };
        let color = if t.free == 0 { "#c0392b" } else { "#2e86c1" };
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{ty}\" font-size=\"15\" font-family=\"sans-serif\">{tier}</text>\
             <rect x=\"90\" y=\"{y}\" width=\"{W}\" height=\"26\" fill=\"#e5e8e8\" rx=\"3\"/>\
             <rect x=\"90\" y=\"{y}\" width=\"{filled:.1}\" height=\"26\" fill=\"{color}\" rx=\"3\"/>\
             <text x=\"620\" y=\"{ty}\" font-size=\"14\" font-family=\"sans-serif\">{c} / {p} ({pct})</text>",
            ty = y + 18,
            tier = e(&t.tier),
            c = t.claimed,
            p = t.purchased,
            pct = percent(t.utilization),
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn quote_html(q: &Quote) -> String {
    let mut rows = String::new();
    for l in &q.lines {
        let what = match l.kind {
            LineKind::AddSeats(t) => format!("{} seats", t.as_str()),
            LineKind::Upgrade => "upgrades".into(),
            LineKind::Renewal(t) => format!("{} renewal", t.as_str()),
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            e(&what),
            l.quantity,
            e(&l.unit_price.to_string()),
            e(&l.months_left.to_string()),
            e(&l.amount.to_string()),
        ));
    }
    format!(
        "<table id=\"quote\"><thead><tr><th>Item</th><th class=\"n\">Quantity</th>\
         <th class=\"n\">Annual price</th><th class=\"n\">Months left</th><th class=\"n\">Amount</th></tr></thead>\
         <tbody>{rows}</tbody><tfoot><tr><th colspan=\"4\">Total today</th>\
         <th class=\"n\" id=\"quote-total\">{total} {cur}</th></tr></tfoot></table>",
        total = e(&q.total.to_string()),
        cur = e(&q.currency.code),
    )
}

fn pending_rows(entries: &[PendingEntry]) -> String {
    let mut out = String::with_capacity(entries.len() * 300);
    for p in entries {
        out.push_str(&format!(
            "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td class=\"t\">{}</td><td class=\"n\">{}</td></tr>\n",
            p.queue_position,
            e(&p.display_name),
            e(&p.user_name),
            e(p.email.as_deref().unwrap_or("")),
            e(&p.source),
            e(p.external_id.as_deref().unwrap_or("")),
            e(&p.groups.join(", ")),
            e(p.requested_tier.map(|t| t.as_str()).unwrap_or("")),
            e(&p.pending_since
                .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default()),
            p.days_waiting,
        ));
    }
    out
}

const SCRIPT: &str = r#"
(function () {
  var table = document.getElementById('pending');
  if (!table) return;
  var body = table.tBodies[0];
  var filter = document.getElementById('filter');
  var shown = document.getElementById('shown');
  function apply() {
    var q = filter.value.toLowerCase(), n = 0;
    Array.prototype.forEach.call(body.rows, function (r) {
      var hit = r.textContent.toLowerCase().indexOf(q) !== -1;
      r.hidden = !hit; if (hit) n++;
    });
    shown.textContent = n;
  }
  filter.addEventListener('input', apply);
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
    th.addEventListener('click', function () {
      var asc = th.getAttribute('aria-sort') !== 'ascending';
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      var num = th.classList.contains('n');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[i].textContent, y = b.cells[i].textContent;
        var c = num ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
"#;

fn html(d: &PageData, nonce: &str) -> String {
    let u = &d.usage;
    let s = &d.summary;
    let mut tiers = String::new();
    for t in &u.tiers {
        tiers.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            e(&t.tier),
            t.purchased,
            t.claimed,
            t.free,
            percent(t.utilization)
        ));
    }
    let warning = match u.threshold {
        Some(t) if u.warning => format!(
            "<p class=\"warn\" id=\"alert\">Only {} free seat(s) left: below your alert threshold of {t}.</p>",
            u.free
        ),
        Some(t) => format!("<p id=\"alert\">Alert threshold: {t} free seats.</p>"),
        None => String::new(),
    };
    let quote = match (&s.quote, &s.quote_unavailable) {
        (Some(q), _) => format!(
            "<p>To let everyone in, buy <strong id=\"needed\">{} standard and {} premium</strong> \
             seat(s). Buying them today costs:</p>{}\
             <p class=\"muted\">Prorated to the end of the term; confirm in the billing screen \
             (<code>POST /api/v1/seats/preview</code>, then <code>/api/v1/seats/confirm</code>).</p>",
            s.needed.standard,
            s.needed.premium,
            quote_html(q)
        ),
        (None, Some(why)) => format!("<p id=\"needed\">{}</p>", e(why)),
        (None, None) => String::new(),
    };
    let more = if s.total > d.entries.len() as i64 {
        format!(
            "<p class=\"muted\">Showing the first {} of {} pending users; the CSV has them all.</p>",
            d.entries.len(),
            s.total
        )
    } else {
        String::new()
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>Seats and pending users — {org}</title>\
<style>\
body{{font-family:'DejaVu Sans',Arial,sans-serif;margin:2em;color:#1c2833}}\
h1{{margin-bottom:.2em}}h2{{margin-top:1.6em;border-bottom:2px solid #d5d8dc;padding-bottom:.2em}}\
table{{border-collapse:collapse;margin:.6em 0}}td,th{{border-bottom:1px solid #d5d8dc;padding:.35em .7em;text-align:left}}\
th{{background:#f4f6f6}}#pending{{font-size:.9em}}#pending td,#pending th{{padding:.3em .5em}}#pending th{{cursor:pointer}}.t{{white-space:nowrap}}\
.scroll{{overflow-x:auto}}.n{{text-align:right}}.muted{{color:#5d6d7e;font-size:.9em}}\
.warn{{background:#fdebd0;border-left:4px solid #e67e22;padding:.6em}}\
.cards{{display:flex;gap:1em;margin:1em 0}}.card{{background:#f4f6f6;padding:.7em 1.1em;border-radius:6px}}\
.card b{{display:block;font-size:1.6em}}input{{padding:.35em;font-size:1em;width:20em}}\
th[aria-sort=ascending]::after{{content:' \\25B2'}}th[aria-sort=descending]::after{{content:' \\25BC'}}\
</style></head><body>\n\
<h1>Seats and pending users</h1><p class=\"muted\">{org} · generated {generated}</p>\n\
<h2>Seat usage</h2>\n\
<div class=\"cards\"><div class=\"card\"><b id=\"purchased\">{purchased}</b>purchased</div>\
<div class=\"card\"><b id=\"claimed\">{claimed}</b>claimed</div>\
<div class=\"card\"><b id=\"free\">{free}</b>free</div>\
<div class=\"card\"><b>{util}</b>utilization</div>\
<div class=\"card\"><b id=\"pending-total\">{pending}</b>pending</div></div>\n\
{warning}\n{chart}\n\
<table id=\"tiers\"><thead><tr><th>Tier</th><th class=\"n\">Purchased</th><th class=\"n\">Claimed</th>\
<th class=\"n\">Free</th><th class=\"n\">Utilization</th></tr></thead><tbody>{tiers}</tbody></table>\n\
<h2>Buy what is needed</h2>\n{quote}\n\
<h2>Pending users ({pending})</h2>\n\
<p><a id=\"csv\" href=\"/api/v1/reports/pending.csv\">Download all as CSV</a></p>\n\
<p><label>Filter <input id=\"filter\" type=\"search\" placeholder=\"name, email, group…\"></label> \
<span class=\"muted\"><span id=\"shown\">{shown}</span> shown; click a column to sort</span></p>\n\
<div class=\"scroll\"><table id=\"pending\"><thead><tr><th class=\"n\">#</th><th>Name</th><th>User name</th><th>Email</th>\
<th>Source</th><th>IdP externalId</th><th>Groups</th><th>Requested tier</th><th>Pending since (UTC)</th>\
<th class=\"n\">Days</th></tr></thead><tbody>\n{rows}</tbody></table></div>\n{more}\n\
<script nonce=\"{nonce}\">{SCRIPT}</script>\n</body></html>\n",
        org = e(&d.org_name),
        generated = store::now().format("%Y-%m-%d %H:%M UTC"),
        purchased = u.purchased,
        claimed = u.claimed,
        free = u.free,
        util = percent(u.utilization),
        pending = s.total,
        chart = chart(u),
        shown = d.entries.len(),
        rows = pending_rows(&d.entries),
    )
}
