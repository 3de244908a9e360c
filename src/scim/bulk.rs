//! Bulk requests (RFC 7644 §3.7): parsing, limits, `bulkId` references and the order the
//! operations run in. Pure: the caller hands [`run_bulk`] a closure that runs one operation.
//!
//! - A malformed operation fails on its own (400 in its response) and the others still run,
//!   as §3.7 asks ("continue performing as many changes as possible"). Only a request that is
//!   not a BulkRequest at all (not an object, no BulkRequest `schemas`, no `Operations`
//!   array, a bad `failOnErrors`, too many operations) is refused as a whole.
//! - `bulkId`s are unique within a request (§3.7): the first operation that carries one owns
//!   it; a later operation carrying the same one, or an empty one, fails with 400
//!   `invalidValue`. Only a POST defines what `bulkId:<id>` resolves to.
//! - `bulkId:<id>` is a reference only where a resource id belongs (§3.7.2 uses it in a
//!   resource path and as a member's `value`): in the operation's path, in a Group's
//!   `members[].value`, in the enterprise User's `manager` (`manager.value` or a bare id),
//!   and in PATCH operations that target those. Anywhere else (a `displayName`, a `title`)
//!   it is literal text, exactly as the same body sent to `/Users` or `/Groups` would be.
//! - References resolve whatever the order of the operations (§3.7.2). Operations run in
//!   request order, except that one referencing a `bulkId` whose POST has not run yet waits
//!   and runs as soon as that POST has. A reference that can never resolve (no POST defines
//!   it, its POST failed, or a cycle such as two groups listing each other) fails that
//!   operation with 409, which §3.7.2 allows after a failed attempt.
//! - Reports come back in the request's order; `failOnErrors` counts failures in the order
//!   they happen and stops everything once reached (operations never processed are left
//!   out of the response).

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::error::{ScimError, ScimResult};
use super::schema::{BULK_REQUEST, CORE_GROUP, ENTERPRISE_USER};

/// The prefix that makes a string a reference to another operation's resource.
pub const BULK_ID_PREFIX: &str = "bulkId:";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkMethod {
    Post,
    Put,
    Patch,
    Delete,
}

impl BulkMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            BulkMethod::Post => "POST",
            BulkMethod::Put => "PUT",
            BulkMethod::Patch => "PATCH",
            BulkMethod::Delete => "DELETE",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "POST" => Some(BulkMethod::Post),
            "PUT" => Some(BulkMethod::Put),
            "PATCH" => Some(BulkMethod::Patch),
            "DELETE" => Some(BulkMethod::Delete),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkResource {
    Users,
    Groups,
}

impl BulkResource {
    /// The endpoint name, as in `/Users/{id}`.
    pub fn endpoint(self) -> &'static str {
        match self {
            BulkResource::Users => "Users",
            BulkResource::Groups => "Groups",
        }
    }
}

/// A resource an operation addresses, with its real id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub resource: BulkResource,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BulkOperation {
    pub method: BulkMethod,
    pub resource: BulkResource,
    /// The id part of the path (`/Users/{id}`), possibly `bulkId:…`.
    pub id: Option<String>,
    pub bulk_id: Option<String>,
    pub version: Option<String>,
    pub data: Option<Value>,
    /// The bulkIds this operation references (path and data), each once.
    pub refs: Vec<String>,
}

/// What an operation's response echoes, and where its path pointed; known even when the
/// operation is malformed.
#[derive(Debug, Clone, PartialEq)]
pub struct Head {
    /// `method` as sent (upper-cased); `None` if it was no string.
    pub method: Option<String>,
    /// `bulkId` as sent; `None` if it was no string.
    pub bulk_id: Option<String>,
    /// The path's resource type and id as written, when the path parsed.
    pub path: Option<(BulkResource, Option<String>)>,
}

/// One element of `Operations`: an operation to run, or why it cannot run.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkEntry {
    pub head: Head,
    pub op: Result<BulkOperation, ScimError>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BulkRequest {
    /// Stop after this many errors; `None` runs every operation.
    pub fail_on_errors: Option<usize>,
    pub operations: Vec<BulkEntry>,
}

fn get_ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

fn get_ci_mut<'a>(obj: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Value> {
    obj.iter_mut()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// Parse and check a bulk request against `max_operations` (too many → `tooMany`, which the
