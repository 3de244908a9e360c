//! SCIM users: indexed columns for what IdPs filter on, the full resource as JSON text, and
//! the seat state the engine keeps.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::cached::{cached, native, Cached};
use super::filter_sql;
use super::page_marks::{self, PageMarks, STRIDE};
use super::plan::{self, UserKey};
use super::query::{ListSpec, Predicate, Resource};
use super::schema::{scim_group_members, scim_groups, scim_user_emails, scim_users};
use super::sqlite::Ts;
use super::{Backend, DbConn, Q};
use crate::error::Error;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = scim_users)]
pub struct UserRow {
    pub id: String,
    pub org_id: String,
    pub user_name: String,
    pub user_name_norm: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub active: bool,
    pub seat_status: String,
    pub seat_tier: Option<String>,
    #[diesel(deserialize_as = super::sqlite::MaybeTs)]
    pub seated_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = super::sqlite::MaybeTs)]
    pub pending_since: Option<NaiveDateTime>,
    pub queue_seq: Option<i64>,
    pub source: String,
    pub resource: String,
    pub version: i64,
    #[diesel(deserialize_as = super::sqlite::Ts)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = super::sqlite::Ts)]
    pub updated_at: NaiveDateTime,
}

/// One email value, kept as a row so email filters are index lookups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailRow {
    pub value: String,
    pub email_type: Option<String>,
    pub primary: bool,
}

/// A user row as written: the row's own strings, and its timestamps through
/// `sqlite::Ts` (cheaper than diesel's chrono path; see `sqlite::timestamp`).
/// None is NULL on insert and update alike: both statements have fixed SQL and are prepared
/// once.
#[derive(Insertable, AsChangeset)]
#[diesel(
    table_name = scim_users,
    treat_none_as_null = true,
    treat_none_as_default_value = false
)]
struct UserWrite<'a> {
    id: &'a str,
    org_id: &'a str,
    user_name: &'a str,
    user_name_norm: &'a str,
    external_id: Option<&'a str>,
    display_name: Option<&'a str>,
    active: bool,
    seat_status: &'a str,
    seat_tier: Option<&'a str>,
    seated_at: Option<Ts>,
    pending_since: Option<Ts>,
    queue_seq: Option<i64>,
    source: &'a str,
    resource: &'a str,
    version: i64,
    created_at: Ts,
    updated_at: Ts,
}

impl<'a> From<&'a UserRow> for UserWrite<'a> {
    fn from(r: &'a UserRow) -> Self {
        UserWrite {
            id: &r.id,
            org_id: &r.org_id,
            user_name: &r.user_name,
            user_name_norm: &r.user_name_norm,
            external_id: r.external_id.as_deref(),
            display_name: r.display_name.as_deref(),
            active: r.active,
            seat_status: &r.seat_status,
            seat_tier: r.seat_tier.as_deref(),
            seated_at: r.seated_at.map(Ts),
            pending_since: r.pending_since.map(Ts),
            queue_seq: r.queue_seq,
            source: &r.source,
            resource: &r.resource,
            version: r.version,
            created_at: Ts(r.created_at),
            updated_at: Ts(r.updated_at),
        }
    }
}

/// Insert a user. The caller has counted it into its organization's `user_count`
/// (`orgs::lock_and_next_seq` with one new user).
pub fn insert(conn: &mut DbConn, row: &UserRow) -> Q<()> {
    if row.queue_seq.is_some() {
        super::held::note_queued(&row.org_id);
    }
    native!(conn, |c| diesel::insert_into(scim_users::table)
        .values(UserWrite::from(row))
        .execute(c))
    .map(|_| ())
}

/// Write back every column of the row (seat state and resource change together).
pub fn update(conn: &mut DbConn, row: &UserRow) -> Q<()> {
    if row.queue_seq.is_some() {
        super::held::note_queued(&row.org_id);
    }
    // treat_none_as_null: every column is in the SET list, so the SQL never varies.
    native!(conn, |c| cached!(diesel::update(
        scim_users::table
            .filter(scim_users::id.eq(&row.id))
            .filter(scim_users::org_id.eq(&row.org_id)),
    )
    .set(UserWrite::from(row)))
    .rows(c))
    .map(|_| ())
}

