//! PATCH (RFC 7644 §3.5.2) applied to a canonical resource JSON, purely. Also absorbs what
//! real identity providers send: capitalised op names, `"False"` strings for booleans, dotted
//! and URN keys in path-less values, Add on value-filter paths that match nothing, bare
//! manager ids, and Group `members` handled as row operations instead of JSON edits.
//!
//! The request is atomic: operations run on a copy, which replaces the resource only if all
//! of them succeed.

use serde_json::{Map, Value};

use crate::scim::error::{ScimError, ScimResult};
use crate::scim::filter::ast::CompValue;
use crate::scim::filter::eval::get_ci;
use crate::scim::filter::{matches_element, CompareOp, TypedAttr, TypedFilter};
use crate::scim::path::{parse_path, PatchPath};
use crate::scim::schema::{
    AttrDef, AttrType, Mutability, ResourceSchema, SchemaDef, CORE_GROUP, PATCH_OP,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOpKind {
    Add,
    Remove,
    Replace,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOpKind,
    pub path: Option<String>,
    pub value: Option<Value>,
}

/// Group membership changes, in request order. `members` lives in its own table, so a PATCH
/// adding one member to a huge group must become one insert, not a rewrite of the list.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberOp {
    /// Normalised member objects (`{"value": id, ...}`; readOnly `display` dropped).
    Add(Vec<Value>),
    /// Member ids to remove; ids that are not members are not an error.
    Remove(Vec<String>),
    RemoveAll,
    ReplaceAll(Vec<Value>),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatchOutcome {
    pub member_ops: Vec<MemberOp>,
}

impl PatchOpKind {
    fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "add" => Some(Self::Add),
            "remove" => Some(Self::Remove),
            "replace" => Some(Self::Replace),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Remove => "remove",
            Self::Replace => "replace",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Request parsing
// ---------------------------------------------------------------------------------------

/// Checks the PatchOp envelope and returns its operations. Member names are matched
/// case-insensitively (Entra sends `"Operations"` with `"op": "Replace"`).
pub fn parse_patch_request(body: &Value) -> ScimResult<Vec<PatchOperation>> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax(
            "PATCH body must be a JSON object",
        ));
    }
    let has_urn = get_ci(body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(PATCH_OP)))
        });
    if !has_urn {
        return Err(ScimError::invalid_syntax(format!(
            "\"schemas\" must contain \"{PATCH_OP}\""
        )));
    }
    let ops = get_ci(body, "Operations")
        .and_then(Value::as_array)
        .ok_or_else(|| ScimError::invalid_syntax("\"Operations\" must be an array"))?;
    if ops.is_empty() {
        return Err(ScimError::invalid_syntax(
            "\"Operations\" must not be empty",
        ));
    }
    ops.iter()
        .enumerate()
        .map(|(i, op)| parse_operation(op).map_err(|e| at_op(i, e)))
        .collect()
}

fn at_op(i: usize, e: ScimError) -> ScimError {
    ScimError::new(e.kind, format!("Operations[{i}]: {}", e.detail))
}

fn parse_operation(op: &Value) -> ScimResult<PatchOperation> {
    if !op.is_object() {
        return Err(ScimError::invalid_syntax(
            "an operation must be a JSON object",
        ));
    }
    let name = get_ci(op, "op")
        .and_then(Value::as_str)
        .ok_or_else(|| ScimError::invalid_syntax("\"op\" must be a string"))?;
    let kind = PatchOpKind::parse(name).ok_or_else(|| {
        ScimError::invalid_syntax(format!(
            "unknown op '{name}' (expected add, remove or replace)"
        ))
    })?;
    let path = match get_ci(op, "path") {
        None | Some(Value::Null) => None,
        // An empty path is what some clients send for "no path".
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ScimError::invalid_syntax("\"path\" must be a string")),
    };
    let value = get_ci(op, "value").cloned();
    if kind != PatchOpKind::Remove && value.is_none() {
        return Err(ScimError::invalid_value(format!(
            "{} requires a \"value\"",
            kind.as_str()
        )));
    }
    Ok(PatchOperation {
        op: kind,
        path,
        value,
    })
}

// ---------------------------------------------------------------------------------------
// Applying
// ---------------------------------------------------------------------------------------

/// Applies `ops` to `resource` (canonical JSON) all-or-nothing. Group `members` changes are
/// returned as [`MemberOp`]s and never written into the JSON.
pub fn apply(
    resource: &mut Value,
    ops: &[PatchOperation],
    rs: &ResourceSchema,
) -> ScimResult<PatchOutcome> {
    let doc = resource
        .as_object()
        .cloned()
        .ok_or_else(|| ScimError::invalid_value("resource is not a JSON object"))?;
    let mut p = Patcher {
        rs,
        doc,
        outcome: PatchOutcome::default(),
        touched_ext: Vec::new(),
    };
    for (i, op) in ops.iter().enumerate() {
        p.apply_op(op).map_err(|e| at_op(i, e))?;
    }
    p.sync_extension_schemas();
    *resource = Value::Object(p.doc);
    Ok(p.outcome)
}

struct Patcher<'r> {
    rs: &'r ResourceSchema,
    doc: Map<String, Value>,
    outcome: PatchOutcome,
    /// Extensions whose `schemas` entry may need adding or removing at the end.
    touched_ext: Vec<&'static str>,
}

/// Where a value came from: an explicit `path`, or a key of a path-less value object.
/// Path-less values may echo readOnly attributes unchanged (Okta sends the group `id`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    Path,
    ValueKey,
}

impl<'r> Patcher<'r> {
    fn apply_op(&mut self, op: &PatchOperation) -> ScimResult<()> {
        let value = op.value.as_ref();
        // Callers may build operations by hand; never read a missing value as "unassign".
        if op.op != PatchOpKind::Remove && value.is_none() {
            return Err(ScimError::invalid_value(format!(
                "{} requires a \"value\"",
                op.op.as_str()
            )));
        }
        let Some(path) = op.path.as_deref() else {
            return match op.op {
                PatchOpKind::Remove => Err(ScimError::no_target("remove requires a \"path\"")),
                kind => self.apply_pathless(kind, value),
            };
        };
        if let Some(ext) = self.rs.extension(path.trim()) {
            return self.apply_extension(op.op, ext, value, Origin::Path);
        }
        let target = parse_path(path, self.rs)?;
        self.apply_target(op.op, &target, value, Origin::Path)
    }

    /// `{"op": "replace", "value": {"active": false, "name.givenName": "B", "urn:…": {…}}}`
    fn apply_pathless(&mut self, kind: PatchOpKind, value: Option<&Value>) -> ScimResult<()> {
        let obj = value.and_then(Value::as_object).ok_or_else(|| {
            ScimError::invalid_value(format!(
                "{} without \"path\" needs an object \"value\"",
                kind.as_str()
            ))
        })?;
        for (key, v) in obj {
            // We maintain `schemas` ourselves from the extensions present.
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            if let Some(ext) = self.rs.extension(key) {
                self.apply_extension(kind, ext, Some(v), Origin::ValueKey)?;
                continue;
            }
            let target = parse_path(key, self.rs)?;
            self.apply_target(kind, &target, Some(v), Origin::ValueKey)?;
        }
        Ok(())
    }

    /// A whole extension as target: its object is merged attribute by attribute.
    fn apply_extension(
        &mut self,
        kind: PatchOpKind,
        ext: &SchemaDef,
        value: Option<&Value>,
        origin: Origin,
    ) -> ScimResult<()> {
        let read_only = ext
            .attributes
            .iter()
            .all(|a| a.mutability == Mutability::ReadOnly);
        if read_only && origin == Origin::Path {
            return Err(ScimError::mutability(format!(
                "extension '{}' is readOnly",
                ext.id
            )));
        }
        if kind == PatchOpKind::Remove {
            return self.remove_extension(ext);
        }
        let obj = value.and_then(Value::as_object).ok_or_else(|| {
            ScimError::invalid_value(format!(
                "the value for extension '{}' must be an object",
                ext.id
            ))
        })?;
        for (key, v) in obj {
            // An extension object as a client library serialises it carries its own
            // `schemas`; we maintain `schemas` ourselves.
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            let target = parse_path(&format!("{}:{key}", ext.id), self.rs)?;
            self.apply_target(kind, &target, Some(v), origin)?;
        }
        Ok(())
    }

