//! Indexes a generated tree of mixed languages (default 10,000 files) for related code,
//! then asks it for the related code of one function in each of 1,000 files, and prints
//! the times:
//!
//! ```sh
//! cargo build --release --example related_scale
//! target/release/examples/related_scale [FILES] [RUNS]
//! ```
//!
//! Each file holds a type and a few functions that call functions of other files and
//! set and read a field, in one of nine languages (eight with a grammar, Ruby read
//! lexically). With RUNS > 1 it prints the fastest and the median build.

use std::time::{Duration, Instant};

use quorum::input::walk::SourceFile;
use quorum::related::{Index, Region, RelatedCode};

/// Functions per generated file.
const FUNCTIONS: usize = 8;
/// Files asked for related code after the build.
const QUERIES: usize = 1_000;
/// The budget each query is cut to.
const BUDGET_TOKENS: u64 = 2_000;

const EXTENSIONS: [&str; 9] = ["go", "py", "js", "ts", "java", "php", "c", "rs", "rb"];

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().ok());
    let files = args.next().flatten().unwrap_or(10_000);
    let runs = args.next().flatten().unwrap_or(1).max(1);
    let tree: Vec<SourceFile> = (0..files).map(|i| generated(i, files)).collect();
    let bytes: usize = tree.iter().map(|f| f.text.len()).sum();
    let lines: usize = tree.iter().map(|f| f.text.lines().count()).sum();
    let mut times: Vec<Duration> = Vec::new();
    let mut index = Index::default();
    for _ in 0..runs {
        let started = Instant::now();
        index = Index::build(&tree);
        times.push(started.elapsed());
    }
    times.sort();
    let stats = index.stats();
    println!(
        "{} files, {lines} lines, {:.1} MB: {} read with a grammar, {} definitions, {} names",
        stats.files,
        bytes as f64 / 1e6,
        stats.parsed,
        stats.definitions,
        stats.references
    );
    println!(
        "index built in {:.2} s (fastest of {runs}), median {:.2} s, on {} threads",
        times[0].as_secs_f64(),
        times[runs / 2].as_secs_f64(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let started = Instant::now();
    let mut excerpts = 0;
    for file in tree.iter().step_by((files / QUERIES).max(1)) {
        let region = Region {
            path: &file.path,
            start_line: 4,
            end_line: 8,
        };
        excerpts += index.related(region, BUDGET_TOKENS).len();
    }
    let asked = files.div_ceil((files / QUERIES).max(1));
    println!(
        "{asked} related-code queries in {:.2} s ({excerpts} excerpts, {:.1} ms each)",
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64() * 1e3 / asked as f64
    );
}

/// File `i` of `n`: its functions call the functions of the next file and the one a
/// hundred files on.
fn generated(i: usize, n: usize) -> SourceFile {
    let ext = EXTENSIONS[i % EXTENSIONS.len()];
    let mut text = header(ext, i);
    for f in 0..FUNCTIONS {
        let callee = format!("fn_{}_{}", (i + 1) % n, f);
        let far = format!("fn_{}_{}", (i + 100) % n, (f + 1) % FUNCTIONS);
        text.push_str(&function(ext, &format!("fn_{i}_{f}"), &callee, &far));
    }
    SourceFile::new(format!("pkg{}/mod{i}.{ext}", i % 50), text)
}

fn header(ext: &str, i: usize) -> String {
    match ext {
        "go" => format!("package p\n\ntype Record{i} struct {{\n\tlimit int\n}}\n\n"),
        "py" => format!("import os\n\nclass Record{i}:\n    limit = 0\n\n"),
        "js" | "ts" => format!("'use strict';\n\nclass Record{i} {{\n  constructor() {{ this.limit = 0; }}\n}}\n\n"),
        "java" => format!("package p;\n\nclass Record{i} {{\n  int limit;\n}}\n\n"),
        "php" => format!("<?php\n\nclass Record{i} {{\n  public $limit = 0;\n}}\n\n"),
        "c" => format!("#include <stdio.h>\n\nstruct record{i} {{\n  int limit;\n}};\n\n"),
        "rs" => format!("use std::io;\n\nstruct Record{i} {{\n    limit: u32,\n}}\n\n"),
        _ => format!("require 'json'\n\nclass Record{i}\n  attr_accessor :limit\nend\n\n"),
    }
}

fn function(ext: &str, name: &str, callee: &str, far: &str) -> String {
    match ext {
        "go" => format!(
            "func {name}(r *Record, input string) int {{\n\tr.limit = len(input)\n\tif r.limit > 10 {{\n\t\treturn {callee}(r, input[:10])\n\t}}\n\treturn {far}(r, input) + r.limit\n}}\n\n"
        ),
        "py" => format!(
            "def {name}(r, value):\n    r.limit = len(value)\n    if r.limit > 10:\n        return {callee}(r, value[:10])\n    return {far}(r, value) + r.limit\n\n"
        ),
        "js" | "ts" => format!(
            "function {name}(r, value) {{\n  r.limit = value.length;\n  if (r.limit > 10) {{\n    return {callee}(r, value.slice(0, 10));\n  }}\n  return {far}(r, value) + r.limit;\n}}\n\n"
        ),
        "java" => format!(
            "class C_{name} {{\n  static int {name}(Record r, String v) {{\n    r.limit = v.length();\n    if (r.limit > 10) {{\n      return Calls.{callee}(r, v.substring(0, 10));\n    }}\n    return Calls.{far}(r, v) + r.limit;\n  }}\n}}\n\n"
        ),
        "php" => format!(
            "function {name}($r, $v) {{\n  $r->limit = strlen($v);\n  if ($r->limit > 10) {{\n    return {callee}($r, substr($v, 0, 10));\n  }}\n  return {far}($r, $v) + $r->limit;\n}}\n\n"
        ),
        "c" => format!(
            "int {name}(struct record *r, const char *v) {{\n  r->limit = strlen(v);\n  if (r->limit > 10) {{\n    return {callee}(r, v + 10);\n  }}\n  return {far}(r, v) + r->limit;\n}}\n\n"
        ),
        "rs" => format!(
            "fn {name}(r: &mut Record, v: &str) -> usize {{\n    r.limit = v.len() as u32;\n    if r.limit > 10 {{\n        return {callee}(r, &v[..10]);\n    }}\n    {far}(r, v) + r.limit as usize\n}}\n\n"
        ),
        _ => format!(
            "def {name}(r, value)\n  r.limit = value.size\n  if r.limit > 10\n    return {callee}(r, value[0, 10])\n  end\n  {far}(r, value) + r.limit\nend\n\n"
        ),
    }
}