/// server answers with 413 as RFC 7644 §3.7.4 says). Errors here refuse the whole request;
/// a malformed operation is an `Err` in its own [`BulkEntry`].
pub fn parse_bulk_request(body: &Value, max_operations: usize) -> ScimResult<BulkRequest> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the request body must be a JSON object"))?;
    let has_schema = get_ci(obj, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(BULK_REQUEST))
            })
        });
    if !has_schema {
        return Err(ScimError::invalid_syntax(format!(
            "'schemas' must contain '{BULK_REQUEST}'"
        )));
    }
    let fail_on_errors =
        match get_ci(obj, "failOnErrors") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().filter(|n| *n >= 1).ok_or_else(|| {
                ScimError::invalid_value("'failOnErrors' must be a positive integer")
            })? as usize),
        };
    let ops = get_ci(obj, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("'Operations' must be an array"))?;
    if ops.len() > max_operations {
        return Err(ScimError::too_many(format!(
            "the bulk request has {} operations; maxOperations is {max_operations}",
            ops.len()
        )));
    }
    let mut operations: Vec<BulkEntry> = ops.iter().map(parse_entry).collect();
    reject_duplicate_bulk_ids(&mut operations);
    for (i, entry) in operations.iter_mut().enumerate() {
        if let Err(e) = &mut entry.op {
            e.detail = format!("Operations[{i}]: {}", e.detail);
        }
    }
    Ok(BulkRequest {
        fail_on_errors,
        operations,
    })
}

/// bulkIds are unique within a request: the first valid operation carrying one keeps it, a
/// later operation carrying it again fails. A malformed operation claims nothing, so it
/// cannot knock out a good one.
fn reject_duplicate_bulk_ids(entries: &mut [BulkEntry]) {
    let mut seen = HashSet::new();
    for entry in entries {
        let Ok(op) = &entry.op else { continue };
        let Some(b) = &op.bulk_id else { continue };
        if !seen.insert(b.clone()) {
            entry.op = Err(ScimError::invalid_value(format!(
                "bulkId '{b}' is used by an earlier operation; bulkIds must be unique \
                 within a bulk request"
            )));
        }
    }
}

fn parse_entry(op: &Value) -> BulkEntry {
    let Some(obj) = op.as_object() else {
        return BulkEntry {
            head: Head {
                method: None,
                bulk_id: None,
                path: None,
            },
            op: Err(ScimError::invalid_syntax(
                "each operation must be an object",
            )),
        };
    };
    let method = get_ci(obj, "method")
        .and_then(Value::as_str)
        .map(str::to_ascii_uppercase);
    let bulk_id = get_ci(obj, "bulkId")
        .and_then(Value::as_str)
        .map(str::to_string);
    let path = get_ci(obj, "path")
        .and_then(Value::as_str)
        .map(parse_path)
        .transpose();
    BulkEntry {
        op: path
            .clone()
            .and_then(|p| parse_operation(obj, method.as_deref(), p)),
        head: Head {
            method,
            bulk_id,
            path: path.ok().flatten(),
        },
    }
}

/// `/Users`, `/Users/{id}`, `Groups/{id}` → resource type and id.
fn parse_path(path: &str) -> ScimResult<(BulkResource, Option<String>)> {
    let trimmed = path.trim_start_matches('/');
    let (kind, id) = match trimmed.split_once('/') {
        Some((k, id)) => (k, Some(id.to_string()).filter(|s| !s.is_empty())),
        None => (trimmed, None),
    };
    let resource = if kind.eq_ignore_ascii_case("Users") {
        BulkResource::Users
    } else if kind.eq_ignore_ascii_case("Groups") {
        BulkResource::Groups
    } else {
        return Err(ScimError::invalid_path(format!(
            "'{path}' is not a Users or Groups path"
        )));
    };
    Ok((resource, id))
}

