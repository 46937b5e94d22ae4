//! The index answering "what code elsewhere bears on this region": the definitions of
//! the names it uses; the places that name its enclosing function and the definitions
//! of the names used there (a route registered behind a middleware shows the
//! middleware); where the fields it reads are set. Nearest first, without repeats, cut
//! to the budget.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;

use super::facts::Definition;
use super::index::{Index, IndexedFile, Loc, NameId};
use super::lang::DefKind;
use super::{CodeExcerpt, Region, RelatedCode};
use crate::input::chunk::estimate_tokens;

/// Lines of a definition shown at most: its head and start say what it does.
const MAX_DEF_LINES: u32 = 40;
/// Lines shown before a definition (its comment or decorators) and around a use.
const CONTEXT_LINES: u32 = 2;
/// Definitions shown for one name at most: a name defined in many places (`get`,
/// `init`) says little about which one is meant; the nearest are kept.
const MAX_DEFS_PER_NAME: usize = 3;
/// Places shown that use the region's function, at most.
const MAX_CALLERS: usize = 8;
/// Places shown that set one field, at most.
const MAX_SETS_PER_FIELD: usize = 4;
/// Names of the region looked up, at most (a whole file names many): the rarest are
/// kept, being the most specific.
const MAX_NAMES: usize = 64;
/// Places of one name looked at, at most: those of the region's file and of the files
/// next to it in path order. A name used in every file of a large tree would otherwise
/// make each lookup cost the size of the tree.
pub(super) const MAX_CANDIDATES_PER_NAME: usize = 64;

/// A piece of code found, before ranking.
struct Candidate {
    file: u32,
    start_line: u32,
    end_line: u32,
    why: String,
    /// Found through a place that uses the region's function, not from the region.
    second_hand: bool,
}

impl RelatedCode for Index {
    fn related(&self, region: Region<'_>, budget_tokens: u64) -> Vec<CodeExcerpt> {
        let Some((id, file)) = self.file(region.path) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        self.definitions_used(id, file, region, &mut found);
        self.callers(id, file, region, &mut found);
        self.field_sets(id, file, region, &mut found);
        self.rank_and_cut(id, region, found, budget_tokens)
    }
}

impl Index {
    /// The definitions of the names the lines `start..=end` of `file` use (other than
    /// those defined in those lines), nearest first.
    fn definitions_of_names(
        &self,
        id: u32,
        file: &IndexedFile,
        start: u32,
        end: u32,
        second_hand: bool,
    ) -> Vec<Candidate> {
        let names = file
            .facts
            .refs
            .iter()
            .filter(|r| r.line >= start && r.line <= end)
            .map(|r| r.name);
        let mut out = Vec::new();
        for (name, locs) in rarest(names, &self.defs) {
            let name = self.name(name);
            let outside = |l: &Loc| {
                let d = self.def(l);
                !(l.file == id && d.start_line <= end && d.end_line >= start)
            };
            for l in self.nearest(locs, id, MAX_DEFS_PER_NAME, outside) {
                let d = self.def(l);
                let kind = if d.kind == DefKind::Function {
                    "definition"
                } else {
                    "type"
                };
                out.push(Candidate {
                    file: l.file,
                    start_line: d.start_line.saturating_sub(CONTEXT_LINES).max(1),
                    end_line: d.end_line.min(d.start_line.saturating_add(MAX_DEF_LINES - 1)),
                    why: format!("{kind} of `{name}`"),
                    second_hand,
                });
            }
        }
        out
    }

    fn definitions_used(&self, id: u32, file: &IndexedFile, region: Region<'_>, found: &mut Vec<Candidate>) {
        found.extend(self.definitions_of_names(id, file, region.start_line, region.end_line, false));
    }

    /// The functions the region is in or defines.
    fn subject_functions<'a>(&self, file: &'a IndexedFile, region: Region<'_>) -> Vec<&'a Definition<NameId>> {
        let enclosing = file
            .facts
            .enclosing_function(region.start_line)
            .map(|i| &file.facts.defs[i]);
        let inside = file.facts.defs.iter().filter(|d| {
            d.kind == DefKind::Function && d.start_line >= region.start_line && d.start_line <= region.end_line
        });
        enclosing.into_iter().chain(inside).take(MAX_NAMES).collect()
    }