pub fn find(conn: &mut DbConn, org_id: &str, id: &str) -> Q<Option<UserRow>> {
    native!(conn, |c| cached!(scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::id.eq(id))
        .select(UserRow::as_select())
        .limit(1))
    .get_result(c)
    .optional())
}

pub fn find_by_user_name(conn: &mut DbConn, org_id: &str, user_name: &str) -> Q<Option<UserRow>> {
    let norm = user_name.to_lowercase();
    native!(conn, |c| cached!(scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::user_name_norm.eq(&norm))
        .select(UserRow::as_select())
        .limit(1))
    .get_result(c)
    .optional())
}

/// The users of the organization with the ids given, in no particular order.
pub fn by_ids(conn: &mut DbConn, org_id: &str, ids: &[String]) -> Q<Vec<UserRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::id.eq_any(ids))
        .select(UserRow::as_select())
        .load(conn)
}

/// Delete a user with its emails; true when it existed. The caller has taken it out of its
/// groups first (`groups::leave_all_groups`), since those groups get a new version.
pub fn delete(conn: &mut DbConn, org_id: &str, id: &str) -> Q<bool> {
    let n = diesel::delete(
        scim_users::table
            .filter(scim_users::org_id.eq(org_id))
            .filter(scim_users::id.eq(id)),
    )
    .execute(conn)?;
    if n == 1 {
        super::orgs::add_users(conn, org_id, -1)?;
    }
    Ok(n == 1)
}

/// Replace the email rows of a user.
pub fn set_emails(conn: &mut DbConn, org_id: &str, user_id: &str, emails: &[EmailRow]) -> Q<()> {
    diesel::delete(scim_user_emails::table.filter(scim_user_emails::user_id.eq(user_id)))
        .execute(conn)?;
    insert_emails(conn, org_id, user_id, emails)
}

/// The email rows of a user that has none yet (a new one).
pub fn insert_emails(conn: &mut DbConn, org_id: &str, user_id: &str, emails: &[EmailRow]) -> Q<()> {
    // One insert per value: multi-backend connections have no portable batch insert.
    for (i, e) in emails.iter().enumerate() {
        let value_norm = e.value.to_lowercase();
        native!(conn, |c| diesel::insert_into(scim_user_emails::table)
            .values((
                scim_user_emails::user_id.eq(user_id),
                scim_user_emails::org_id.eq(org_id),
                scim_user_emails::position.eq(i as i32),
                scim_user_emails::value.eq(&e.value),
                scim_user_emails::value_norm.eq(&value_norm),
                scim_user_emails::email_type.eq(e.email_type.as_deref()),
                scim_user_emails::is_primary.eq(e.primary),
            ))
            .execute(c))?;
    }
    Ok(())
}

