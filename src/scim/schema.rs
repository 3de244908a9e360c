//! The attribute registry: every schema the server supports, described once (RFC 7643 §2, §7).
//! `/Schemas` is rendered from it, input is checked against it, and filters and PATCH paths
//! resolve attribute names through it, so what we advertise is what we do.

use serde_json::{json, Map, Value};

use super::limits;

pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Read-only seat state of a user; ours, so not under the IETF namespace.
pub const SEAT_USER: &str = "urn:scim-seats:params:scim:schemas:extension:seat:2.0:User";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
pub const BULK_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
pub const SERVICE_PROVIDER_CONFIG: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// Names whose values live in indexed columns: `userName`, `externalId`, `displayName`
/// (groups; users sort by it), email and member `value`s, and the short labels. They get
/// `limits::MAX_INDEXED_BYTES`.
const INDEXED: [&str; 6] = [
    "userName",
    "externalId",
    "displayName",
    "value",
    "display",
    "type",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Binary => "binary",
            Self::Reference => "reference",
            Self::Complex => "complex",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "readOnly",
            Self::ReadWrite => "readWrite",
            Self::Immutable => "immutable",
            Self::WriteOnly => "writeOnly",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Never => "never",
            Self::Default => "default",
            Self::Request => "request",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Server => "server",
            Self::Global => "global",
        }
    }
}

/// One attribute definition (RFC 7643 §7 "attributes").
#[derive(Debug, Clone)]
pub struct AttrDef {
    pub name: &'static str,
    pub ty: AttrType,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub_attributes: Vec<AttrDef>,
    pub description: &'static str,
}

impl AttrDef {
    fn new(name: &'static str, ty: AttrType) -> Self {
        Self {
            name,
            ty,
            multi_valued: false,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: Vec::new(),
            description: "",
        }
    }
    fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    fn required(mut self) -> Self {
        self.required = true;
        self
    }
    fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }
    fn returned(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }
    fn unique(mut self, u: Uniqueness) -> Self {
        self.uniqueness = u;
        self
    }
    fn canonical(mut self, v: &'static [&'static str]) -> Self {
        self.canonical_values = v;
        self
    }
    fn refs(mut self, v: &'static [&'static str]) -> Self {
        self.reference_types = v;
        self
    }
    fn subs(mut self, s: Vec<AttrDef>) -> Self {
        self.sub_attributes = s;
        self
    }
    fn describe(mut self, d: &'static str) -> Self {
        self.description = d;
        self
    }

    /// Sub-attribute by name, case-insensitively (RFC 7643 §2.1).
    pub fn sub(&self, name: &str) -> Option<&AttrDef> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// The largest string this attribute accepts, in UTF-8 bytes (`scim::limits`).
    pub fn max_bytes(&self) -> usize {
        match self.ty {
            AttrType::Binary => limits::MAX_BINARY_BYTES,
            AttrType::String if INDEXED.contains(&self.name) => limits::MAX_INDEXED_BYTES,
            _ => limits::MAX_STRING_BYTES,
        }
    }

    /// RFC 7643 §7 rendering for `/Schemas`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        m.insert("type".into(), json!(self.ty.as_str()));
        m.insert("multiValued".into(), json!(self.multi_valued));
        // The input limits (`scim::limits`), where RFC 7643 leaves room: in the description.
        let mut description = self.description.to_string();
        let writable = self.mutability != Mutability::ReadOnly;
        if writable
            && matches!(
                self.ty,
                AttrType::String | AttrType::Reference | AttrType::Binary
            )
        {
            let max = self.max_bytes();
            description.push_str(&format!(" At most {max} bytes (UTF-8); no NUL character."));
        }
        if writable && self.multi_valued && self.name != "members" {
            let max = limits::MAX_VALUES;
            description.push_str(&format!(" At most {max} values."));
        }
        m.insert("description".into(), json!(description.trim_start()));
        m.insert("required".into(), json!(self.required));
        if matches!(
            self.ty,
            AttrType::String | AttrType::Reference | AttrType::Binary
        ) {
            m.insert("caseExact".into(), json!(self.case_exact));
        }
        if !self.canonical_values.is_empty() {
            m.insert("canonicalValues".into(), json!(self.canonical_values));
        }
        if !self.reference_types.is_empty() {
            m.insert("referenceTypes".into(), json!(self.reference_types));
        }
        m.insert("mutability".into(), json!(self.mutability.as_str()));
        m.insert("returned".into(), json!(self.returned.as_str()));
        if self.ty != AttrType::Complex {
            m.insert("uniqueness".into(), json!(self.uniqueness.as_str()));
        }
        if !self.sub_attributes.is_empty() {
            let subs: Vec<Value> = self.sub_attributes.iter().map(AttrDef::to_json).collect();
            m.insert("subAttributes".into(), Value::Array(subs));
        }
        Value::Object(m)
    }
}

