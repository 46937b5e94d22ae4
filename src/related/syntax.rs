//! Reads one file with its grammar: one bounded parse, one walk of the tree.
//!
//! The tree is hostile: a file may be built to make a parser slow or a tree deep. The
//! parse is cancelled past [`PARSE_TIME_LIMIT`], the walk is iterative (no recursion to
//! overflow the stack) and stops after [`MAX_NODES`]; a file over [`MAX_PARSE_BYTES`] is
//! not parsed. The walk keeps its own stack of ancestors: in tree-sitter a node's
//! `parent()` or `next_named_sibling()` walks down from the root, so calling them per
//! node costs the depth each time (quadratic on a deeply nested file). A tree deeper
//! than [`MAX_DEPTH`], or a walk past [`WALK_TIME_LIMIT`], gives the file up. Whatever is
//! not parsed is read lexically instead.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use tree_sitter::{Node, ParseOptions, ParseState, Parser, TreeCursor};

use super::facts::{Definition, FieldSet, FileFacts, Reference};
use super::lang::{DefKind, LangSpec};

/// Longest a file may take to parse: ordinary files take well under a millisecond per
/// thousand lines, so this is only reached by a file built to be slow.
const PARSE_TIME_LIMIT: Duration = Duration::from_millis(200);
/// Larger files are read lexically: generated or minified code, slow to parse.
const MAX_PARSE_BYTES: usize = 1 << 20;
/// The most nodes of one tree walked.
const MAX_NODES: usize = 1_000_000;
/// Deeper trees are not code a person wrote (a long `a + b + …` chain nests a level
/// per term, so this is well above the deepest real code).
const MAX_DEPTH: usize = 2_000;
/// Longest the walk of one tree may take; checked every [`CLOCK_EVERY`] nodes.
const WALK_TIME_LIMIT: Duration = Duration::from_millis(200);
const CLOCK_EVERY: usize = 1024;

/// How the walk of a tree ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WalkEnd {
    /// Every node visited (or [`MAX_NODES`] of them).
    Done,
    /// The tree is deeper than [`MAX_DEPTH`] or took longer than [`WALK_TIME_LIMIT`].
    GivenUp,
}

/// One ancestor of the node visited, with how many of its named children the walk has
/// reached (to know, without asking tree-sitter, whether a node is the last of them).
#[derive(Clone, Copy)]
struct Frame<'t> {
    node: Node<'t>,
    named_seen: usize,
}

/// The file's facts as its grammar reads them, `None` when it could not be parsed in
/// time (or at all) or is too large.
pub fn read(spec: &LangSpec, text: &str) -> Option<FileFacts> {
    let walked = walk_file(spec, text)?;
    (walked.end == WalkEnd::Done).then_some(walked.facts)
}

/// A walk's result: the facts and how many nodes it visited.
struct Walked {
    facts: FileFacts,
    /// Nodes visited: what the tests bound.
    #[cfg_attr(not(test), expect(dead_code))]
    visits: usize,
    end: WalkEnd,
}

fn walk_file(spec: &LangSpec, text: &str) -> Option<Walked> {
    if text.len() > MAX_PARSE_BYTES {
        return None;
    }
    let mut parser = Parser::new();
    parser.set_language(&(spec.language)()).ok()?;
    let deadline = Instant::now() + PARSE_TIME_LIMIT;
    // Returning true cancels the parse.
    let mut past_deadline = |_: &ParseState| Instant::now() > deadline;
    let options = ParseOptions::new().progress_callback(&mut past_deadline);
    let bytes = text.as_bytes();
    let mut input = |offset: usize, _| bytes.get(offset..).unwrap_or_default();
    let tree = parser.parse_with_options(&mut input, None, Some(options))?;
    let mut walk = Walk {
        spec,
        text,
        facts: FileFacts {
            parsed: true,
            ..FileFacts::default()
        },
        callees: HashSet::new(),
        assigned: HashSet::new(),
        visits: 0,
    };
    let end = walk.run(tree.walk());
    Some(Walked {
        visits: walk.visits,
        facts: walk.facts,
        end,
    })
}