fn parse_operation(
    obj: &Map<String, Value>,
    method: Option<&str>,
    path: Option<(BulkResource, Option<String>)>,
) -> ScimResult<BulkOperation> {
    let method = method
        .and_then(BulkMethod::parse)
        .ok_or_else(|| ScimError::invalid_value("'method' must be POST, PUT, PATCH or DELETE"))?;
    let (resource, id) = path.ok_or_else(|| ScimError::invalid_value("'path' is required"))?;
    match (method, &id) {
        (BulkMethod::Post, Some(_)) => {
            return Err(ScimError::invalid_path(
                "POST goes to the collection (/Users or /Groups)",
            ))
        }
        (BulkMethod::Put | BulkMethod::Patch | BulkMethod::Delete, None) => {
            return Err(ScimError::invalid_path(format!(
                "{} needs a resource path",
                method.as_str()
            )))
        }
        _ => {}
    }
    let bulk_id = match get_ci(obj, "bulkId") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => {
            return Err(ScimError::invalid_value("'bulkId' must not be empty"))
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ScimError::invalid_value("'bulkId' must be a string")),
    };
    if method == BulkMethod::Post && bulk_id.is_none() {
        return Err(ScimError::invalid_value("POST operations need a 'bulkId'"));
    }
    let mut data = get_ci(obj, "data").cloned();
    if method != BulkMethod::Delete && data.is_none() {
        return Err(ScimError::invalid_value(format!(
            "{} operations need 'data'",
            method.as_str()
        )));
    }
    let mut refs: Vec<String> = id
        .as_deref()
        .and_then(|s| s.strip_prefix(BULK_ID_PREFIX))
        .map(str::to_string)
        .into_iter()
        .collect();
    if let Some(d) = data.as_mut() {
        reference_slots(method, resource, d, &mut |s: &mut String| {
            let r = &s[BULK_ID_PREFIX.len()..];
            if !refs.iter().any(|known| known == r) {
                refs.push(r.to_string());
            }
        });
    }
    Ok(BulkOperation {
        method,
        resource,
        id,
        bulk_id,
        version: get_ci(obj, "version")
            .and_then(Value::as_str)
            .map(str::to_string),
        data,
        refs,
    })
}

// ---------------------------------------------------------------------------------------
// Where references stand
// ---------------------------------------------------------------------------------------

/// Calls `f` on each `bulkId:…` string of `data` that stands where a resource id belongs.
fn reference_slots(
    method: BulkMethod,
    resource: BulkResource,
    data: &mut Value,
    f: &mut dyn FnMut(&mut String),
) {
    match method {
        BulkMethod::Post | BulkMethod::Put => {
            if let Value::Object(doc) = data {
                resource_slots(resource, doc, f);
            }
        }
        BulkMethod::Patch => patch_slots(resource, data, f),
        BulkMethod::Delete => {}
    }
}

/// A whole resource (POST/PUT body) or a path-less PATCH value.
fn resource_slots(
    resource: BulkResource,
    doc: &mut Map<String, Value>,
    f: &mut dyn FnMut(&mut String),
) {
    for (key, value) in doc.iter_mut() {
        attribute_slots(resource, key, value, f);
    }
}

/// The value of attribute `name` (a key of a resource, or a PATCH path without filter).
fn attribute_slots(
    resource: BulkResource,
    name: &str,
    value: &mut Value,
    f: &mut dyn FnMut(&mut String),
) {
    let name = name.trim();
    match resource {
        BulkResource::Groups => {
            if is_name(name, CORE_GROUP, "members") {
                members_slots(value, f);
            }
        }
        BulkResource::Users => {
            if name.eq_ignore_ascii_case(ENTERPRISE_USER) {
                if let Some(m) = value
                    .as_object_mut()
                    .and_then(|ext| get_ci_mut(ext, "manager"))
                {
                    manager_slots(m, f);
                }
            } else if is_name(name, ENTERPRISE_USER, "manager") {
                manager_slots(value, f);
            } else if is_name(name, ENTERPRISE_USER, "manager.value") {
                string_slot(value, f);
            }
        }
    }
}

/// `name` is `attr` or `<schema>:attr` (case-insensitive). Enterprise attributes need the
/// URN: a bare `manager` is not a User attribute.
fn is_name(name: &str, schema: &str, attr: &str) -> bool {
    if schema != ENTERPRISE_USER && name.eq_ignore_ascii_case(attr) {
        return true;
    }
    name.len() == schema.len() + 1 + attr.len()
        && name.is_char_boundary(schema.len())
        && name[..schema.len()].eq_ignore_ascii_case(schema)
        && name[schema.len()..].eq_ignore_ascii_case(&format!(":{attr}"))
}

/// `members`: a list of `{"value": id}`, or one such object (a PATCH add of one member).
fn members_slots(value: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match value {
        Value::Array(list) => {
            for member in list {
                member_slot(member, f);
            }
        }
        member => member_slot(member, f),
    }
}

fn member_slot(member: &mut Value, f: &mut dyn FnMut(&mut String)) {
    if let Some(v) = member.as_object_mut().and_then(|m| get_ci_mut(m, "value")) {
        string_slot(v, f);
    }
}