/// One schema (core or extension).
#[derive(Debug, Clone)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: Vec<AttrDef>,
}

impl SchemaDef {
    pub fn attr(&self, name: &str) -> Option<&AttrDef> {
        self.attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub fn to_json(&self, base_url: &str) -> Value {
        json!({
            "schemas": [SCHEMA],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": self.attributes.iter().map(AttrDef::to_json).collect::<Vec<_>>(),
            "meta": {
                "resourceType": "Schema",
                "location": format!("{base_url}/Schemas/{}", self.id),
            }
        })
    }
}

/// A resource type: its core schema and extensions (RFC 7643 §6).
#[derive(Debug, Clone)]
pub struct ResourceSchema {
    pub name: &'static str,
    pub endpoint: &'static str,
    pub description: &'static str,
    pub core: SchemaDef,
    /// Extensions with whether they are required on every resource.
    pub extensions: Vec<(SchemaDef, bool)>,
}

/// Where an attribute name resolved to.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'a> {
    /// The schema URN the attribute belongs to.
    pub schema: &'static str,
    /// Whether that schema is the core one (attributes sit at the top level of the JSON).
    pub is_core: bool,
    pub attr: &'a AttrDef,
    pub sub: Option<&'a AttrDef>,
}

impl ResourceSchema {
    /// All schemas, core first.
    pub fn schemas(&self) -> impl Iterator<Item = &SchemaDef> {
        std::iter::once(&self.core).chain(self.extensions.iter().map(|(s, _)| s))
    }

    pub fn extension(&self, urn: &str) -> Option<&SchemaDef> {
        self.extensions
            .iter()
            .map(|(s, _)| s)
            .find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Resolve an attribute path such as `userName`, `name.givenName`, `emails.value`,
    /// `urn:…:enterprise:2.0:User:manager.value` or `urn:…:core:2.0:User:userName`.
    /// Names are case-insensitive; the URN prefix is optional for core attributes.
    pub fn resolve(&self, path: &str) -> Option<Resolved<'_>> {
        let (schema, is_core, rest) = self.split_urn(path)?;
        let (attr_name, sub_name) = match rest.split_once('.') {
            Some((a, s)) => (a, Some(s)),
            None => (rest, None),
        };
        let def = if is_core {
            &self.core
        } else {
            self.extension(schema)?
        };
        let attr = def.attr(attr_name)?;
        let sub = match sub_name {
            Some(s) => Some(attr.sub(s)?),
            None => None,
        };
        Some(Resolved {
            schema: def.id,
            is_core,
            attr,
            sub,
        })
    }

    /// Split an optional schema URN prefix off an attribute path.
    /// Returns (schema id, is_core, remaining path).
    pub fn split_urn<'p>(&self, path: &'p str) -> Option<(&'static str, bool, &'p str)> {
        let lower = path.to_ascii_lowercase();
        // Longest URN first so `…:User` does not shadow a longer extension id.
        let mut candidates: Vec<&SchemaDef> = self.schemas().collect();
        candidates.sort_by_key(|s| std::cmp::Reverse(s.id.len()));
        for s in candidates {
            let id = s.id.to_ascii_lowercase();
            if lower.starts_with(&id) {
                let rest = &path[id.len()..];
                let is_core = s.id == self.core.id;
                if rest.is_empty() {
                    return Some((s.id, is_core, rest));
                }
                if let Some(r) = rest.strip_prefix(':') {
                    return Some((s.id, is_core, r));
                }
            }
        }
        if path.to_ascii_lowercase().starts_with("urn:") {
            return None;
        }
        Some((self.core.id, true, path))
    }

    /// RFC 7643 §6 rendering for `/ResourceTypes`.
    pub fn resource_type_json(&self, base_url: &str) -> Value {
        json!({
            "schemas": [RESOURCE_TYPE],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.core.id,
            "schemaExtensions": self.extensions.iter()
                .map(|(s, required)| json!({"schema": s.id, "required": required}))
                .collect::<Vec<_>>(),
            "meta": {
                "resourceType": "ResourceType",
                "location": format!("{base_url}/ResourceTypes/{}", self.name),
            }
        })
    }
}

use AttrType as T;
use Mutability as M;
use Returned as R;