    fn remove_extension(&mut self, ext: &SchemaDef) -> ScimResult<()> {
        let present = self
            .ext_container(ext.id)
            .map(|c| c.keys().cloned().collect::<Vec<_>>());
        for key in present.unwrap_or_default() {
            if let Some(def) = ext.attr(&key) {
                check_removable(def, None, &ext_name(ext.id, def.name))?;
            }
        }
        remove_ci(&mut self.doc, ext.id);
        self.touch(ext.id);
        Ok(())
    }

    fn ext_container(&self, urn: &str) -> Option<&Map<String, Value>> {
        get_ci_map(&self.doc, urn).and_then(Value::as_object)
    }

    fn touch(&mut self, urn: &'static str) {
        if !self.touched_ext.contains(&urn) {
            self.touched_ext.push(urn);
        }
    }

    fn apply_target(
        &mut self,
        kind: PatchOpKind,
        target: &PatchPath,
        value: Option<&Value>,
        origin: Origin,
    ) -> ScimResult<()> {
        let def = attr_def(self.rs, &target.attr)?;
        if is_group_members(self.rs, &target.attr) {
            return self.members_op(kind, target, def, value);
        }
        let sub_def = target.sub.and_then(|s| def.sub(s));
        if is_read_only(def, sub_def) {
            return self.read_only(kind, target, value, origin);
        }
        if !target.attr.is_core {
            self.touch(target.attr.schema);
        }
        let t = Target {
            attr: &target.attr,
            def,
            sub: sub_def,
            filter: target.filter.as_ref(),
        };
        match (kind, value) {
            (PatchOpKind::Remove, v) => self.remove(&t, v),
            // null unassigns (RFC 7643 §2.5), with the same rules as remove.
            (_, None | Some(Value::Null)) => self.remove(&t, None),
            (PatchOpKind::Add, Some(v)) => self.add(&t, v),
            (PatchOpKind::Replace, Some(v)) => self.replace(&t, v),
        }
    }

    /// readOnly targets: an explicit path is always a mutability error; a path-less value may
    /// repeat the current value (ignored) but not change it.
    fn read_only(
        &mut self,
        kind: PatchOpKind,
        target: &PatchPath,
        value: Option<&Value>,
        origin: Origin,
    ) -> ScimResult<()> {
        let unchanged = origin == Origin::ValueKey
            && kind != PatchOpKind::Remove
            && target.filter.is_none()
            && value.is_some()
            && self.current(target) == value;
        if unchanged {
            return Ok(());
        }
        Err(ScimError::mutability(format!(
            "attribute '{}' is readOnly",
            display_path(&target.attr, target.sub)
        )))
    }

    fn current(&self, target: &PatchPath) -> Option<&Value> {
        let base = if target.attr.is_core {
            &self.doc
        } else {
            get_ci_map(&self.doc, target.attr.schema)?.as_object()?
        };
        let v = get_ci_map(base, target.attr.attr)?;
        match target.sub {
            Some(s) => get_ci(v, s),
            None => Some(v),
        }
    }

    /// The object holding the target attribute: the resource, or its extension object.
    fn container(&mut self, attr: &TypedAttr, create: bool) -> Option<&mut Map<String, Value>> {
        if attr.is_core {
            return Some(&mut self.doc);
        }
        canon_key(&mut self.doc, attr.schema);
        if create {
            let slot = self
                .doc
                .entry(attr.schema)
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
        }
        self.doc.get_mut(attr.schema)?.as_object_mut()
    }

    // --- remove ---------------------------------------------------------------------------

    fn remove(&mut self, t: &Target<'_>, value: Option<&Value>) -> ScimResult<()> {
        if t.filter.is_none() {
            check_removable(t.def, t.sub, &t.name())?;
        }
        let name = t.def.name;
        let Some(c) = self.container(t.attr, false) else {
            return Ok(());
        };
        canon_key(c, name);
        match (t.filter, t.sub) {
            (None, None) => match value.filter(|v| !v.is_null()) {
                Some(v) if t.def.multi_valued => remove_listed(c, t.def, v)?,
                _ => {
                    c.remove(name);
                }
            },
            (None, Some(sub)) => remove_sub_everywhere(c, name, sub.name),
            (Some(f), sub) => remove_matching(c, name, f, sub.map(|s| s.name)),
        }
        Ok(())
    }

    // --- add ------------------------------------------------------------------------------

    fn add(&mut self, t: &Target<'_>, value: &Value) -> ScimResult<()> {
        match (t.filter, t.sub, t.def.multi_valued) {
            (Some(f), _, _) => self.update_matching(t, f, value, true),
            (None, Some(_), true) => Err(needs_filter(t)),
            (None, Some(sub), false) => self.set_sub(t, sub, value),
            (None, None, true) => {
                let items = normalize_items(t.def, value, &t.name())?;
                let c = self.container(t.attr, true).ok_or_else(internal)?;
                let list = array_mut(c, t.def.name).ok_or_else(internal)?;
                let mut touched = Vec::new();
                for item in items {
                    // Re-adding a value that is there changes nothing but what the new
                    // element adds to it, such as `primary` (RFC 7644 §3.5.2.1).
                    match list.iter().position(|e| same_value(t.def, e, &item)) {
                        Some(i) => {
                            if let (Value::Object(o), Value::Object(mut patch)) =
                                (&mut list[i], item)
                            {
                                // The value and type that matched stay as they are.
                                patch.remove("value");
                                patch.remove("type");
                                merge(o, patch);
                            }
                            touched.push(i);
                        }
                        None => {
                            list.push(item);
                            touched.push(list.len() - 1);
                        }
                    }
                }
                enforce_single_primary(list, &touched);
                drop_if_empty(c, t.def.name);
                Ok(())
            }
            (None, None, false) => self.set_single(t, value),
        }
    }

    // --- replace --------------------------------------------------------------------------

    fn replace(&mut self, t: &Target<'_>, value: &Value) -> ScimResult<()> {
        match (t.filter, t.sub, t.def.multi_valued) {
            (Some(f), _, _) => self.update_matching(t, f, value, false),
            (None, Some(_), true) => Err(needs_filter(t)),
            (None, Some(sub), false) => self.set_sub(t, sub, value),
            (None, None, true) => {
                let mut items = normalize_items(t.def, value, &t.name())?;
                let all: Vec<usize> = (0..items.len()).collect();
                enforce_single_primary(&mut items, &all);
                let c = self.container(t.attr, true).ok_or_else(internal)?;
                canon_key(c, t.def.name);
                c.insert(t.def.name.to_string(), Value::Array(items));
                drop_if_empty(c, t.def.name);
                Ok(())
            }
            (None, None, false) => self.set_single(t, value),
        }
    }

    /// Single-valued attribute: simple values are set; complex ones are merged, since RFC 7644
    /// §3.5.2.1/§3.5.2.3 leave unspecified sub-attributes unchanged.
    fn set_single(&mut self, t: &Target<'_>, value: &Value) -> ScimResult<()> {
        let name = t.def.name;
        let new = normalize_one(t.def, value, &t.name())?;
        let c = self.container(t.attr, true).ok_or_else(internal)?;
        canon_key(c, name);
        match (new, c.get_mut(name)) {
            (Value::Object(patch), Some(Value::Object(existing))) => merge(existing, patch),
            (Value::Object(patch), _) => {
                c.insert(name.to_string(), Value::Object(strip_nulls(patch)));
            }
            (new, _) => {
                c.insert(name.to_string(), new);
            }
        }
        drop_if_empty(c, name);
        Ok(())
    }

    /// `name.givenName` on a single-valued complex attribute.
    fn set_sub(&mut self, t: &Target<'_>, sub: &AttrDef, value: &Value) -> ScimResult<()> {
        let v = normalize_one(sub, value, &t.name())?;
        let c = self.container(t.attr, true).ok_or_else(internal)?;
        canon_key(c, t.def.name);
        let slot = c
            .entry(t.def.name)
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        if let Some(obj) = slot.as_object_mut() {
            canon_key(obj, sub.name);
            obj.insert(sub.name.to_string(), v);
        }
        Ok(())
    }