struct Walk<'a> {
    spec: &'a LangSpec,
    text: &'a str,
    facts: FileFacts,
    /// Byte ranges of the names that are called (the last name of a callee).
    callees: HashSet<(usize, usize)>,
    /// Byte ranges of the member names that are assigned.
    assigned: HashSet<(usize, usize)>,
    /// Nodes visited.
    visits: usize,
}

impl Walk<'_> {
    /// Visits every node in document order, parents before children, keeping the
    /// ancestors of the node visited on a stack.
    fn run(&mut self, mut cursor: TreeCursor<'_>) -> WalkEnd {
        let started = Instant::now();
        let mut ancestors: Vec<Frame<'_>> = Vec::new();
        for _ in 0..MAX_NODES {
            self.visits += 1;
            if ancestors.len() > MAX_DEPTH
                || (self.visits.is_multiple_of(CLOCK_EVERY) && started.elapsed() > WALK_TIME_LIMIT)
            {
                return WalkEnd::GivenUp;
            }
            let node = cursor.node();
            let last_named = match ancestors.last_mut() {
                Some(parent) if node.is_named() => {
                    parent.named_seen += 1;
                    parent.named_seen == parent.node.named_child_count()
                }
                _ => false,
            };
            self.visit(node, ancestors.last().map(|f| f.node), last_named);
            if cursor.goto_first_child() {
                ancestors.push(Frame { node, named_seen: 0 });
                continue;
            }
            if cursor.goto_next_sibling() {
                continue;
            }
            loop {
                if !cursor.goto_parent() {
                    return WalkEnd::Done;
                }
                ancestors.pop();
                if cursor.goto_next_sibling() {
                    break;
                }
            }
        }
        WalkEnd::Done
    }

    /// `parent` is the node's parent; `last_named` whether it is its last named child.
    fn visit(&mut self, node: Node<'_>, parent: Option<Node<'_>>, last_named: bool) {
        let kind = node.kind();
        if let Some(def_kind) = self.definition_kind(node) {
            if let Some(name) = definition_name(node).and_then(|n| self.text_of(n)) {
                self.facts.defs.push(Definition {
                    name: name.to_string(),
                    kind: def_kind,
                    start_line: line_of(node.start_position().row),
                    end_line: line_of(node.end_position().row),
                });
            }
        }
        if let Some((_, field)) = self.spec.calls.iter().find(|(k, _)| *k == kind) {
            if let Some(name) = node.child_by_field_name(field).and_then(last_name) {
                self.callees.insert((name.start_byte(), name.end_byte()));
            }
        }
        if let Some((_, field)) = self.spec.assigns.iter().find(|(k, _)| *k == kind) {
            if let Some(target) = node.child_by_field_name(field) {
                self.mark_assigned(target);
            }
        }
        if node.child_count() == 0 && self.spec.names.contains(&kind) {
            let in_member = parent.is_some_and(|p| self.spec.members.contains(&p.kind()));
            self.name_leaf(node, in_member && last_named);
        }
    }

    /// What `node` defines, if it is a definition (a variable holding a function counts
    /// as one: `const handler = (req, res) => …`).
    fn definition_kind(&self, node: Node<'_>) -> Option<DefKind> {
        if let Some((_, k)) = self.spec.defs.iter().find(|(k, _)| *k == node.kind()) {
            return Some(*k);
        }
        let value = node.child_by_field_name("value")?;
        let holds_function = matches!(
            value.kind(),
            "arrow_function" | "function_expression" | "function" | "func_literal" | "lambda"
        );
        (node.kind() == "variable_declarator" && holds_function).then_some(DefKind::Function)
    }

    /// Records the member names `target` assigns (`a.b = …`, `a.b, c.d = …`).
    fn mark_assigned(&mut self, target: Node<'_>) {
        let mut cursor = target.walk();
        let members: Vec<Node<'_>> = if self.spec.members.contains(&target.kind()) {
            vec![target]
        } else {
            target
                .named_children(&mut cursor)
                .filter(|n| self.spec.members.contains(&n.kind()))
                .collect()
        };
        for member in members {
            if let Some(name) = last_name(member) {
                self.assigned.insert((name.start_byte(), name.end_byte()));
            }
        }
    }

    /// `member_name`: the node is the name a member access ends with (`x.name`).
    fn name_leaf(&mut self, node: Node<'_>, member_name: bool) {
        let Some(name) = self.text_of(node) else { return };
        let name = name.trim_start_matches('$').to_string();
        let range = (node.start_byte(), node.end_byte());
        let line = line_of(node.start_position().row);
        let call = self.callees.contains(&range);
        if self.assigned.contains(&range) {
            self.facts.sets.push(FieldSet { name, line });
            return;
        }
        if member_name && !call {
            self.facts.reads.push(Reference {
                name: name.clone(),
                line,
                call,
            });
        }
        self.facts.refs.push(Reference { name, line, call });
    }

    fn text_of(&self, node: Node<'_>) -> Option<&str> {
        self.text.get(node.start_byte()..node.end_byte())
    }
}