/// `id`, `externalId` and `meta` are common to every resource (RFC 7643 §3.1). They are
/// registered in each core schema so that filters and sorting resolve them like any other.
fn common_attributes() -> Vec<AttrDef> {
    vec![
        AttrDef::new("id", T::String)
            .case_exact()
            .mutability(M::ReadOnly)
            .returned(R::Always)
            .unique(Uniqueness::Server)
            .describe("Unique identifier of the resource, issued by the service provider."),
        AttrDef::new("externalId", T::String)
            .case_exact()
            .describe("Identifier of the resource as defined by the provisioning client."),
        AttrDef::new("meta", T::Complex)
            .mutability(M::ReadOnly)
            .describe("Resource metadata.")
            .subs(vec![
                AttrDef::new("resourceType", T::String)
                    .case_exact()
                    .mutability(M::ReadOnly),
                AttrDef::new("created", T::DateTime).mutability(M::ReadOnly),
                AttrDef::new("lastModified", T::DateTime).mutability(M::ReadOnly),
                AttrDef::new("location", T::Reference)
                    .case_exact()
                    .mutability(M::ReadOnly)
                    .refs(&["uri"]),
                AttrDef::new("version", T::String)
                    .case_exact()
                    .mutability(M::ReadOnly),
            ]),
    ]
}