    /// `emails[type eq "work"]` or `emails[type eq "work"].value` for add and replace.
    /// Replace on no match is `noTarget` (RFC 7644 §3.5.2.3); add on no match creates the
    /// element from the filter's equalities, which is how Entra adds a typed email.
    fn update_matching(
        &mut self,
        t: &Target<'_>,
        f: &TypedFilter,
        value: &Value,
        is_add: bool,
    ) -> ScimResult<()> {
        let new = match t.sub {
            Some(sub) => normalize_one(sub, value, &t.name())?,
            None => normalize_one(t.def, value, &t.name())?,
        };
        let name = t.def.name;
        let c = self.container(t.attr, is_add).ok_or_else(|| no_match(t))?;
        let list = array_mut(c, name).ok_or_else(internal)?;
        let hits: Vec<usize> = (0..list.len())
            .filter(|&i| matches_element(f, &list[i]))
            .collect();
        if hits.is_empty() {
            if !is_add {
                drop_if_empty(c, name);
                return Err(no_match(t));
            }
            let elem = element_from_filter(t, f, new)?;
            list.push(elem);
            let last = list.len() - 1;
            enforce_single_primary(list, &[last]);
            return Ok(());
        }
        for &i in &hits {
            update_element(&mut list[i], t.sub.map(|s| s.name), new.clone(), is_add);
        }
        enforce_single_primary(list, &hits);
        Ok(())
    }

    // --- Group members --------------------------------------------------------------------

    fn members_op(
        &mut self,
        kind: PatchOpKind,
        target: &PatchPath,
        def: &AttrDef,
        value: Option<&Value>,
    ) -> ScimResult<()> {
        // `members.value` is immutable (RFC 7643 §4.2): changing a member in place is a
        // mutability error, not a bad path.
        if target.sub.is_some() {
            return Err(ScimError::mutability(
                "members cannot be edited in place; add or remove the member instead",
            ));
        }
        let value = value.filter(|v| !v.is_null());
        let op = match (kind, &target.filter, value) {
            (PatchOpKind::Remove, Some(f), _) => MemberOp::Remove(member_ids_from_filter(f)?),
            (_, Some(_), _) => {
                return Err(ScimError::mutability(
                    "members cannot be edited in place; a value filter on members is only supported with remove",
                ))
            }
            (PatchOpKind::Remove, None, None) => MemberOp::RemoveAll,
            // Entra and Okta remove with path "members" and the members listed as the value.
            (PatchOpKind::Remove, None, Some(v)) => {
                MemberOp::Remove(member_ids(&normalize_members(def, v)?)?)
            }
            (PatchOpKind::Add, None, Some(v)) => {
                let members = normalize_members(def, v)?;
                if members.is_empty() {
                    return Ok(());
                }
                MemberOp::Add(members)
            }
            (PatchOpKind::Replace, None, Some(v)) => {
                MemberOp::ReplaceAll(normalize_members(def, v)?)
            }
            // Add with null: nothing to add.
            (PatchOpKind::Add, None, None) => return Ok(()),
            (PatchOpKind::Replace, None, None) => MemberOp::ReplaceAll(Vec::new()),
        };
        self.outcome.member_ops.push(op);
        Ok(())
    }

    // --- finishing ------------------------------------------------------------------------

    /// An extension is listed in `schemas` exactly when the resource holds some of its data.
    fn sync_extension_schemas(&mut self) {
        for urn in std::mem::take(&mut self.touched_ext) {
            canon_key(&mut self.doc, urn);
            let has_data = self
                .doc
                .get(urn)
                .and_then(Value::as_object)
                .is_some_and(|o| !o.is_empty());
            if !has_data {
                self.doc.remove(urn);
            }
            let schemas = self
                .doc
                .entry("schemas")
                .or_insert_with(|| Value::Array(vec![Value::String(self.rs.core.id.to_string())]));
            if !schemas.is_array() {
                *schemas = Value::Array(vec![Value::String(self.rs.core.id.to_string())]);
            }
            if let Some(list) = schemas.as_array_mut() {
                let listed = |v: &Value| v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn));
                list.retain(|v| !listed(v));
                if has_data {
                    list.push(Value::String(urn.to_string()));
                }
            }
        }
    }
}

/// One resolved target: attribute definition, optional sub-attribute and value filter.
struct Target<'a> {
    attr: &'a TypedAttr,
    def: &'a AttrDef,
    sub: Option<&'a AttrDef>,
    filter: Option<&'a TypedFilter>,
}

impl Target<'_> {
    fn name(&self) -> String {
        display_path(self.attr, self.sub.map(|s| s.name))
    }
}

// ---------------------------------------------------------------------------------------
// Schema helpers
// ---------------------------------------------------------------------------------------

fn attr_def<'r>(rs: &'r ResourceSchema, a: &TypedAttr) -> ScimResult<&'r AttrDef> {
    let schema = if a.is_core {
        Some(&rs.core)
    } else {
        rs.extension(a.schema)
    };
    schema
        .and_then(|s| s.attr(a.attr))
        .ok_or_else(|| ScimError::invalid_path(format!("unknown attribute '{}'", a.attr)))
}

fn is_group_members(rs: &ResourceSchema, a: &TypedAttr) -> bool {
    rs.core.id == CORE_GROUP && a.is_core && a.attr == "members"
}

fn is_read_only(def: &AttrDef, sub: Option<&AttrDef>) -> bool {
    def.mutability == Mutability::ReadOnly
        || sub.is_some_and(|s| s.mutability == Mutability::ReadOnly)
}

fn check_removable(def: &AttrDef, sub: Option<&AttrDef>, name: &str) -> ScimResult<()> {
    if is_read_only(def, sub) {
        return Err(ScimError::mutability(format!(
            "attribute '{name}' is readOnly"
        )));
    }
    if sub.map_or(def.required, |s| s.required) {
        return Err(ScimError::invalid_value(format!(
            "attribute '{name}' is required and cannot be removed"
        )));
    }
    Ok(())
}

fn display_path(a: &TypedAttr, sub: Option<&str>) -> String {
    let base = if a.is_core {
        a.attr.to_string()
    } else {
        ext_name(a.schema, a.attr)
    };
    match sub {
        Some(s) => format!("{base}.{s}"),
        None => base,
    }
}

fn ext_name(urn: &str, attr: &str) -> String {
    format!("{urn}:{attr}")
}

fn needs_filter(t: &Target<'_>) -> ScimError {
    ScimError::invalid_path(format!(
        "'{}' is multi-valued: select elements with a value filter, e.g. {}[type eq \"work\"].{}",
        t.name(),
        t.def.name,
        t.sub.map_or("value", |s| s.name)
    ))
}

fn no_match(t: &Target<'_>) -> ScimError {
    ScimError::no_target(format!("no value of '{}' matches the filter", t.def.name))
}

fn internal() -> ScimError {
    ScimError::invalid_value("resource is not a JSON object")
}

// ---------------------------------------------------------------------------------------
// Value normalisation: type checks, canonical key case, IdP leniencies
// ---------------------------------------------------------------------------------------