/// `manager`: `{"value": id}` or a bare id (Entra).
fn manager_slots(value: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match value {
        Value::Object(m) => {
            if let Some(v) = get_ci_mut(m, "value") {
                string_slot(v, f);
            }
        }
        v => string_slot(v, f),
    }
}

fn string_slot(value: &mut Value, f: &mut dyn FnMut(&mut String)) {
    if let Value::String(s) = value {
        if s.starts_with(BULK_ID_PREFIX) {
            f(s);
        }
    }
}

/// A PatchOp body: each operation's `value`, where its path (or, path-less, its keys) names
/// `members` or `manager`.
fn patch_slots(resource: BulkResource, data: &mut Value, f: &mut dyn FnMut(&mut String)) {
    let Some(ops) = data
        .as_object_mut()
        .and_then(|d| get_ci_mut(d, "Operations"))
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    for op in ops.iter_mut().filter_map(Value::as_object_mut) {
        let path = get_ci(op, "path")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string);
        let Some(value) = get_ci_mut(op, "value") else {
            continue;
        };
        match path {
            None => {
                if let Value::Object(doc) = value {
                    resource_slots(resource, doc, f);
                }
            }
            Some(p) => attribute_slots(resource, &p, value, f),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Running: references in any order
// ---------------------------------------------------------------------------------------

/// Why an operation failed.
#[derive(Debug)]
pub enum Failure<E> {
    /// The operation is malformed (400 with the error's `scimType`).
    Invalid(ScimError),
    /// A `bulkId` it references can never resolve (409).
    Unresolved(String),
    /// It ran and failed.
    Failed(E),
}

/// What became of one operation, for its entry in the response.
#[derive(Debug)]
pub struct Report<T, E> {
    pub method: Option<String>,
    pub bulk_id: Option<String>,
    /// The resource the operation addressed (its real id), when known; never for a POST
    /// that failed (RFC 7644 §3.7.3: `location` is required except then).
    pub target: Option<Target>,
    pub result: Result<T, Failure<E>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Waiting,
    Succeeded,
    Failed,
}

/// Whether an operation can run now.
enum Readiness {
    Ready,
    Wait,
    Never(String),
}

struct Run<'r, T, E, F> {
    ops: Vec<Option<BulkOperation>>,
    heads: Vec<Head>,
    status: Vec<Status>,
    reports: Vec<Option<Report<T, E>>>,
    /// bulkId → index of the POST that defines it.
    definers: HashMap<String, usize>,
    /// bulkId → id of the resource its POST created.
    created: HashMap<String, String>,
    errors: usize,
    fail_on_errors: Option<usize>,
    run: F,
    created_id: &'r dyn Fn(&T) -> Option<String>,
}

/// Runs the operations of `request` through `run`, each once, in request order except that
/// an operation referencing a `bulkId` whose POST has not run yet waits for it. Returns the
/// reports of the operations processed, in request order. `created_id` reads the new id
/// from a POST's result.
pub fn run_bulk<T, E>(
    request: BulkRequest,
    run: impl FnMut(BulkOperation) -> Result<T, E>,
    created_id: &dyn Fn(&T) -> Option<String>,
) -> Vec<Report<T, E>> {
    let n = request.operations.len();
    let mut definers = HashMap::new();
    let mut ops = Vec::with_capacity(n);
    let mut heads = Vec::with_capacity(n);
    let mut status = Vec::with_capacity(n);
    let mut invalid = Vec::with_capacity(n);
    for (i, entry) in request.operations.into_iter().enumerate() {
        heads.push(entry.head);
        status.push(Status::Waiting);
        match entry.op {
            Ok(op) => {
                if let (BulkMethod::Post, Some(b)) = (op.method, &op.bulk_id) {
                    definers.entry(b.clone()).or_insert(i);
                }
                ops.push(Some(op));
                invalid.push(None);
            }
            Err(e) => {
                ops.push(None);
                invalid.push(Some(e));
            }
        }
    }
    let mut r = Run {
        ops,
        heads,
        status,
        reports: (0..n).map(|_| None).collect(),
        definers,
        created: HashMap::new(),
        errors: 0,
        fail_on_errors: request.fail_on_errors,
        run,
        created_id,
    };
    r.all(invalid);
    r.reports.into_iter().flatten().collect()
}

impl<T, E, F: FnMut(BulkOperation) -> Result<T, E>> Run<'_, T, E, F> {
    fn all(&mut self, mut invalid: Vec<Option<ScimError>>) {
        // One pass in request order: malformed operations fail where they stand; an
        // operation that references a bulkId whose POST has not run yet waits, and runs as
        // soon as that POST has (`settle`).
        for (i, bad) in invalid.iter_mut().enumerate() {
            let ran = match bad.take() {
                Some(e) => {
                    let target = self.path_target(i);
                    self.finish(i, Err(Failure::Invalid(e)), target);
                    false
                }
                None => self.attempt(i),
            };
            if self.stopped() || (ran && !self.settle(i)) {
                return;
            }
        }
        // Every POST outside a cycle has run: what still waits, waits on itself.
        for i in 0..self.ops.len() {
            if self.status[i] == Status::Waiting {
                let refs = self.ops[i]
                    .as_ref()
                    .map(|op| op.refs.join("', '"))
                    .unwrap_or_default();
                let detail = format!(
                    "Operations[{i}]: bulkIds '{refs}' cannot be resolved: the POSTs that \
                     define them wait on each other (a cycle of bulkId references)"
                );
                let target = self.path_target(i);
                self.finish(i, Err(Failure::Unresolved(detail)), target);
                if self.stopped() {
                    return;
                }
            }
        }
    }

    /// Runs (or fails) the waiting operations before `upto` that can now run, until none
    /// can. Returns false once `failOnErrors` stops the request.
    fn settle(&mut self, upto: usize) -> bool {
        loop {
            let mut progress = false;
            for i in 0..upto {
                if self.status[i] != Status::Waiting {
                    continue;
                }
                progress |= self.attempt(i);
                if self.stopped() {
                    return false;
                }
            }
            if !progress {
                return true;
            }
        }
    }

    fn stopped(&self) -> bool {
        self.fail_on_errors.is_some_and(|max| self.errors >= max)
    }

    /// Runs operation `i` if it can run now, or fails it if it never can. Returns whether
    /// it finished.
    fn attempt(&mut self, i: usize) -> bool {
        let Some(op) = self.ops[i].as_ref() else {
            return false;
        };
        match self.readiness(op) {
            Readiness::Wait => false,
            Readiness::Never(why) => {
                let target = self.path_target(i);
                let detail = format!("Operations[{i}]: {why}");
                self.finish(i, Err(Failure::Unresolved(detail)), target);
                true
            }
            Readiness::Ready => {
                let Some(mut op) = self.ops[i].take() else {
                    return false;
                };
                resolve(&mut op, &self.created);
                let (method, bulk_id) = (op.method, op.bulk_id.clone());
                let mut target = op.id.clone().map(|id| Target {
                    resource: op.resource,
                    id,
                });
                let resource = op.resource;
                let result = (self.run)(op);
                if let (BulkMethod::Post, Ok(done)) = (method, &result) {
                    target = (self.created_id)(done).map(|id| Target { resource, id });
                    if let (Some(b), Some(t)) = (bulk_id, &target) {
                        self.created.insert(b, t.id.clone());
                    }
                }
                self.finish(i, result.map_err(Failure::Failed), target);
                true
            }
        }
    }

    fn readiness(&self, op: &BulkOperation) -> Readiness {
        let mut wait = false;
        for r in &op.refs {
            match self.definers.get(r) {
                None => {
                    return Readiness::Never(format!(
                        "bulkId '{r}' is not defined by any POST operation of this request"
                    ))
                }
                Some(&j) => match self.status[j] {
                    Status::Succeeded => {}
                    Status::Failed => {
                        return Readiness::Never(format!(
                            "the operation that defines bulkId '{r}' (Operations[{j}]) failed"
                        ))
                    }
                    Status::Waiting => wait = true,
                },
            }
        }
        if wait {
            Readiness::Wait
        } else {
            Readiness::Ready
        }
    }

    /// The resource the path of operation `i` names, if its id is known (a `bulkId:` path
    /// only once its POST ran). A POST's path names no resource.
    fn path_target(&self, i: usize) -> Option<Target> {
        let head = &self.heads[i];
        if head.method.as_deref() == Some(BulkMethod::Post.as_str()) {
            return None;
        }
        let (resource, id) = head.path.as_ref()?;
        let id = id.as_deref()?;
        let id = match id.strip_prefix(BULK_ID_PREFIX) {
            Some(b) => self.created.get(b)?.clone(),
            None => id.to_string(),
        };
        Some(Target {
            resource: *resource,
            id,
        })
    }

    fn finish(&mut self, i: usize, result: Result<T, Failure<E>>, target: Option<Target>) {
        self.status[i] = if result.is_ok() {
            Status::Succeeded
        } else {
            self.errors += 1;
            Status::Failed
        };
        self.ops[i] = None;
        let head = &self.heads[i];
        self.reports[i] = Some(Report {
            method: head.method.clone(),
            bulk_id: head.bulk_id.clone(),
            target,
            result,
        });
    }
}