fn multi_string_value(name: &'static str, types: &'static [&'static str]) -> AttrDef {
    AttrDef::new(name, T::Complex).multi().subs(vec![
        AttrDef::new("value", T::String),
        AttrDef::new("display", T::String),
        AttrDef::new("type", T::String).canonical(types),
        AttrDef::new("primary", T::Boolean),
    ])
}

fn user_core() -> SchemaDef {
    let mut attributes = common_attributes();
    attributes.extend(vec![
        AttrDef::new("userName", T::String)
            .required()
            .unique(Uniqueness::Server)
            .describe("Unique identifier for the User, used to log in. Case-insensitive."),
        AttrDef::new("name", T::Complex)
            .describe("The components of the user's real name.")
            .subs(vec![
                AttrDef::new("formatted", T::String),
                AttrDef::new("familyName", T::String),
                AttrDef::new("givenName", T::String),
                AttrDef::new("middleName", T::String),
                AttrDef::new("honorificPrefix", T::String),
                AttrDef::new("honorificSuffix", T::String),
            ]),
        AttrDef::new("displayName", T::String).describe("The name of the User, for display."),
        AttrDef::new("nickName", T::String),
        AttrDef::new("profileUrl", T::Reference).refs(&["external"]),
        AttrDef::new("title", T::String),
        AttrDef::new("userType", T::String),
        AttrDef::new("preferredLanguage", T::String),
        AttrDef::new("locale", T::String),
        AttrDef::new("timezone", T::String),
        AttrDef::new("active", T::Boolean)
            .describe("Administrative status, owned by the identity provider and stored as sent."),
        AttrDef::new("password", T::String)
            .mutability(M::WriteOnly)
            .returned(R::Never)
            .describe("Never stored in clear and never returned."),
        multi_string_value("emails", &["work", "home", "other"]),
        multi_string_value(
            "phoneNumbers",
            &["work", "home", "mobile", "fax", "pager", "other"],
        ),
        multi_string_value(
            "ims",
            &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
        ),
        AttrDef::new("photos", T::Complex).multi().subs(vec![
            AttrDef::new("value", T::Reference).refs(&["external"]),
            AttrDef::new("display", T::String),
            AttrDef::new("type", T::String).canonical(&["photo", "thumbnail"]),
            AttrDef::new("primary", T::Boolean),
        ]),
        AttrDef::new("addresses", T::Complex).multi().subs(vec![
            AttrDef::new("formatted", T::String),
            AttrDef::new("streetAddress", T::String),
            AttrDef::new("locality", T::String),
            AttrDef::new("region", T::String),
            AttrDef::new("postalCode", T::String),
            AttrDef::new("country", T::String),
            AttrDef::new("type", T::String).canonical(&["work", "home", "other"]),
            AttrDef::new("primary", T::Boolean),
        ]),
        AttrDef::new("groups", T::Complex)
            .multi()
            .mutability(M::ReadOnly)
            .describe("Groups the user belongs to, maintained through the Group resource.")
            .subs(vec![
                AttrDef::new("value", T::String).mutability(M::ReadOnly),
                AttrDef::new("$ref", T::Reference)
                    .mutability(M::ReadOnly)
                    .refs(&["Group"]),
                AttrDef::new("display", T::String).mutability(M::ReadOnly),
                AttrDef::new("type", T::String)
                    .mutability(M::ReadOnly)
                    .canonical(&["direct", "indirect"]),
            ]),
        multi_string_value("entitlements", &[]),
        multi_string_value("roles", &[]),
        AttrDef::new("x509Certificates", T::Complex)
            .multi()
            .subs(vec![
                AttrDef::new("value", T::Binary),
                AttrDef::new("display", T::String),
                AttrDef::new("type", T::String),
                AttrDef::new("primary", T::Boolean),
            ]),
    ]);
    SchemaDef {
        id: CORE_USER,
        name: "User",
        description: "User Account",
        attributes,
    }
}

fn enterprise_user() -> SchemaDef {
    SchemaDef {
        id: ENTERPRISE_USER,
        name: "EnterpriseUser",
        description: "Enterprise User",
        attributes: vec![
            AttrDef::new("employeeNumber", T::String),
            AttrDef::new("costCenter", T::String),
            AttrDef::new("organization", T::String),
            AttrDef::new("division", T::String),
            AttrDef::new("department", T::String),
            AttrDef::new("manager", T::Complex).subs(vec![
                AttrDef::new("value", T::String),
                AttrDef::new("$ref", T::Reference).refs(&["User"]),
                AttrDef::new("displayName", T::String).mutability(M::ReadOnly),
            ]),
        ],
    }
}

fn seat_user() -> SchemaDef {
    SchemaDef {
        id: SEAT_USER,
        name: "SeatState",
        description: "Seat state of the user, kept by the server: read-only.",
        attributes: vec![
            AttrDef::new("status", T::String)
                .mutability(M::ReadOnly)
                .case_exact()
                .canonical(&["active", "pending", "inactive"])
                .describe("active: holds a seat; pending: waits for one; inactive: deactivated."),
            AttrDef::new("tier", T::String)
                .mutability(M::ReadOnly)
                .case_exact()
                .canonical(&["premium", "standard"])
                .describe("Tier of the seat held, when active."),
            AttrDef::new("pendingSince", T::DateTime)
                .mutability(M::ReadOnly)
                .describe("When the user joined the pending queue."),
            AttrDef::new("queuePosition", T::Integer)
                .mutability(M::ReadOnly)
                .describe("1-based position in the organization's pending queue."),
        ],
    }
}

fn group_core() -> SchemaDef {
    let mut attributes = common_attributes();
    attributes.extend(vec![
        AttrDef::new("displayName", T::String)
            .required()
            .describe("A human-readable name for the Group."),
        AttrDef::new("members", T::Complex)
            .multi()
            .describe("A list of members of the Group.")
            .subs(vec![
                AttrDef::new("value", T::String)
                    .mutability(M::Immutable)
                    .case_exact(),
                AttrDef::new("$ref", T::Reference)
                    .mutability(M::Immutable)
                    .refs(&["User", "Group"]),
                // No `display`: RFC 7643 §8.7.1 defines members as value, $ref and type only.
                AttrDef::new("type", T::String)
                    .mutability(M::Immutable)
                    .canonical(&["User", "Group"]),
            ]),
    ]);
    SchemaDef {
        id: CORE_GROUP,
        name: "Group",
        description: "Group",
        attributes,
    }
}

/// The User resource type: core, enterprise extension, seat extension.
pub fn user_resource() -> ResourceSchema {
    ResourceSchema {
        name: "User",
        endpoint: "/Users",
        description: "User Account",
        core: user_core(),
        extensions: vec![(enterprise_user(), false), (seat_user(), false)],
    }
}

/// The Group resource type.
pub fn group_resource() -> ResourceSchema {
    ResourceSchema {
        name: "Group",
        endpoint: "/Groups",
        description: "Group",
        core: group_core(),
        extensions: vec![],
    }
}

/// Both resource types, built once per process.
pub struct Registry {
    pub user: ResourceSchema,
    pub group: ResourceSchema,
}

impl Registry {
    pub fn get() -> &'static Registry {
        static REG: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();
        REG.get_or_init(|| Registry {
            user: user_resource(),
            group: group_resource(),
        })
    }

    /// Every distinct schema, for `/Schemas`.
    pub fn all_schemas(&self) -> Vec<&SchemaDef> {
        let mut out: Vec<&SchemaDef> = self.user.schemas().collect();
        out.extend(self.group.schemas());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_case_insensitively_with_and_without_urn() {
        let u = user_resource();
        assert_eq!(u.resolve("USERNAME").unwrap().attr.name, "userName");
        let r = u.resolve("name.GivenName").unwrap();
        assert_eq!(r.sub.unwrap().name, "givenName");
        let r = u
            .resolve("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department")
            .unwrap();
        assert_eq!(r.schema, ENTERPRISE_USER);
        assert!(!r.is_core);
        let r = u
            .resolve("urn:ietf:params:scim:schemas:core:2.0:User:emails.value")
            .unwrap();
        assert!(r.is_core);
        assert_eq!(r.sub.unwrap().name, "value");
        assert!(u.resolve("nope").is_none());
        assert!(u.resolve("urn:unknown:thing:attr").is_none());
        assert!(u.resolve("name.nope").is_none());
    }

    #[test]
    fn enterprise_manager_value_resolves() {
        let u = user_resource();
        let r = u
            .resolve("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value")
            .unwrap();
        assert_eq!(r.attr.name, "manager");
        assert_eq!(r.sub.unwrap().name, "value");
    }
}