/// A whole value of a multi-valued attribute: an array, or one element (wrapped).
fn normalize_items(def: &AttrDef, value: &Value, label: &str) -> ScimResult<Vec<Value>> {
    let raw: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut out = Vec::with_capacity(raw.len());
    for item in raw.into_iter().filter(|v| !v.is_null()) {
        let v = normalize_one(def, item, label)?;
        match v {
            Value::Object(o) => {
                let o = strip_nulls(o);
                // An element made only of ignored readOnly sub-attributes carries nothing.
                if !o.is_empty() {
                    out.push(Value::Object(o));
                }
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// One value of `def` (one element, for a multi-valued attribute).
fn normalize_one(def: &AttrDef, v: &Value, label: &str) -> ScimResult<Value> {
    let bad = |want: &str| ScimError::invalid_value(format!("attribute '{label}' must be {want}"));
    match def.ty {
        AttrType::Complex => normalize_complex(def, v, label),
        AttrType::String | AttrType::Reference | AttrType::Binary => match v {
            Value::String(s) => {
                super::limits::check_string(label, def.max_bytes(), s)?;
                Ok(v.clone())
            }
            _ => Err(bad("a string")),
        },
        AttrType::Boolean => match v {
            Value::Bool(_) => Ok(v.clone()),
            // Entra sends "True"/"False".
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
            _ => Err(bad("a boolean")),
        },
        AttrType::Integer => match v {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(v.clone()),
            _ => Err(bad("an integer")),
        },
        AttrType::Decimal => match v {
            Value::Number(_) => Ok(v.clone()),
            _ => Err(bad("a number")),
        },
        AttrType::DateTime => match v {
            Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => Ok(v.clone()),
            _ => Err(bad("an RFC 3339 date-time string")),
        },
    }
}

/// Objects get canonical sub-attribute names and typed values; readOnly sub-attributes are
/// ignored (RFC 7643 §2.2); nulls are kept so merges can unassign. A bare primitive for an
/// attribute with a `value` sub-attribute means `{"value": …}` (Entra's manager id).
fn normalize_complex(def: &AttrDef, v: &Value, label: &str) -> ScimResult<Value> {
    let obj = match v {
        Value::Object(o) => o,
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            let sub = def.sub("value").ok_or_else(|| {
                ScimError::invalid_value(format!(
                    "attribute '{label}' is complex and must be an object"
                ))
            })?;
            let mut m = Map::new();
            m.insert(
                "value".into(),
                normalize_one(sub, v, &format!("{label}.value"))?,
            );
            return Ok(Value::Object(m));
        }
        _ => {
            return Err(ScimError::invalid_value(format!(
                "attribute '{label}' is complex and must be an object"
            )))
        }
    };
    let mut out = Map::new();
    for (k, x) in obj {
        // Clients send sub-attributes a schema does not define, such as `display` on group
        // members (Okta); like unknown attributes in POST/PUT, they are ignored.
        if def.name == "members" && def.sub(k).is_none() {
            continue;
        }
        let sub = def.sub(k).ok_or_else(|| {
            ScimError::invalid_value(format!("unknown sub-attribute '{k}' of '{label}'"))
        })?;
        if sub.mutability == Mutability::ReadOnly {
            continue;
        }
        let x = if x.is_null() {
            Value::Null
        } else {
            normalize_one(sub, x, &format!("{label}.{}", sub.name))?
        };
        out.insert(sub.name.to_string(), x);
    }
    Ok(Value::Object(out))
}

/// Member objects; each must carry its id in `value` (checked before readOnly `display` is
/// dropped, so `{"display": "x"}` is an error rather than silently nothing).
fn normalize_members(def: &AttrDef, v: &Value) -> ScimResult<Vec<Value>> {
    let raw: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    raw.into_iter()
        .map(|item| {
            let m = normalize_one(def, item, def.name)?;
            match m {
                Value::Object(o) if o.get("value").is_some_and(Value::is_string) => {
                    Ok(Value::Object(strip_nulls(o)))
                }
                _ => Err(ScimError::invalid_value(
                    "each member needs a string \"value\" (the member id)",
                )),
            }
        })
        .collect()
}

fn member_ids(items: &[Value]) -> ScimResult<Vec<String>> {
    items
        .iter()
        .map(|m| {
            m.get("value")
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| ScimError::invalid_value("each member needs a string \"value\""))
        })
        .collect()
}

/// `members[value eq "a"]`, also `… or value eq "b"`: anything else has no row translation.
fn member_ids_from_filter(f: &TypedFilter) -> ScimResult<Vec<String>> {
    match f {
        TypedFilter::Or(l, r) => {
            let mut ids = member_ids_from_filter(l)?;
            ids.extend(member_ids_from_filter(r)?);
            Ok(ids)
        }
        TypedFilter::Compare {
            attr,
            op: CompareOp::Eq,
            value: CompValue::Str(id),
        } if attr.sub == Some("value") => Ok(vec![id.clone()]),
        _ => Err(ScimError::invalid_path(
            "only members[value eq \"id\"] filters (optionally joined with or) can remove members",
        )),
    }
}

// ---------------------------------------------------------------------------------------
// JSON helpers
// ---------------------------------------------------------------------------------------

fn get_ci_map<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Renames a differently-cased key to the canonical name, so later lookups are exact.
fn canon_key(m: &mut Map<String, Value>, name: &str) {
    if m.contains_key(name) {
        return;
    }
    if let Some(k) = m.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned() {
        if let Some(v) = m.remove(&k) {
            m.insert(name.to_string(), v);
        }
    }
}

fn remove_ci(m: &mut Map<String, Value>, name: &str) {
    m.retain(|k, _| !k.eq_ignore_ascii_case(name));
}

/// The list under `name`, created if absent; a stray single value becomes a one-item list.
fn array_mut<'m>(c: &'m mut Map<String, Value>, name: &str) -> Option<&'m mut Vec<Value>> {
    canon_key(c, name);
    let slot = c.entry(name).or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        let single = std::mem::take(slot);
        *slot = Value::Array(if single.is_null() {
            vec![]
        } else {
            vec![single]
        });
    }
    slot.as_array_mut()
}

/// Unassigned attributes are absent, not empty (RFC 7644 §3.5.2.2).
fn drop_if_empty(c: &mut Map<String, Value>, name: &str) {
    let empty = match c.get(name) {
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(o)) => o.is_empty(),
        Some(Value::Null) => true,
        _ => false,
    };
    if empty {
        c.remove(name);
    }
}

fn strip_nulls(mut o: Map<String, Value>) -> Map<String, Value> {
    o.retain(|_, v| !v.is_null());
    o
}

/// Merges sub-attributes into an existing object; null unassigns.
fn merge(existing: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (k, v) in patch {
        canon_key(existing, &k);
        if v.is_null() {
            existing.remove(&k);
        } else {
            existing.insert(k, v);
        }
    }
}

/// `remove` with path `emails` and a value listing elements: remove just those. Elements match
/// when every listed sub-attribute is equal.
fn remove_listed(c: &mut Map<String, Value>, def: &AttrDef, value: &Value) -> ScimResult<()> {
    let listed = normalize_items(def, value, def.name)?;
    let Some(list) = array_mut(c, def.name) else {
        return Ok(());
    };
    list.retain(|elem| !listed.iter().any(|l| element_contains(elem, l)));
    drop_if_empty(c, def.name);
    Ok(())
}

fn element_contains(elem: &Value, listed: &Value) -> bool {
    match (elem.as_object(), listed.as_object()) {
        (Some(e), Some(l)) => l.iter().all(|(k, v)| e.get(k) == Some(v)),
        _ => elem == listed,
    }
}

/// `name.familyName` or `emails.type` without a filter: unassign the sub-attribute everywhere.
fn remove_sub_everywhere(c: &mut Map<String, Value>, name: &str, sub: &str) {
    match c.get_mut(name) {
        Some(Value::Object(o)) => {
            remove_ci(o, sub);
        }
        Some(Value::Array(items)) => {
            for item in items.iter_mut() {
                if let Some(o) = item.as_object_mut() {
                    remove_ci(o, sub);
                }
            }
            items.retain(|i| !matches!(i, Value::Object(o) if o.is_empty()));
        }
        _ => {}
    }
    drop_if_empty(c, name);
}

/// `emails[type eq "work"]` removes matching elements; with `.sub`, only that sub-attribute.
/// No match is not an error: the state asked for already holds.
fn remove_matching(c: &mut Map<String, Value>, name: &str, f: &TypedFilter, sub: Option<&str>) {
    let Some(Value::Array(items)) = c.get_mut(name) else {
        return;
    };
    match sub {
        None => items.retain(|e| !matches_element(f, e)),
        Some(s) => {
            for e in items.iter_mut().filter(|e| matches_element(f, e)) {
                if let Some(o) = e.as_object_mut() {
                    remove_ci(o, s);
                }
            }
            items.retain(|i| !matches!(i, Value::Object(o) if o.is_empty()));
        }
    }
    drop_if_empty(c, name);
}