/// One page of the users `spec` asks for, and the total that match. A filter naming one
/// user (`plan::user_key`) is answered by `find` or `find_by_user_name`; an unfiltered page
/// deep in the default order seeks from a remembered position when the read has them
/// (`page_marks::in_use`: inside `Db::read`, one snapshot, so the organization's counters,
/// the positions' version and the rows all agree).
pub fn list(
    conn: &mut DbConn,
    org_id: &str,
    spec: &ListSpec<'_>,
) -> Result<(Vec<UserRow>, i64), Error> {
    let backend = Backend::of(conn);
    let sort = spec
        .sort_by
        .map(|attr| filter_sql::sort_key(Resource::User, attr, backend))
        .transpose()?;
    // One user at most: no page to sort or count.
    if let (Some(key), 0, 1..) = (
        spec.filter.and_then(plan::user_key),
        spec.offset,
        spec.limit,
    ) {
        let row = match key {
            UserKey::Id(id) => find(conn, org_id, id)?,
            UserKey::UserName(name) => find_by_user_name(conn, org_id, name)?,
        };
        let rows: Vec<UserRow> = row.into_iter().collect();
        let total = rows.len() as i64;
        return Ok((rows, total));
    }
    let predicate = || -> Result<Option<Predicate<scim_users::table>>, Error> {
        spec.filter
            .map(|f| filter_sql::predicate(Resource::User, f, backend))
            .transpose()
    };
    // The unfiltered total, when the deep-page path below has read it already.
    let mut counted = None;
    if let Some(marks) = page_marks::in_use() {
        if spec.filter.is_none()
            && spec.in_default_order()
            && spec.offset >= STRIDE
            && spec.limit > 0
        {
            let (total, version) = super::orgs::user_count_and_version(conn, org_id)?;
            if let Some(rows) = list_from_mark(conn, org_id, spec, &marks, version)? {
                return Ok((rows, total));
            }
            counted = Some(total);
        }
    }
    let mut q = scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .select(UserRow::as_select())
        .into_boxed();
    if let Some(pred) = predicate()? {
        q = q.filter(pred);
    }
    use scim_users::dsl as u;
    q = match (&sort, spec.descending) {
        (None, false) => q.order((u::created_at.asc(), u::id.asc())),
        (None, true) => q.order((u::created_at.desc(), u::id.desc())),
        (Some(key), descending) => q.order(diesel::dsl::sql::<diesel::sql_types::Text>(
            &key.order_by(descending),
        )),
    };
    let rows: Vec<UserRow> = if spec.limit == 0 {
        Vec::new()
    } else {
        q.offset(spec.offset).limit(spec.limit).load(conn)?
    };
    // A first page that is not full holds every match: no COUNT needed (the usual IdP lookup).
    if spec.limit > 0 && spec.offset == 0 && (rows.len() as i64) < spec.limit {
        let total = rows.len() as i64;
        return Ok((rows, total));
    }
    let total: i64 = match predicate()? {
        // Unfiltered: the organization's counter, not a count of up to millions of rows.
        None => match counted {
            Some(total) => total,
            None => super::orgs::user_count_and_version(conn, org_id)?.0,
        },
        Some(pred) => scim_users::table
            .filter(scim_users::org_id.eq(org_id))
            .filter(pred)
            .count()
            .get_result(conn)?,
    };
    Ok((rows, total))
}

/// An unfiltered page in the default order, from the remembered position nearest before it,
/// for the organization's users at `version`. `None` when there is none (the caller then
/// reads the page the plain way).
fn list_from_mark(
    conn: &mut DbConn,
    org_id: &str,
    spec: &ListSpec<'_>,
    marks: &PageMarks,
    version: i64,
) -> Q<Option<Vec<UserRow>>> {
    let Some((at, (created, id))) = marks.seek(conn, org_id, version, spec.offset)? else {
        return Ok(None);
    };
    use scim_users::dsl as u;
    let rows = u::scim_users
        .filter(u::org_id.eq(org_id))
        .filter(page_marks::from_key(created, &id))
        .order((u::created_at.asc(), u::id.asc()))
        .select(UserRow::as_select())
        .offset(spec.offset - at)
        .limit(spec.limit)
        .into_boxed()
        .load(conn)?;
    Ok(Some(rows))
}

/// The oldest pending user of the organization (head of the queue).
pub fn queue_head(conn: &mut DbConn, org_id: &str) -> Q<Option<UserRow>> {
    // Nobody queued (`held` knows): no read for a drain after every release.
    if super::held::has_queue(conn, org_id)? == Some(false) {
        return Ok(None);
    }
    scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::queue_seq.is_not_null())
        .order(scim_users::queue_seq.asc())
        .select(UserRow::as_select())
        .first(conn)
        .optional()
}

/// Queue positions for many queue numbers at once (one query for a whole page).
pub fn queue_positions(conn: &mut DbConn, org_id: &str, seqs: &[i64]) -> Q<Vec<(i64, i64)>> {
    if seqs.is_empty() {
        return Ok(Vec::new());
    }
    let min = seqs.iter().copied().min().unwrap_or(0);
    let ahead: i64 = scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::queue_seq.lt(min))
        .count()
        .get_result(conn)?;
    let mut in_range: Vec<i64> = scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::queue_seq.ge(min))
        .filter(scim_users::queue_seq.le(seqs.iter().copied().max().unwrap_or(min)))
        .select(scim_users::queue_seq.assume_not_null())
        .load(conn)?;
    in_range.sort_unstable();
    Ok(seqs
        .iter()
        .map(|s| {
            let before = in_range.partition_point(|x| x < s) as i64;
            (*s, ahead + before + 1)
        })
        .collect())
}