    /// The places that name the region's functions (calls, routes, callbacks), each
    /// with the definitions of the names used on its lines.
    fn callers(&self, id: u32, file: &IndexedFile, region: Region<'_>, found: &mut Vec<Candidate>) {
        let mut shown = 0;
        for function in self.subject_functions(file, region) {
            if shown >= MAX_CALLERS {
                return;
            }
            let Some(locs) = self.refs.get(&function.name) else {
                continue;
            };
            let name = self.name(function.name);
            let outside = |l: &Loc| {
                let line = self.files[l.file as usize].facts.refs[l.item as usize].line;
                !(l.file == id && line >= function.start_line && line <= function.end_line)
            };
            for l in self.nearest(locs, id, MAX_CALLERS, outside) {
                if shown >= MAX_CALLERS {
                    return;
                }
                shown += 1;
                let user = &self.files[l.file as usize];
                let r = &user.facts.refs[l.item as usize];
                let verb = if r.call { "call of" } else { "use of" };
                found.push(Candidate {
                    file: l.file,
                    start_line: r.line.saturating_sub(CONTEXT_LINES).max(1),
                    end_line: r.line.saturating_add(CONTEXT_LINES),
                    why: format!("{verb} `{name}`"),
                    second_hand: false,
                });
                let mut beside = self.definitions_of_names(l.file, user, r.line, r.line, true);
                beside.retain(|c| !c.why.ends_with(&format!("`{name}`")));
                for c in &mut beside {
                    c.why = format!("{}, used where `{name}` is used", c.why);
                }
                found.extend(beside);
            }
        }
    }

    /// Where the fields the region reads are set, outside the region.
    fn field_sets(&self, id: u32, file: &IndexedFile, region: Region<'_>, found: &mut Vec<Candidate>) {
        let fields = file
            .facts
            .reads
            .iter()
            .filter(|r| r.line >= region.start_line && r.line <= region.end_line)
            .map(|r| r.name);
        for (field, locs) in rarest(fields, &self.sets) {
            let field = self.name(field);
            let outside = |l: &Loc| {
                let line = self.files[l.file as usize].facts.sets[l.item as usize].line;
                !(l.file == id && line >= region.start_line && line <= region.end_line)
            };
            for l in self.nearest(locs, id, MAX_SETS_PER_FIELD, outside) {
                let line = self.files[l.file as usize].facts.sets[l.item as usize].line;
                found.push(Candidate {
                    file: l.file,
                    start_line: line.saturating_sub(CONTEXT_LINES).max(1),
                    end_line: line.saturating_add(CONTEXT_LINES),
                    why: format!("where field `{field}` is set"),
                    second_hand: false,
                });
            }
        }
    }

    /// The `keep` places of `locs` (one name's, in file order) nearest file `id` that
    /// `wanted` accepts, nearest first: its own file's, then by the folders apart. Only
    /// [`MAX_CANDIDATES_PER_NAME`] places are looked at, around `id`'s in file order.
    fn nearest<'l>(&self, locs: &'l [Loc], id: u32, keep: usize, wanted: impl Fn(&Loc) -> bool) -> Vec<&'l Loc> {
        let window = candidate_window(locs, id);
        self.examined.fetch_add(window.len(), Ordering::Relaxed);
        self.lookups.fetch_add(1, Ordering::Relaxed);
        let mut ranked: Vec<RankedLoc<'l>> = window
            .iter()
            .filter(|l| wanted(l))
            .map(|loc| RankedLoc {
                key: (loc.file != id, self.distance(id, loc.file), loc.file, loc.item),
                loc,
            })
            .collect();
        if ranked.len() > keep && keep > 0 {
            ranked.select_nth_unstable_by_key(keep - 1, |r| r.key);
        }
        ranked.truncate(keep);
        ranked.sort_unstable_by_key(|r| r.key);
        ranked.into_iter().map(|r| r.loc).collect()
    }

    fn def(&self, l: &Loc) -> &Definition<NameId> {
        &self.files[l.file as usize].facts.defs[l.item as usize]
    }

    /// How far apart two files are in the tree: the folders not shared.
    fn distance(&self, a: u32, b: u32) -> usize {
        let (a, b) = (&self.files[a as usize].path, &self.files[b as usize].path);
        let shared = a.split('/').zip(b.split('/')).take_while(|(x, y)| x == y).count();
        a.split('/').count() + b.split('/').count() - 2 * shared
    }

    /// Orders the pieces (same file first, then direct before second-hand, then as
    /// found), drops those inside the region or inside a piece already kept, and keeps
    /// what fits the budget.
    fn rank_and_cut(&self, id: u32, region: Region<'_>, mut found: Vec<Candidate>, budget: u64) -> Vec<CodeExcerpt> {
        // A stable sort: within a rank, the order found (itself nearest first).
        found.sort_by_key(|c| (c.file != id, c.second_hand));
        let mut kept: Vec<CodeExcerpt> = Vec::new();
        let mut spent = 0u64;
        for c in found {
            let file = &self.files[c.file as usize];
            let Some((start_line, end_line)) = outside_region(&c, id, region, file.line_count()) else {
                continue;
            };
            let covered = kept
                .iter()
                .any(|k| k.path == file.path && k.start_line <= start_line && k.end_line >= end_line);
            if covered {
                continue;
            }
            let text: String = file.lines(start_line, end_line).map(|l| format!("{l}\n")).collect();
            let excerpt = CodeExcerpt {
                path: file.path.clone(),
                start_line,
                end_line,
                text,
                why: c.why,
            };
            let cost = excerpt_tokens(&excerpt);
            if spent + cost > budget {
                continue;
            }
            spent += cost;
            kept.push(excerpt);
        }
        kept
    }
}