/// Whether `new` names a value `existing` already holds: equal elements, or for complex
/// elements the same `value` (compared as its schema says: emails ignore case) and the same
/// `type`, so that adding `{"value":"A@x.com","type":"work"}` beside `a@x.com` (work) does not
/// list one address twice (RFC 7643 §2.4).
fn same_value(def: &AttrDef, existing: &Value, new: &Value) -> bool {
    if existing == new {
        return true;
    }
    let (Value::Object(e), Value::Object(n), Some(value_def)) = (existing, new, def.sub("value"))
    else {
        return false;
    };
    let text_eq = |a: Option<&Value>, b: Option<&Value>, exact: bool| match (a, b) {
        (Some(Value::String(x)), Some(Value::String(y))) if !exact => {
            x.to_lowercase() == y.to_lowercase()
        }
        (a, b) => a == b,
    };
    n.get("value").is_some()
        && text_eq(e.get("value"), n.get("value"), value_def.case_exact)
        && text_eq(e.get("type"), n.get("type"), false)
}

/// Sets `sub` of a matched element, or merges (add) / replaces (replace) the whole element.
fn update_element(elem: &mut Value, sub: Option<&str>, new: Value, is_add: bool) {
    match (sub, elem) {
        (Some(s), Value::Object(o)) => {
            canon_key(o, s);
            if new.is_null() {
                o.remove(s);
            } else {
                o.insert(s.to_string(), new);
            }
        }
        (None, Value::Object(o)) if is_add => {
            if let Value::Object(patch) = new {
                merge(o, patch);
            }
        }
        (_, elem) => {
            *elem = match new {
                Value::Object(o) => Value::Object(strip_nulls(o)),
                other => other,
            };
        }
    }
}

/// Builds the element an Add on an unmatched value-filter path creates: the filter's
/// `sub eq value` terms (joined by `and`) plus the value given.
fn element_from_filter(t: &Target<'_>, f: &TypedFilter, new: Value) -> ScimResult<Value> {
    let mut obj = Map::new();
    collect_equalities(f, &mut obj).ok_or_else(|| {
        ScimError::no_target(format!(
            "no value of '{}' matches the filter, and the filter is not simple equalities to create one from",
            t.def.name
        ))
    })?;
    match (t.sub, new) {
        (Some(s), v) => {
            obj.insert(s.name.to_string(), v);
        }
        (None, Value::Object(patch)) => merge(&mut obj, patch),
        (None, _) => {
            return Err(ScimError::invalid_value(format!(
                "'{}' elements are objects",
                t.def.name
            )))
        }
    }
    Ok(Value::Object(strip_nulls(obj)))
}

fn collect_equalities(f: &TypedFilter, out: &mut Map<String, Value>) -> Option<()> {
    match f {
        TypedFilter::And(l, r) => {
            collect_equalities(l, out)?;
            collect_equalities(r, out)
        }
        TypedFilter::Compare {
            attr,
            op: CompareOp::Eq,
            value,
        } => {
            let v = match value {
                CompValue::Str(s) => Value::String(s.clone()),
                CompValue::Num(n) => Value::Number(n.clone()),
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Null => return None,
            };
            out.insert(attr.sub?.to_string(), v);
            Some(())
        }
        _ => None,
    }
}