/// Replaces the `bulkId:` references of `op` (all resolved) with the ids they stand for.
fn resolve(op: &mut BulkOperation, created: &HashMap<String, String>) {
    let mut replace = |s: &mut String| {
        if let Some(id) = created.get(&s[BULK_ID_PREFIX.len()..]) {
            *s = id.clone();
        }
    };
    if let Some(id) = op.id.as_mut().filter(|s| s.starts_with(BULK_ID_PREFIX)) {
        replace(id);
    }
    if let Some(d) = op.data.as_mut() {
        reference_slots(op.method, op.resource, d, &mut replace);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn req(ops: Value) -> BulkRequest {
        parse_bulk_request(&json!({"schemas": [BULK_REQUEST], "Operations": ops}), 100).unwrap()
    }

    fn refs(op: Value) -> Vec<String> {
        let r = req(json!([op]));
        r.operations[0].op.as_ref().unwrap().refs.clone()
    }

    #[test]
    fn parses_operations_and_enforces_limits() {
        let body = json!({"schemas": [BULK_REQUEST], "failOnErrors": 1, "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {}},
            {"method": "patch", "path": "/Groups/g1", "data": {}},
            {"method": "DELETE", "path": "/Users/bulkId:a"}]});
        let r = parse_bulk_request(&body, 10).unwrap();
        assert_eq!(r.fail_on_errors, Some(1));
        let ops: Vec<_> = r
            .operations
            .iter()
            .map(|e| e.op.as_ref().unwrap())
            .collect();
        assert_eq!(ops[1].method, BulkMethod::Patch);
        assert_eq!(ops[2].id.as_deref(), Some("bulkId:a"));
        assert_eq!(ops[2].refs, ["a"]);
        assert_eq!(
            parse_bulk_request(&body, 2).unwrap_err().kind.as_str(),
            "tooMany"
        );
        assert!(parse_bulk_request(&json!({"Operations": []}), 10).is_err());
        assert!(parse_bulk_request(&json!([]), 10).is_err());
        let no_ops = json!({"schemas": [BULK_REQUEST], "Operations": {}});
        assert!(parse_bulk_request(&no_ops, 10).is_err());
        let bad_fail = json!({"schemas": [BULK_REQUEST], "failOnErrors": 0, "Operations": []});
        assert!(parse_bulk_request(&bad_fail, 10).is_err());
    }

    #[test]
    fn a_malformed_operation_fails_alone() {
        let r = req(json!([
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {}},
            {"method": "GET", "path": "/Users/x"},
            {"method": "POST", "path": "/Widgets", "bulkId": "w", "data": {}},
            {"method": "POST", "path": "/Users", "data": {}},
            {"method": "POST", "path": "/Users/abc", "bulkId": "p", "data": {}},
            {"method": "PUT", "path": "/Users/abc"},
            "not an object",
            {"method": "DELETE", "path": "/Groups"}
        ]));
        let kinds: Vec<_> = r
            .operations
            .iter()
            .map(|e| e.op.as_ref().err().map(|e| e.kind.as_str()))
            .collect();
        assert_eq!(
            kinds,
            [
                None,
                Some("invalidValue"),
                Some("invalidPath"),
                Some("invalidValue"),
                Some("invalidPath"),
                Some("invalidValue"),
                Some("invalidSyntax"),
                Some("invalidPath"),
            ]
        );
        // What the response echoes, and where the failed PUT pointed.
        assert_eq!(r.operations[1].head.method.as_deref(), Some("GET"));
        assert_eq!(
            r.operations[5].head.path,
            Some((BulkResource::Users, Some("abc".into())))
        );
        assert!(r.operations[1]
            .op
            .as_ref()
            .unwrap_err()
            .detail
            .starts_with("Operations[1]: "));
    }

    #[test]
    fn duplicate_and_empty_bulk_ids_fail_and_the_first_keeps_its_id() {
        let r = req(json!([
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {}},
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {}},
            {"method": "POST", "path": "/Users", "bulkId": "", "data": {}},
            {"method": "POST", "path": "/Users", "bulkId": 7, "data": {}},
            {"method": "GET", "path": "/Users", "bulkId": "b"},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": {}}
        ]));
        let ok: Vec<bool> = r.operations.iter().map(|e| e.op.is_ok()).collect();
        // A malformed operation claims no bulkId: the POST after it keeps "b".
        assert_eq!(ok, [true, false, false, false, false, true]);
        let e = r.operations[1].op.as_ref().unwrap_err();
        assert_eq!(e.kind.as_str(), "invalidValue");
        assert!(e.detail.contains("unique"), "{}", e.detail);
    }

    #[test]
    fn references_are_found_only_where_an_id_belongs() {
        let ent = ENTERPRISE_USER;
        let user = |extra: Value| {
            let mut u = json!({"userName": "bulkId:x", "displayName": "bulkId:lt",
                "title": "bulkId:literal text"});
            for (k, v) in extra.as_object().unwrap() {
                u[k] = v.clone();
            }
            json!({"method": "POST", "path": "/Users", "bulkId": "n", "data": u})
        };
        assert!(refs(user(json!({}))).is_empty());
        assert_eq!(refs(user(json!({ent: {"manager": "bulkId:m"}}))), ["m"]);
        assert_eq!(
            refs(user(json!({ent: {"Manager": {"Value": "bulkId:m"}}}))),
            ["m"]
        );
        assert_eq!(
            refs(user(json!({format!("{ent}:manager"): "bulkId:m"}))),
            ["m"]
        );
        // A bare `manager` is no User attribute; nor is `manager` in the core schema.
        assert!(refs(user(json!({"manager": "bulkId:m"}))).is_empty());
        let group = json!({"method": "PUT", "path": "/Groups/bulkId:g", "data": {
            "displayName": "bulkId:lt",
            "members": [{"value": "bulkId:u1", "display": "bulkId:d"}, {"value": "bulkId:u2"}, {"value": "bulkId:u1"}]}});
        assert_eq!(refs(group), ["g", "u1", "u2"]);
        // Members in a User body, or a manager in a Group body, are not references.
        let odd = json!({"method": "POST", "path": "/Groups", "bulkId": "n", "data": {
            ent: {"manager": "bulkId:m"}, "displayName": "x"}});
        assert!(refs(odd).is_empty());
    }

    #[test]
    fn patch_references_follow_the_path() {
        let patch = |path: &str, ops: Value| json!({"method": "PATCH", "path": path, "data": {"Operations": ops}});
        let ent = ENTERPRISE_USER;
        let r = refs(patch(
            "/Groups/g",
            json!([
                {"op": "add", "path": "members", "value": [{"value": "bulkId:a"}]},
                {"op": "Add", "value": {"members": [{"value": "bulkId:b"}], "displayName": "bulkId:no"}},
                {"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:Group:members", "value": {"value": "bulkId:c"}},
                {"op": "replace", "path": "displayName", "value": "bulkId:no"},
                {"op": "remove", "path": "members", "value": [{"value": "bulkId:d"}]}
            ]),
        ));
        assert_eq!(r, ["a", "b", "c", "d"]);
        let r = refs(patch(
            "/Users/bulkId:u",
            json!([
                {"op": "replace", "path": format!("{ent}:manager"), "value": "bulkId:a"},
                {"op": "replace", "path": format!("{ent}:manager.value"), "value": "bulkId:b"},
                {"op": "add", "value": {ent: {"manager": {"value": "bulkId:c"}}}},
                {"op": "add", "value": {format!("{ent}:manager"): "bulkId:d"}},
                {"op": "replace", "path": "title", "value": "bulkId:no"},
                {"op": "add", "path": "members", "value": [{"value": "bulkId:no"}]}
            ]),
        ));
        assert_eq!(r, ["u", "a", "b", "c", "d"]);
    }

    /// Runs `ops` with a fake runner: a POST "creates" `id-<bulkId>` and answers with that id
    /// and the members it was given, or fails when its data says `"fail": true`. Returns the
    /// runs in order and each report's bulkId and outcome.
    fn run_fake(ops: Value, fail_on_errors: Option<usize>) -> (Vec<String>, Vec<(String, String)>) {
        let mut request = req(ops);
        request.fail_on_errors = fail_on_errors;
        let mut ran = Vec::new();
        let reports = run_bulk(
            request,
            |op: BulkOperation| -> Result<(String, String), String> {
                let b = op.bulk_id.clone().unwrap_or_default();
                ran.push(format!("{} {b}", op.method.as_str()));
                let data = op.data.unwrap_or_default();
                if data["fail"] == true {
                    return Err("failed".into());
                }
                Ok((format!("id-{b}"), data["members"].to_string()))
            },
            &|(id, _): &(String, String)| Some(id.clone()),
        );
        let out = reports
            .into_iter()
            .map(|r| {
                let outcome = match r.result {
                    Ok((id, members)) => format!("{id} {members}"),
                    Err(Failure::Invalid(e)) => format!("400 {}", e.kind.as_str()),
                    Err(Failure::Unresolved(_)) => "409".into(),
                    Err(Failure::Failed(e)) => e,
                };
                (r.bulk_id.unwrap_or_default(), outcome)
            })
            .collect();
        (ran, out)
    }

    fn post(b: &str, members: &[&str]) -> Value {
        let members: Vec<_> = members
            .iter()
            .map(|m| json!({"value": format!("bulkId:{m}")}))
            .collect();
        json!({"method": "POST", "path": "/Groups", "bulkId": b, "data": {"members": members}})
    }

    #[test]
    fn references_resolve_whatever_the_order() {
        let (ran, out) = run_fake(json!([post("g", &["u"]), post("u", &[])]), None);
        assert_eq!(ran, ["POST u", "POST g"]);
        assert_eq!(
            out,
            [
                ("g".to_string(), r#"id-g [{"value":"id-u"}]"#.to_string()),
                ("u".to_string(), "id-u []".to_string())
            ]
        );
    }

    #[test]
    fn cycles_and_unknown_references_fail_with_409_and_the_rest_runs() {
        let (ran, out) = run_fake(
            json!([
                post("a", &["b"]),
                post("b", &["a"]),
                post("c", &["nowhere"]),
                post("d", &["a"]),
                {"method": "POST", "path": "/Users", "bulkId": "f", "data": {"fail": true}},
                post("e", &["f"]),
                post("self", &["self"]),
                post("ok", &[])
            ]),
            None,
        );
        assert_eq!(ran, ["POST f", "POST ok"]);
        let statuses: Vec<&str> = out.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(
            statuses,
            ["409", "409", "409", "409", "failed", "409", "409", "id-ok []"]
        );
    }

    #[test]
    fn fail_on_errors_counts_failures_as_they_happen() {
        let ops = json!([
            post("g", &["u"]),
            {"method": "GET", "path": "/Users"},
            post("u", &[]),
            post("x", &["nowhere"]),
            post("y", &[])
        ]);
        let (ran, out) = run_fake(ops.clone(), Some(1));
        assert!(ran.is_empty());
        assert_eq!(out, [(String::new(), "400 invalidValue".to_string())]);
        let (ran, out) = run_fake(ops, Some(2));
        assert_eq!(ran, ["POST u", "POST g"]);
        let ids: Vec<&str> = out.iter().map(|(b, _)| b.as_str()).collect();
        assert_eq!(ids, ["g", "", "u", "x"], "in request order; y never ran");
    }

    #[test]
    fn failed_posts_have_no_target_and_others_have_their_resolved_one() {
        let request = req(json!([
            {"method": "DELETE", "path": "/Users/bulkId:u"},
            {"method": "POST", "path": "/Users", "bulkId": "u", "data": {}},
            {"method": "POST", "path": "/Users", "bulkId": "v", "data": {}},
            {"method": "PUT", "path": "/Groups/abc"},
            {"method": "PATCH", "path": "/Users/bulkId:nowhere", "data": {}}
        ]));
        let reports = run_bulk(
            request,
            |op: BulkOperation| match op.bulk_id.as_deref() {
                Some("v") => Err(()),
                Some(b) => Ok(Some(format!("id-{b}"))),
                None => Ok(None),
            },
            &|done: &Option<String>| done.clone(),
        );
        let targets: Vec<_> = reports
            .iter()
            .map(|r| r.target.as_ref().map(|t| (t.resource, t.id.as_str())))
            .collect();
        assert_eq!(
            targets,
            [
                Some((BulkResource::Users, "id-u")),
                Some((BulkResource::Users, "id-u")),
                None,
                Some((BulkResource::Groups, "abc")),
                None,
            ]
        );
    }
}