/// Count users in a seat status (for invariants and reports).
pub fn count_by_status(conn: &mut DbConn, org_id: &str, status: &str) -> Q<i64> {
    scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::seat_status.eq(status))
        .count()
        .get_result(conn)
}

/// `(user_id, group_id, group display name)` for the users given: their `groups` attribute.
pub fn groups_of(
    conn: &mut DbConn,
    org_id: &str,
    user_ids: &[String],
) -> Q<Vec<(String, String, String)>> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    if let [one] = user_ids {
        // Every GET and lookup: one prepared statement, found by its call site.
        return native!(conn, |c| cached!(scim_group_members::table
            .inner_join(scim_groups::table)
            .filter(scim_group_members::org_id.eq(org_id))
            .filter(scim_group_members::member_id.eq(one))
            .order(scim_groups::display_name.asc())
            .select((
                scim_group_members::member_id,
                scim_groups::id,
                scim_groups::display_name,
            )))
        .load(c));
    }
    let mut q = scim_group_members::table
        .inner_join(scim_groups::table)
        .filter(scim_group_members::org_id.eq(org_id))
        .into_boxed();
    // `IN (?, ?, …)` is a new statement for every list length, never a cached one. A page of
    // users on SQLite is one JSON array bind, so the SQL is the same for every page;
    // PostgreSQL binds an array (`= ANY($1)`) already.
    let backend = super::Backend::of(conn);
    q = match user_ids {
        many if backend == super::Backend::Sqlite => {
            let ids = serde_json::Value::from(many.to_vec()).to_string();
            q.filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "scim_group_members.member_id IN (SELECT value FROM json_each(",
                )
                .bind::<diesel::sql_types::Text, _>(ids)
                .sql("))"),
            )
        }
        many => q.filter(scim_group_members::member_id.eq_any(many)),
    };
    Cached::by_text(
        q.order((
            scim_group_members::member_id.asc(),
            scim_groups::display_name.asc(),
        ))
        .select((
            scim_group_members::member_id,
            scim_groups::id,
            scim_groups::display_name,
        )),
    )
    .load(conn)
}

/// Ids of the users given that exist in the organization.
pub fn existing_ids(conn: &mut DbConn, org_id: &str, ids: &[String]) -> Q<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let q = scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .select(scim_users::id)
        .into_boxed();
    // `IN (…)` is never a cached statement; one id (a single member add) is `=`.
    match ids {
        [one] => q.filter(scim_users::id.eq(one)).load(conn),
        many => q.filter(scim_users::id.eq_any(many)).load(conn),
    }
}

/// The accounts whose userName or one of whose emails is one of `emails_norm` (lowercased),
/// as `(email_norm, user)`, oldest account first. This is how an org member finds its seat.
pub fn by_emails(
    conn: &mut DbConn,
    org_id: &str,
    emails_norm: &[String],
) -> Q<Vec<(String, UserRow)>> {
    if emails_norm.is_empty() {
        return Ok(Vec::new());
    }
    let mut out: Vec<(String, UserRow)> = scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::user_name_norm.eq_any(emails_norm))
        .select(UserRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|u| (u.user_name_norm.clone(), u))
        .collect();
    let by_email: Vec<(String, UserRow)> = scim_user_emails::table
        .inner_join(scim_users::table)
        .filter(scim_user_emails::org_id.eq(org_id))
        .filter(scim_user_emails::value_norm.eq_any(emails_norm))
        .select((scim_user_emails::value_norm, UserRow::as_select()))
        .load(conn)?;
    out.extend(by_email);
    out.sort_by(|a, b| (a.1.created_at, &a.1.id).cmp(&(b.1.created_at, &b.1.id)));
    Ok(out)
}

/// Accounts holding a seat of `tier`, longest-seated first (at most `limit`).
pub fn seat_holders(conn: &mut DbConn, org_id: &str, tier: &str, limit: i64) -> Q<Vec<UserRow>> {
    scim_users::table
        .filter(scim_users::org_id.eq(org_id))
        .filter(scim_users::seat_status.eq("active"))
        .filter(scim_users::seat_tier.eq(tier))
        .order((scim_users::seated_at.asc(), scim_users::id.asc()))
        .limit(limit)
        .select(UserRow::as_select())
        .load(conn)
}