/// RFC 7643 §2.4: `primary: true` appears at most once. The most recently written element
/// wins; the others are set to false.
fn enforce_single_primary(list: &mut [Value], touched: &[usize]) {
    let is_primary = |v: &Value| v.get("primary") == Some(&Value::Bool(true));
    let primaries: Vec<usize> = (0..list.len()).filter(|&i| is_primary(&list[i])).collect();
    if primaries.len() < 2 {
        return;
    }
    let keep = touched
        .iter()
        .rev()
        .copied()
        .find(|&i| primaries.contains(&i))
        .or(primaries.last().copied());
    for i in primaries {
        if Some(i) != keep {
            if let Some(o) = list[i].as_object_mut() {
                o.insert("primary".into(), Value::Bool(false));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::error::ScimErrorKind as K;
    use crate::scim::schema::{Registry, CORE_USER, ENTERPRISE_USER, SEAT_USER};
    use serde_json::json;

    fn body(ops: Value) -> Value {
        json!({"schemas": [PATCH_OP], "Operations": ops})
    }

    fn user_doc() -> Value {
        json!({
            "schemas": [CORE_USER],
            "id": "u-1",
            "userName": "bjensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "active": true,
            "emails": [{"value": "bj@example.com", "type": "work", "primary": true}],
            "meta": {"resourceType": "User", "created": "2020-01-01T00:00:00Z"}
        })
    }

    fn group_doc() -> Value {
        json!({"schemas": [CORE_GROUP], "id": "g-1", "displayName": "Sales"})
    }

    fn run(doc: Value, rs: &ResourceSchema, ops: Value) -> ScimResult<(Value, PatchOutcome)> {
        let ops = parse_patch_request(&body(ops))?;
        let mut doc = doc;
        let out = apply(&mut doc, &ops, rs)?;
        Ok((doc, out))
    }

    fn user(ops: Value) -> Value {
        run(user_doc(), &Registry::get().user, ops)
            .unwrap_or_else(|e| panic!("{e}"))
            .0
    }

    fn user_err(ops: Value) -> ScimError {
        let before = user_doc();
        let mut doc = before.clone();
        let parsed = parse_patch_request(&body(ops)).unwrap();
        let e = apply(&mut doc, &parsed, &Registry::get().user).unwrap_err();
        assert_eq!(
            doc, before,
            "a failed PATCH must leave the resource untouched"
        );
        e
    }

    fn group(ops: Value) -> Vec<MemberOp> {
        let (doc, out) =
            run(group_doc(), &Registry::get().group, ops).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            doc.get("members").is_none(),
            "members never go into the JSON"
        );
        out.member_ops
    }

    // --- envelope -------------------------------------------------------------------------

    #[test]
    fn parses_entra_and_okta_envelopes() {
        let ops = parse_patch_request(&json!({
            "schemas": ["URN:IETF:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "ADD", "path": "title", "value": "x"},
                {"op": "remove", "path": "nickName"},
                {"op": "add", "path": "", "value": {"title": "y"}}
            ]
        }))
        .unwrap();
        assert_eq!(ops.len(), 4);
        assert_eq!(ops[0].op, PatchOpKind::Replace);
        assert_eq!(ops[1].op, PatchOpKind::Add);
        assert_eq!(
            ops[2],
            PatchOperation {
                op: PatchOpKind::Remove,
                path: Some("nickName".into()),
                value: None
            }
        );
        assert_eq!(ops[3].path, None);
        let ops = parse_patch_request(&json!({"schemas": [PATCH_OP], "operations": [{"OP": "add", "Path": "title", "Value": 1}]})).unwrap();
        assert_eq!(ops[0].path.as_deref(), Some("title"));
    }

    #[test]
    fn malformed_envelopes() {
        let k = |b: Value| parse_patch_request(&b).unwrap_err();
        assert_eq!(k(json!([])).kind, K::InvalidSyntax);
        assert_eq!(k(json!({"Operations": []})).kind, K::InvalidSyntax);
        assert_eq!(
            k(json!({"schemas": ["urn:x"], "Operations": [{"op": "add", "value": {}}]})).kind,
            K::InvalidSyntax
        );
        assert_eq!(k(json!({"schemas": [PATCH_OP]})).kind, K::InvalidSyntax);
        assert_eq!(
            k(json!({"schemas": [PATCH_OP], "Operations": []})).kind,
            K::InvalidSyntax
        );
        assert_eq!(
            k(json!({"schemas": [PATCH_OP], "Operations": {}})).kind,
            K::InvalidSyntax
        );
        assert_eq!(k(body(json!(["add"]))).kind, K::InvalidSyntax);
        let e = k(body(
            json!([{"op": "add", "value": {}}, {"op": "upsert", "value": 1}]),
        ));
        assert_eq!(e.kind, K::InvalidSyntax);
        assert!(
            e.detail.starts_with("Operations[1]: unknown op 'upsert'"),
            "{}",
            e.detail
        );
        assert_eq!(
            k(body(json!([{"op": "add", "path": "title"}]))).kind,
            K::InvalidValue
        );
        assert_eq!(
            k(body(json!([{"op": "add", "path": 5, "value": 1}]))).kind,
            K::InvalidSyntax
        );
        assert_eq!(
            k(body(json!([{"path": "title", "value": 1}]))).kind,
            K::InvalidSyntax
        );
    }

    // --- simple attributes ------------------------------------------------------------------

    #[test]
    fn replace_and_add_with_path() {
        let d = user(json!([
            {"op": "replace", "path": "userName", "value": "babs"},
            {"op": "add", "path": "DISPLAYNAME", "value": "Babs"}
        ]));
        assert_eq!(d["userName"], "babs");
        assert_eq!(d["displayName"], "Babs");
        assert!(d.get("DISPLAYNAME").is_none());
    }

    #[test]
    fn pathless_keys_any_case_dotted_and_urn() {
        let d = user(json!([{"op": "add", "value": {
            "TITLE": "Boss",
            "name.givenName": "Babs",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Sales",
            "urn:ietf:params:scim:schemas:core:2.0:User:nickName": "B"
        }}]));
        assert_eq!(d["title"], "Boss");
        assert_eq!(
            d["name"],
            json!({"givenName": "Babs", "familyName": "Jensen"})
        );
        assert_eq!(d[ENTERPRISE_USER]["department"], "Sales");
        assert_eq!(d["nickName"], "B");
        assert_eq!(d["schemas"], json!([CORE_USER, ENTERPRISE_USER]));
    }

    #[test]
    fn pathless_urn_object_merges_into_extension() {
        let d = user(json!([
            {"op": "add", "value": {ENTERPRISE_USER: {"department": "Sales", "costCenter": "4130"}}},
            {"op": "replace", "value": {ENTERPRISE_USER: {"Department": "Ops", "manager": {"value": "m-1"}}}}
        ]));
        assert_eq!(
            d[ENTERPRISE_USER],
            json!({"department": "Ops", "costCenter": "4130", "manager": {"value": "m-1"}})
        );
    }

    #[test]
    fn okta_deactivate_and_entra_boolean_strings() {
        let d = user(json!([{"op": "replace", "value": {"active": false}}]));
        assert_eq!(d["active"], false);
        let d = user(json!([{"op": "Replace", "path": "active", "value": "False"}]));
        assert_eq!(d["active"], false);
        let d = user(json!([{"op": "Replace", "value": {"active": "TRUE"}}]));
        assert_eq!(d["active"], true);
        assert_eq!(
            user_err(json!([{"op": "replace", "path": "active", "value": "no"}])).kind,
            K::InvalidValue
        );
    }

    #[test]
    fn wrong_value_types() {
        for (path, v) in [
            ("name", json!("Barbara")),
            ("userName", json!(5)),
            ("active", json!(1)),
            ("emails", json!([5])),
            ("emails", json!([{"value": "x", "nope": 1}])),
            ("name", json!({"givenName": 3})),
            ("title", json!({"a": 1})),
        ] {
            let e = user_err(json!([{"op": "replace", "path": path, "value": v}]));
            assert_eq!(e.kind, K::InvalidValue, "{path}: {e}");
        }
        let e = user_err(json!([{"op": "replace", "path": "name", "value": "Barbara"}]));
        assert!(e.detail.contains("'name' is complex"), "{}", e.detail);
        let e = user_err(json!([{"op": "replace", "path": "name.givenName", "value": 3}]));
        assert!(
            e.detail.contains("'name.givenName' must be a string"),
            "{}",
            e.detail
        );
    }

    #[test]
    fn unknown_attribute_is_invalid_path() {
        assert_eq!(
            user_err(json!([{"op": "add", "path": "nope", "value": 1}])).kind,
            K::InvalidPath
        );
        assert_eq!(
            user_err(json!([{"op": "add", "value": {"nope": 1}}])).kind,
            K::InvalidPath
        );
        assert_eq!(
            user_err(json!([{"op": "add", "path": "emails[", "value": 1}])).kind,
            K::InvalidPath
        );
    }

    #[test]
    fn null_unassigns() {
        let d = user(
            json!([{"op": "replace", "value": {"name": {"givenName": null}, "active": null}}]),
        );
        assert_eq!(d["name"], json!({"familyName": "Jensen"}));
        assert!(d.get("active").is_none());
        assert_eq!(
            user_err(json!([{"op": "replace", "path": "userName", "value": null}])).kind,
            K::InvalidValue
        );
    }

    // --- complex attributes ----------------------------------------------------------------

    #[test]
    fn complex_replace_merges_and_sub_paths() {
        let d = user(json!([{"op": "replace", "path": "name", "value": {"givenName": "Babs"}}]));
        assert_eq!(
            d["name"],
            json!({"givenName": "Babs", "familyName": "Jensen"})
        );
        let d =
            user(json!([{"op": "replace", "path": "name.familyName", "value": "Jensen-Smith"}]));
        assert_eq!(d["name"]["familyName"], "Jensen-Smith");
        let d = user(
            json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:User:name.middleName", "value": "M"}]),
        );
        assert_eq!(d["name"]["middleName"], "M");
        let d = user(json!([{"op": "remove", "path": "name.familyName"}]));
        assert_eq!(d["name"], json!({"givenName": "Barbara"}));
        let d = user(
            json!([{"op": "remove", "path": "name.familyName"}, {"op": "remove", "path": "name.givenName"}]),
        );
        assert!(
            d.get("name").is_none(),
            "an emptied complex attribute is unassigned"
        );
    }

    #[test]
    fn enterprise_manager_bare_string_and_sub_path() {
        let d = user(
            json!([{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "mgr-id"}]),
        );
        assert_eq!(d[ENTERPRISE_USER]["manager"], json!({"value": "mgr-id"}));
        assert!(d["schemas"]
            .as_array()
            .unwrap()
            .contains(&json!(ENTERPRISE_USER)));
        let d = user(
            json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "value": "m2"}]),
        );
        assert_eq!(d[ENTERPRISE_USER]["manager"], json!({"value": "m2"}));
        // displayName is readOnly inside manager: ignored, not stored.
        let d = user(
            json!([{"op": "add", "value": {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager": {"value": "m3", "displayName": "Boss"}}}]),
        );
        assert_eq!(d[ENTERPRISE_USER]["manager"], json!({"value": "m3"}));
    }

    #[test]
    fn extension_leaves_schemas_when_emptied() {
        let start =
            user(json!([{"op": "add", "value": {ENTERPRISE_USER: {"department": "Sales"}}}]));
        let mut doc = start.clone();
        let ops = parse_patch_request(&body(
            json!([{"op": "remove", "path": format!("{ENTERPRISE_USER}:department")}]),
        ))
        .unwrap();
        apply(&mut doc, &ops, &Registry::get().user).unwrap();
        assert!(doc.get(ENTERPRISE_USER).is_none());
        assert_eq!(doc["schemas"], json!([CORE_USER]));
        // Removing the whole extension by its URN works the same.
        let mut doc = start;
        let ops =
            parse_patch_request(&body(json!([{"op": "remove", "path": ENTERPRISE_USER}]))).unwrap();
        apply(&mut doc, &ops, &Registry::get().user).unwrap();
        assert!(doc.get(ENTERPRISE_USER).is_none());
        assert_eq!(doc["schemas"], json!([CORE_USER]));
    }

    #[test]
    fn whole_extension_path() {
        let d = user(
            json!([{"op": "replace", "path": ENTERPRISE_USER, "value": {"division": "EMEA"}}]),
        );
        assert_eq!(d[ENTERPRISE_USER], json!({"division": "EMEA"}));
        assert_eq!(
            user_err(json!([{"op": "replace", "path": ENTERPRISE_USER, "value": "x"}])).kind,
            K::InvalidValue
        );
    }

    // --- multi-valued attributes ------------------------------------------------------------

    #[test]
    fn add_appends_skipping_duplicates() {
        let d = user(json!([{"op": "add", "path": "emails", "value": [
            {"value": "bj@example.com", "type": "work", "primary": true},
            {"Value": "babs@home.org", "Type": "home"}
        ]}]));
        assert_eq!(
            d["emails"],
            json!([
                {"value": "bj@example.com", "type": "work", "primary": true},
                {"value": "babs@home.org", "type": "home"}
            ])
        );
        // A single object is accepted as one element.
        let d = user(
            json!([{"op": "add", "path": "phoneNumbers", "value": {"value": "555", "type": "work"}}]),
        );
        assert_eq!(d["phoneNumbers"], json!([{"value": "555", "type": "work"}]));
    }

    #[test]
    fn adding_a_value_already_there_in_another_case_merges_into_it() {
        // Same address in another case, same type: no second element; its `primary` lands
        // on the element that is there.
        let d = user(json!([{"op": "add", "path": "emails", "value": [
            {"value": "BJ@Example.com", "type": "Work", "display": "Barbara at work"}
        ]}]));
        assert_eq!(
            d["emails"],
            json!([{"value": "bj@example.com", "type": "work", "primary": true, "display": "Barbara at work"}])
        );
        // The same value with another type is another element.
        let d = user(json!([{"op": "add", "path": "emails", "value": [
            {"value": "bj@example.com", "type": "home"}
        ]}]));
        assert_eq!(d["emails"].as_array().map(Vec::len), Some(2));
        // A second primary made by a merge still leaves one primary.
        let d = user(json!([
            {"op": "add", "path": "emails", "value": [{"value": "h@x.org", "type": "home"}]},
            {"op": "add", "path": "emails", "value": [{"value": "H@X.org", "type": "home", "primary": true}]}
        ]));
        assert_eq!(
            d["emails"],
            json!([
                {"value": "bj@example.com", "type": "work", "primary": false},
                {"value": "h@x.org", "type": "home", "primary": true}
            ])
        );
    }

    #[test]
    fn primary_stays_unique() {
        let d = user(
            json!([{"op": "add", "path": "emails", "value": [{"value": "new@x.org", "type": "home", "primary": true}]}]),
        );
        assert_eq!(d["emails"][0]["primary"], false);
        assert_eq!(d["emails"][1]["primary"], true);
        let d = user(json!([
            {"op": "add", "path": "emails", "value": [{"value": "h@x.org", "type": "home"}]},
            {"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}
        ]));
        assert_eq!(d["emails"][0]["primary"], false);
        assert_eq!(d["emails"][1]["primary"], true);
        let d = user(json!([{"op": "replace", "path": "emails", "value": [
            {"value": "a@x.org", "primary": true}, {"value": "b@x.org", "primary": "True"}
        ]}]));
        assert_eq!(
            d["emails"],
            json!([{"value": "a@x.org", "primary": false}, {"value": "b@x.org", "primary": true}])
        );
    }

    #[test]
    fn replace_replaces_the_list() {
        let d =
            user(json!([{"op": "replace", "path": "emails", "value": [{"value": "only@x.org"}]}]));
        assert_eq!(d["emails"], json!([{"value": "only@x.org"}]));
        let d = user(json!([{"op": "replace", "path": "emails", "value": []}]));
        assert!(d.get("emails").is_none());
        let d = user(
            json!([{"op": "replace", "value": {"emails": [{"value": "p@x.org", "type": "work"}]}}]),
        );
        assert_eq!(d["emails"], json!([{"value": "p@x.org", "type": "work"}]));
    }

    #[test]
    fn value_filter_replace_and_remove() {
        let d = user(
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"}]),
        );
        assert_eq!(
            d["emails"],
            json!([{"value": "new@example.com", "type": "work", "primary": true}])
        );
        let d = user(
            json!([{"op": "replace", "path": "emails[type eq \"work\"]", "value": {"value": "w@x.org", "type": "work"}}]),
        );
        assert_eq!(d["emails"], json!([{"value": "w@x.org", "type": "work"}]));
        let d = user(json!([{"op": "remove", "path": "emails[type eq \"work\"]"}]));
        assert!(d.get("emails").is_none());
        let d = user(json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]));
        assert_eq!(
            d["emails"],
            json!([{"value": "bj@example.com", "type": "work"}])
        );
        // Removing what is not there is a no-op.
        let d = user(json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]));
        assert_eq!(d["emails"], user_doc()["emails"]);
        let d = user(
            json!([{"op": "remove", "path": "emails", "value": [{"value": "bj@example.com"}]}]),
        );
        assert!(d.get("emails").is_none());
    }

    #[test]
    fn replace_with_unmatched_filter_is_no_target() {
        let e = user_err(
            json!([{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "h@x.org"}]),
        );
        assert_eq!(e.kind, K::NoTarget);
        let e = user_err(
            json!([{"op": "replace", "path": "phoneNumbers[type eq \"work\"].value", "value": "1"}]),
        );
        assert_eq!(e.kind, K::NoTarget);
    }

    #[test]
    fn entra_add_on_unmatched_filter_creates_the_element() {
        let d = user(
            json!([{"op": "Add", "path": "emails[type eq \"home\"].value", "value": "a@b.c"}]),
        );
        assert_eq!(d["emails"][1], json!({"type": "home", "value": "a@b.c"}));
        let d = user(
            json!([{"op": "Add", "path": "phoneNumbers[type eq \"work\"].value", "value": "555"}]),
        );
        assert_eq!(d["phoneNumbers"], json!([{"type": "work", "value": "555"}]));
        let d = user(
            json!([{"op": "Add", "path": "addresses[type eq \"work\"].streetAddress", "value": "1 Main St"}]),
        );
        assert_eq!(
            d["addresses"],
            json!([{"type": "work", "streetAddress": "1 Main St"}])
        );
        // Matching element: its sub-attribute is set instead.
        let d = user(
            json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "z@b.c"}]),
        );
        assert_eq!(
            d["emails"],
            json!([{"value": "z@b.c", "type": "work", "primary": true}])
        );
        // Path-less Entra form with the filter path as key.
        let d = user(
            json!([{"op": "Add", "value": {"emails[type eq \"home\"].value": "h@b.c", "name.givenName": "B"}}]),
        );
        assert_eq!(d["emails"][1], json!({"type": "home", "value": "h@b.c"}));
        // A filter that is not plain equalities cannot build an element.
        let e =
            user_err(json!([{"op": "Add", "path": "emails[type co \"h\"].value", "value": "x@y"}]));
        assert_eq!(e.kind, K::NoTarget);
    }

    #[test]
    fn sub_attribute_of_multi_valued_needs_a_filter() {
        let e = user_err(json!([{"op": "replace", "path": "emails.value", "value": "x@y"}]));
        assert_eq!(e.kind, K::InvalidPath);
        let d = user(json!([{"op": "remove", "path": "emails.primary"}]));
        assert_eq!(
            d["emails"],
            json!([{"value": "bj@example.com", "type": "work"}])
        );
    }

    // --- mutability and required -------------------------------------------------------------

    #[test]
    fn remove_without_path_is_no_target() {
        assert_eq!(user_err(json!([{"op": "remove"}])).kind, K::NoTarget);
    }

    #[test]
    fn required_attributes_cannot_be_removed() {
        assert_eq!(
            user_err(json!([{"op": "remove", "path": "userName"}])).kind,
            K::InvalidValue
        );
        let e = run(
            group_doc(),
            &Registry::get().group,
            json!([{"op": "remove", "path": "displayName"}]),
        )
        .unwrap_err();
        assert_eq!(e.kind, K::InvalidValue);
    }

    #[test]
    fn read_only_attributes() {
        for path in [
            "id",
            "meta",
            "meta.created",
            "groups",
            &format!("{SEAT_USER}:status"),
            SEAT_USER,
        ] {
            for op in [
                json!({"op": "replace", "path": path, "value": "x"}),
                json!({"op": "remove", "path": path}),
            ] {
                let e = user_err(json!([op]));
                assert_eq!(e.kind, K::Mutability, "{op}: {e}");
            }
        }
        let e = user_err(json!([{"op": "add", "value": {SEAT_USER: {"tier": "premium"}}}]));
        assert_eq!(e.kind, K::Mutability);
        let e = user_err(json!([{"op": "replace", "value": {"id": "other"}}]));
        assert_eq!(e.kind, K::Mutability);
        // Echoing the current value in a path-less replace is harmless (Okta sends the id).
        let d = user(json!([{"op": "replace", "value": {"id": "u-1", "displayName": "B"}}]));
        assert_eq!(d["id"], "u-1");
    }

    #[test]
    fn atomic_on_failure() {
        let e = user_err(json!([
            {"op": "replace", "path": "userName", "value": "changed"},
            {"op": "remove", "path": "id"}
        ]));
        assert_eq!(e.kind, K::Mutability);
        assert!(e.detail.starts_with("Operations[1]:"), "{}", e.detail);
    }

    // --- Group members ---------------------------------------------------------------------

    #[test]
    fn members_add_and_replace() {
        let ops = group(
            json!([{"op": "add", "path": "members", "value": [{"value": "u1", "display": "Babs"}, {"value": "u2"}]}]),
        );
        assert_eq!(
            ops,
            vec![MemberOp::Add(vec![
                json!({"value": "u1"}),
                json!({"value": "u2"})
            ])]
        );
        // Okta Group Push.
        let ops = group(
            json!([{"op": "replace", "path": "members", "value": [{"value": "u3", "display": "x"}]}]),
        );
        assert_eq!(
            ops,
            vec![MemberOp::ReplaceAll(vec![json!({"value": "u3"})])]
        );
        let ops = group(
            json!([{"op": "replace", "value": {"id": "g-1", "displayName": "Sales", "members": [{"value": "u4"}]}}]),
        );
        assert_eq!(
            ops,
            vec![MemberOp::ReplaceAll(vec![json!({"value": "u4"})])]
        );
        let ops = group(json!([{"op": "add", "value": {"Members": [{"value": "u5"}]}}]));
        assert_eq!(ops, vec![MemberOp::Add(vec![json!({"value": "u5"})])]);
    }

    #[test]
    fn members_remove_forms() {
        let ops = group(json!([{"op": "remove", "path": "members[value eq \"u1\"]"}]));
        assert_eq!(ops, vec![MemberOp::Remove(vec!["u1".into()])]);
        let ops =
            group(json!([{"op": "remove", "path": "members[value eq \"u1\" or value eq \"u2\"]"}]));
        assert_eq!(ops, vec![MemberOp::Remove(vec!["u1".into(), "u2".into()])]);
        // Entra / Okta: path "members" with the members to remove as the value.
        let ops = group(
            json!([{"op": "Remove", "path": "members", "value": [{"value": "u7"}, {"value": "u8"}]}]),
        );
        assert_eq!(ops, vec![MemberOp::Remove(vec!["u7".into(), "u8".into()])]);
        let ops = group(json!([{"op": "remove", "path": "members"}]));
        assert_eq!(ops, vec![MemberOp::RemoveAll]);
    }

    #[test]
    fn members_ops_keep_order_with_other_changes() {
        let (doc, out) = run(
            group_doc(),
            &Registry::get().group,
            json!([
                {"op": "replace", "value": {"displayName": "Sales EMEA"}},
                {"op": "remove", "path": "members[value eq \"a\"]"},
                {"op": "add", "path": "members", "value": [{"value": "b"}]}
            ]),
        )
        .unwrap();
        assert_eq!(doc["displayName"], "Sales EMEA");
        assert_eq!(
            out.member_ops,
            vec![
                MemberOp::Remove(vec!["a".into()]),
                MemberOp::Add(vec![json!({"value": "b"})])
            ]
        );
    }

    #[test]
    fn members_bad_shapes() {
        let g = |ops: Value| run(group_doc(), &Registry::get().group, ops).unwrap_err();
        assert_eq!(
            g(json!([{"op": "add", "path": "members", "value": [{"display": "x"}]}])).kind,
            K::InvalidValue
        );
        assert_eq!(
            g(json!([{"op": "add", "path": "members", "value": [7]}])).kind,
            K::InvalidValue
        );
        assert_eq!(
            g(json!([{"op": "remove", "path": "members[type eq \"User\"]"}])).kind,
            K::InvalidPath
        );
        // members.value is immutable: editing a member in place is a mutability error.
        let e = g(
            json!([{"op": "replace", "path": "members[value eq \"a\"]", "value": {"value": "b"}}]),
        );
        assert_eq!(e.kind, K::Mutability, "{e}");
        assert_eq!(
            g(json!([{"op": "replace", "path": "members[value eq \"a\"].value", "value": "b"}]))
                .kind,
            K::Mutability
        );
        // `display` is no sub-attribute of members in the schema: a bad path.
        assert_eq!(
            g(json!([{"op": "replace", "path": "members[value eq \"a\"].display", "value": "b"}]))
                .kind,
            K::InvalidPath
        );
        assert_eq!(
            g(json!([{"op": "replace", "path": "members.value", "value": "b"}])).kind,
            K::Mutability
        );
    }

    #[test]
    fn group_rename_okta_shape() {
        let (doc, out) = run(
            group_doc(),
            &Registry::get().group,
            json!([
                {"op": "replace", "value": {"id": "g-1", "displayName": "Renamed"}}
            ]),
        )
        .unwrap();
        assert_eq!(doc["displayName"], "Renamed");
        assert!(out.member_ops.is_empty());
    }
}

