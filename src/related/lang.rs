//! What the index needs to know of each grammar: which nodes define a function or a
//! type (and where their name is), which are calls (and which child is the callee),
//! which assign, which access a member, and which leaves are names.
//!
//! Written after reading the grammars' own `queries/tags.scm` (a definition is a node
//! kind plus the field holding its name; a call is a node kind plus its callee), as one
//! table per language walked in a single pass, so the enclosing function of every name
//! comes with it.

use tree_sitter::Language;

/// What a definition defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefKind {
    /// A function or a method: has callers, encloses names.
    Function,
    /// A type, class, struct, interface.
    Type,
}

/// A grammar and the node kinds the index reads in its trees.
pub struct LangSpec {
    pub language: fn() -> Language,
    /// Node kinds that define something, with what.
    pub defs: &'static [(&'static str, DefKind)],
    /// Node kinds that call, with the field holding the callee.
    pub calls: &'static [(&'static str, &'static str)],
    /// Node kinds that assign, with the field holding the target.
    pub assigns: &'static [(&'static str, &'static str)],
    /// Node kinds that access a member (`a.b`, `a->b`, `$a->b`): assigning one sets a field.
    pub members: &'static [&'static str],
    /// Leaf kinds that are names.
    pub names: &'static [&'static str],
}

const C_LIKE_NAMES: &[&str] = &["identifier", "field_identifier", "type_identifier"];

const GO: LangSpec = LangSpec {
    language: || tree_sitter_go::LANGUAGE.into(),
    defs: &[
        ("function_declaration", DefKind::Function),
        ("method_declaration", DefKind::Function),
        ("type_spec", DefKind::Type),
    ],
    calls: &[("call_expression", "function")],
    assigns: &[("assignment_statement", "left")],
    members: &["selector_expression"],
    names: C_LIKE_NAMES,
};

const RUST: LangSpec = LangSpec {
    language: || tree_sitter_rust::LANGUAGE.into(),
    defs: &[
        ("function_item", DefKind::Function),
        ("struct_item", DefKind::Type),
        ("enum_item", DefKind::Type),
        ("trait_item", DefKind::Type),
    ],
    calls: &[("call_expression", "function"), ("macro_invocation", "macro")],
    assigns: &[("assignment_expression", "left"), ("compound_assignment_expr", "left")],
    members: &["field_expression"],
    names: C_LIKE_NAMES,
};

const PYTHON: LangSpec = LangSpec {
    language: || tree_sitter_python::LANGUAGE.into(),
    defs: &[
        ("function_definition", DefKind::Function),
        ("class_definition", DefKind::Type),
    ],
    calls: &[("call", "function")],
    assigns: &[("assignment", "left"), ("augmented_assignment", "left")],
    members: &["attribute"],
    names: &["identifier"],
};

const JS_DEFS: &[(&str, DefKind)] = &[
    ("function_declaration", DefKind::Function),
    ("generator_function_declaration", DefKind::Function),
    ("method_definition", DefKind::Function),
    ("class_declaration", DefKind::Type),
    ("interface_declaration", DefKind::Type),
    ("type_alias_declaration", DefKind::Type),
];
const JS_CALLS: &[(&str, &str)] = &[("call_expression", "function"), ("new_expression", "constructor")];
const JS_ASSIGNS: &[(&str, &str)] = &[
    ("assignment_expression", "left"),
    ("augmented_assignment_expression", "left"),
];
const JS_NAMES: &[&str] = &[
    "identifier",
    "property_identifier",
    "shorthand_property_identifier",
    "type_identifier",
];

const JAVASCRIPT: LangSpec = LangSpec {
    language: || tree_sitter_javascript::LANGUAGE.into(),
    defs: JS_DEFS,
    calls: JS_CALLS,
    assigns: JS_ASSIGNS,
    members: &["member_expression"],
    names: JS_NAMES,
};

const TYPESCRIPT: LangSpec = LangSpec {
    language: || tree_sitter_typescript::LANGUAGE_TYPESCRIPT.into(),
    ..JAVASCRIPT
};

const TSX: LangSpec = LangSpec {
    language: || tree_sitter_typescript::LANGUAGE_TSX.into(),
    ..JAVASCRIPT
};

const JAVA: LangSpec = LangSpec {
    language: || tree_sitter_java::LANGUAGE.into(),
    defs: &[
        ("method_declaration", DefKind::Function),
        ("constructor_declaration", DefKind::Function),
        ("class_declaration", DefKind::Type),
        ("interface_declaration", DefKind::Type),
        ("enum_declaration", DefKind::Type),
        ("record_declaration", DefKind::Type),
    ],
    calls: &[("method_invocation", "name"), ("object_creation_expression", "type")],
    assigns: &[("assignment_expression", "left")],
    members: &["field_access"],
    names: &["identifier", "type_identifier"],
};

const PHP: LangSpec = LangSpec {
    language: || tree_sitter_php::LANGUAGE_PHP.into(),
    defs: &[
        ("function_definition", DefKind::Function),
        ("method_declaration", DefKind::Function),
        ("class_declaration", DefKind::Type),
        ("interface_declaration", DefKind::Type),
        ("trait_declaration", DefKind::Type),
    ],
    calls: &[
        ("function_call_expression", "function"),
        ("member_call_expression", "name"),
        ("scoped_call_expression", "name"),
        ("object_creation_expression", "class"),
    ],
    assigns: &[("assignment_expression", "left")],
    members: &["member_access_expression"],
    names: &["name"],
};

const C: LangSpec = LangSpec {
    language: || tree_sitter_c::LANGUAGE.into(),
    defs: &[
        ("function_definition", DefKind::Function),
        ("struct_specifier", DefKind::Type),
        ("type_definition", DefKind::Type),
    ],
    calls: &[("call_expression", "function")],
    assigns: &[("assignment_expression", "left")],
    members: &["field_expression"],
    names: C_LIKE_NAMES,
};

/// The grammar for a file, by its extension; `None` for the lexical fallback.
pub fn for_path(path: &str) -> Option<&'static LangSpec> {
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "go" => &GO,
        "rs" => &RUST,
        "py" | "pyw" => &PYTHON,
        "js" | "mjs" | "cjs" | "jsx" => &JAVASCRIPT,
        "ts" | "mts" | "cts" => &TYPESCRIPT,
        "tsx" => &TSX,
        "java" => &JAVA,
        "php" => &PHP,
        "c" | "h" => &C,
        _ => return None,
    })
}

#[cfg(test)]
pub const ALL: &[&LangSpec] = &[&GO, &RUST, &PYTHON, &JAVASCRIPT, &TYPESCRIPT, &TSX, &JAVA, &PHP, &C];