/// The node naming a definition: its `name` field, or for C the identifier at the end
/// of its chain of declarators (`int *f(void)`: pointer, then function, then `f`).
fn definition_name(node: Node<'_>) -> Option<Node<'_>> {
    if let Some(name) = node.child_by_field_name("name") {
        return Some(name);
    }
    let mut declarator = node.child_by_field_name("declarator")?;
    for _ in 0..MAX_DECLARATOR_DEPTH {
        match declarator.child_by_field_name("declarator") {
            Some(inner) => declarator = inner,
            None => return Some(declarator),
        }
    }
    None
}

/// Nested declarators deeper than this are not code a person wrote.
const MAX_DECLARATOR_DEPTH: usize = 16;

/// The last leaf of a callee or member (`a.b.c` → `c`, `pkg::f` → `f`).
fn last_name(node: Node<'_>) -> Option<Node<'_>> {
    let mut node = node;
    for _ in 0..MAX_DECLARATOR_DEPTH {
        if node.named_child_count() == 0 {
            return Some(node);
        }
        let last = node.named_child(node.named_child_count() - 1)?;
        // `f::<T>()`, `f[T]()`: the name is before the type arguments.
        node = if last.kind().contains("type_arguments") && node.named_child_count() > 1 {
            node.named_child(node.named_child_count() - 2)?
        } else {
            last
        };
    }
    None
}

fn line_of(row: usize) -> u32 {
    u32::try_from(row).unwrap_or(u32::MAX - 1) + 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::related::lang;

    /// `x=aa(aa(…1…))`: a call nested `levels` deep, two tree levels a call.
    pub(crate) fn nested_calls(levels: usize) -> String {
        format!("x={}1{};\n", "aa(".repeat(levels), ")".repeat(levels))
    }

    #[test]
    fn a_deeply_nested_file_is_given_up_after_a_bounded_walk() {
        let spec = lang::for_path("a.js").unwrap();
        let walked = walk_file(spec, &nested_calls(5_000)).expect("parsed in time");
        assert_eq!(walked.end, WalkEnd::GivenUp);
        // The walk goes down (visiting each level's `aa` and `(` on the way) and stops
        // one level past the cap: about twice the cap, not the tree's 25,000 nodes.
        assert!(walked.visits <= 2 * MAX_DEPTH + 4, "{} visits", walked.visits);
        assert!(read(spec, &nested_calls(5_000)).is_none());
    }

    #[test]
    fn a_nested_file_under_the_depth_cap_is_walked_whole() {
        let spec = lang::for_path("a.js").unwrap();
        let walked = walk_file(spec, &nested_calls(200)).expect("parsed");
        assert_eq!(walked.end, WalkEnd::Done);
        let calls = walked.facts.refs.iter().filter(|r| r.name == "aa" && r.call).count();
        assert_eq!(calls, 200);
    }
}