#[cfg(test)]
mod fuzz {
    //! Every combination of op, path and value shape on both resource types: errors are fine,
    //! panics are not, and a failed PATCH leaves the resource as it was.
    use super::*;
    use crate::scim::schema::{Registry, ENTERPRISE_USER, SEAT_USER};
    use serde_json::json;

    #[test]
    fn op_path_value_grid_never_panics() {
        let paths: Vec<Option<String>> = vec![
            None,
            Some("userName".into()),
            Some("name".into()),
            Some("name.givenName".into()),
            Some("emails".into()),
            Some("emails.value".into()),
            Some(r#"emails[type eq "work"]"#.into()),
            Some(r#"emails[type eq "work"].value"#.into()),
            Some(r#"emails[type eq "work" or primary eq true].primary"#.into()),
            Some("active".into()),
            Some("id".into()),
            Some("meta.version".into()),
            Some("members".into()),
            Some(r#"members[value eq "a"]"#.into()),
            Some(r#"members[value eq "a"].value"#.into()),
            Some("displayName".into()),
            Some(ENTERPRISE_USER.into()),
            Some(format!("{ENTERPRISE_USER}:manager")),
            Some(format!("{ENTERPRISE_USER}:manager.value")),
            Some(SEAT_USER.into()),
            Some(format!("{SEAT_USER}:queuePosition")),
            Some("x509Certificates".into()),
            Some("garbage[[".into()),
        ];
        let values = [
            None,
            Some(json!(null)),
            Some(json!("s")),
            Some(json!("False")),
            Some(json!(7)),
            Some(json!(true)),
            Some(json!([])),
            Some(json!([{"value": "v", "type": "work", "primary": true}])),
            Some(json!({"value": "v"})),
            Some(json!({"givenName": "g", "Value": 1})),
            Some(
                json!({"userName": "u", "name.familyName": "f", "members": [{"value": "m"}], ENTERPRISE_USER: {"department": "d"}}),
            ),
            Some(json!([[1], {"a": {}}])),
        ];
        let docs = [
            (
                json!({"schemas": [], "id": "u", "userName": "x", "emails": "not-a-list", "name": 3}),
                &Registry::get().user,
            ),
            (
                json!({"id": "u", "userName": "x", ENTERPRISE_USER: 5, "schemas": "nope"}),
                &Registry::get().user,
            ),
            (
                json!({"id": "g", "displayName": "G", "members": [{"value": "a"}]}),
                &Registry::get().group,
            ),
        ];
        for (doc, rs) in &docs {
            for path in &paths {
                for value in &values {
                    for op in [PatchOpKind::Add, PatchOpKind::Remove, PatchOpKind::Replace] {
                        let ops = [PatchOperation {
                            op,
                            path: path.clone(),
                            value: value.clone(),
                        }];
                        let mut d = doc.clone();
                        if apply(&mut d, &ops, rs).is_err() {
                            assert_eq!(&d, doc);
                        }
                    }
                }
            }
        }
        let mut not_object = json!([1]);
        assert!(apply(&mut not_object, &[], &Registry::get().user).is_err());
    }
}