/// A place with what orders it: in the file asked about first, then the folders apart,
/// then file order (for a stable result).
struct RankedLoc<'l> {
    key: (bool, usize, u32, u32),
    loc: &'l Loc,
}

/// At most [`MAX_CANDIDATES_PER_NAME`] of `locs` (sorted by file): from half that before
/// file `id`'s first place on, so `id`'s own and its neighbours' in path order.
fn candidate_window(locs: &[Loc], id: u32) -> &[Loc] {
    let at = locs.partition_point(|l| l.file < id);
    let end = (at.saturating_sub(MAX_CANDIDATES_PER_NAME / 2) + MAX_CANDIDATES_PER_NAME).min(locs.len());
    &locs[end.saturating_sub(MAX_CANDIDATES_PER_NAME)..end]
}

/// The distinct meaningful `names` that `places` has, each with its places, in the
/// order first named; past [`MAX_NAMES`], only the rarest (fewest places) are kept.
/// Only names worth looking up have places (see `Index::add`).
fn rarest<'i>(names: impl Iterator<Item = NameId>, places: &'i HashMap<NameId, Vec<Loc>>) -> Vec<(NameId, &'i [Loc])> {
    let mut seen = HashSet::new();
    let mut found: Vec<(NameId, &'i [Loc])> = names
        .filter(|n| seen.insert(*n))
        .filter_map(|n| places.get(&n).map(|locs| (n, locs.as_slice())))
        .collect();
    if found.len() > MAX_NAMES {
        let mut by_rarity: Vec<usize> = (0..found.len()).collect();
        by_rarity.sort_by_key(|&i| (found[i].1.len(), i));
        let kept: HashSet<usize> = by_rarity.into_iter().take(MAX_NAMES).collect();
        found = found
            .into_iter()
            .enumerate()
            .filter(|(i, _)| kept.contains(i))
            .map(|(_, f)| f)
            .collect();
    }
    found
}

/// The lines of `c` that are in its file and not in the region (which the prompt or
/// the judge already shows): `None` when none are.
fn outside_region(c: &Candidate, id: u32, region: Region<'_>, line_count: u32) -> Option<(u32, u32)> {
    let (mut start, mut end) = (c.start_line.max(1), c.end_line.min(line_count));
    let overlaps = c.file == id && start <= region.end_line && end >= region.start_line;
    if overlaps {
        if start < region.start_line {
            end = region.start_line - 1;
        } else if end > region.end_line {
            start = region.end_line + 1;
        } else {
            return None;
        }
    }
    (start <= end).then_some((start, end))
}

/// Tokens an excerpt takes in a prompt, as [`super::render`] shows it.
pub fn excerpt_tokens(e: &CodeExcerpt) -> u64 {
    estimate_tokens(&super::render(e, &e.path))
}
