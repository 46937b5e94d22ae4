//! Each grammar on a small snippet: definitions with their lines, calls, the enclosing
//! function of a call, a field set; and the lexical fallback on a language without one.

use super::facts::FileFacts;
use super::lang::{DefKind, ALL};
use super::{lexical, read_file};

/// The definition named `name`: its kind and lines.
fn def(facts: &FileFacts, name: &str) -> (DefKind, u32, u32) {
    let d = facts
        .defs
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("no definition of {name}: {:?}", facts.defs));
    (d.kind, d.start_line, d.end_line)
}

/// The function enclosing the call of `name`, and whether it was seen as a call.
fn caller_of(facts: &FileFacts, name: &str) -> Option<String> {
    let call = facts
        .refs
        .iter()
        .find(|r| r.name == name && r.call)
        .unwrap_or_else(|| panic!("no call of {name}: {:?}", facts.refs));
    facts.enclosing_function(call.line).map(|i| facts.defs[i].name.clone())
}

fn sets(facts: &FileFacts) -> Vec<(&str, u32)> {
    facts.sets.iter().map(|s| (s.name.as_str(), s.line)).collect()
}

#[test]
fn go() {
    let f = read_file(
        "h.go",
        "package h\n\ntype Server struct{ role string }\n\nfunc (s *Server) Export(w http.ResponseWriter) {\n\tdata := load(s.role)\n\ts.role = \"x\"\n}\n\nfunc load(r string) string {\n\treturn r\n}\n",
    );
    assert!(f.parsed);
    assert_eq!(def(&f, "Server"), (DefKind::Type, 3, 3));
    assert_eq!(def(&f, "Export"), (DefKind::Function, 5, 8));
    assert_eq!(def(&f, "load"), (DefKind::Function, 10, 12));
    assert_eq!(caller_of(&f, "load").as_deref(), Some("Export"));
    assert_eq!(sets(&f), vec![("role", 7)]);
    assert!(f.reads.iter().any(|r| r.name == "role" && r.line == 6), "{:?}", f.reads);
}

#[test]
fn rust() {
    let f = read_file(
        "a.rs",
        "struct User { admin: bool }\n\nfn check(u: &mut User) -> bool {\n    u.admin = false;\n    helper::valid(u)\n}\n\nmod helper {\n    pub fn valid(u: &super::User) -> bool { u.admin }\n}\n",
    );
    assert_eq!(def(&f, "User"), (DefKind::Type, 1, 1));
    assert_eq!(def(&f, "check"), (DefKind::Function, 3, 6));
    assert_eq!(def(&f, "valid"), (DefKind::Function, 9, 9));
    assert_eq!(caller_of(&f, "valid").as_deref(), Some("check"));
    assert_eq!(sets(&f), vec![("admin", 4)]);
}

#[test]
fn python() {
    let f = read_file(
        "app.py",
        "class Repo:\n    def find(self, name):\n        self.last = name\n        return db.query(clean(name))\n\ndef clean(v):\n    return v.strip()\n",
    );
    assert_eq!(def(&f, "Repo"), (DefKind::Type, 1, 4));
    assert_eq!(def(&f, "find"), (DefKind::Function, 2, 4));
    assert_eq!(caller_of(&f, "clean").as_deref(), Some("find"));
    assert_eq!(caller_of(&f, "query").as_deref(), Some("find"));
    assert_eq!(sets(&f), vec![("last", 3)]);
}

#[test]
fn javascript_and_typescript() {
    let js = "function route(app) {\n  app.get('/x', requireAuth, handler);\n}\nconst handler = (req, res) => {\n  res.send(render(req.query.id));\n};\nclass A { run() { this.done = true; } }\n";
    for path in ["r.js", "r.ts", "r.tsx"] {
        let f = read_file(path, js);
        assert!(f.parsed, "{path}");
        assert_eq!(def(&f, "route"), (DefKind::Function, 1, 3), "{path}");
        assert_eq!(def(&f, "handler"), (DefKind::Function, 4, 6), "{path}");
        assert_eq!(def(&f, "A"), (DefKind::Type, 7, 7), "{path}");
        assert_eq!(def(&f, "run"), (DefKind::Function, 7, 7), "{path}");
        assert_eq!(caller_of(&f, "render").as_deref(), Some("handler"), "{path}");
        assert_eq!(caller_of(&f, "get").as_deref(), Some("route"), "{path}");
        assert!(f.refs.iter().any(|r| r.name == "requireAuth" && r.line == 2 && !r.call));
        assert_eq!(sets(&f), vec![("done", 7)], "{path}");
    }
    let ts = read_file(
        "t.ts",
        "interface Opts { safe: boolean }\nexport function mk(o: Opts) { return o; }\n",
    );
    assert_eq!(def(&ts, "Opts"), (DefKind::Type, 1, 1));
    assert_eq!(def(&ts, "mk"), (DefKind::Function, 2, 2));
}

#[test]
fn java() {
    let f = read_file(
        "U.java",
        "class U {\n  String role;\n  U(String r) { this.role = r; }\n  void save() {\n    Db.exec(sql(role));\n  }\n  String sql(String r) { return r; }\n}\n",
    );
    assert_eq!(def(&f, "U").0, DefKind::Type);
    assert_eq!(def(&f, "save"), (DefKind::Function, 4, 6));
    assert_eq!(caller_of(&f, "exec").as_deref(), Some("save"));
    assert_eq!(caller_of(&f, "sql").as_deref(), Some("save"));
    assert_eq!(sets(&f), vec![("role", 3)]);
}

#[test]
fn php() {
    let f = read_file(
        "u.php",
        "<?php\nclass Ctl {\n  function show($id) {\n    $this->id = $id;\n    return render(clean($id));\n  }\n}\nfunction clean($v) { return intval($v); }\n",
    );
    assert_eq!(def(&f, "Ctl").0, DefKind::Type);
    assert_eq!(def(&f, "show"), (DefKind::Function, 3, 6));
    assert_eq!(def(&f, "clean"), (DefKind::Function, 8, 8));
    assert_eq!(caller_of(&f, "clean").as_deref(), Some("show"));
    assert_eq!(caller_of(&f, "intval").as_deref(), Some("clean"));
    assert_eq!(sets(&f), vec![("id", 4)]);
}

#[test]
fn c() {
    let f = read_file(
        "x.c",
        "struct req { int len; };\n\nstatic char *copy(struct req *r) {\n  r->len = 0;\n  return dup(r);\n}\n",
    );
    assert_eq!(def(&f, "req").0, DefKind::Type);
    assert_eq!(def(&f, "copy"), (DefKind::Function, 3, 6));
    assert_eq!(caller_of(&f, "dup").as_deref(), Some("copy"));
    assert_eq!(sets(&f), vec![("len", 4)]);
}

#[test]
fn every_grammar_loads() {
    for (i, spec) in ALL.iter().enumerate() {
        let mut parser = tree_sitter::Parser::new();
        parser
            .set_language(&(spec.language)())
            .unwrap_or_else(|e| panic!("grammar {i}: {e}"));
    }
}

#[test]
fn the_lexical_fallback_reads_ruby_and_an_unparsable_file() {
    let f = read_file(
        "app.rb",
        "class Ctl\n  def show\n    @user.role = 1\n    render(clean(params))\n  end\nend\n\ndef clean(p)\n  p\nend\n",
    );
    assert!(!f.parsed);
    assert_eq!(def(&f, "Ctl"), (DefKind::Type, 1, 6));
    assert_eq!(def(&f, "show"), (DefKind::Function, 2, 5));
    assert_eq!(def(&f, "clean"), (DefKind::Function, 8, 10));
    assert_eq!(caller_of(&f, "clean").as_deref(), Some("show"));
    assert_eq!(sets(&f), vec![("role", 3)]);
    let braces = lexical::read("fn a() {\n  b();\n}\nfn b() {}\n");
    assert_eq!(def(&braces, "a"), (DefKind::Function, 1, 3));
}

#[test]
fn hostile_input_is_read_without_panicking() {
    let deep = format!("x = {}1{}\n", "(".repeat(100_000), ")".repeat(100_000));
    let long_line = "a".repeat(3_000_000);
    let junk = "\u{0}\u{feff}}}}{{{ func ( class def\n".repeat(1000);
    for path in ["d.py", "d.js", "d.go", "d.c", "d.rb", "d.php", "d.rs", "d.java", "d.ts"] {
        for text in [deep.as_str(), long_line.as_str(), junk.as_str(), ""] {
            let _ = read_file(path, text);
        }
    }
    // Calls nested 5,000 deep: every walk of the tree used to ask each name's parent,
    // which tree-sitter finds by walking down from the root (seconds for this file).
    // Past the depth cap the file is read lexically (which skips the one long line).
    let calls = format!("x={}1{};\n", "aa(".repeat(5_000), ")".repeat(5_000));
    assert!(!read_file("d.js", &calls).parsed, "a tree 10,000 deep is given up");
    let lines = format!("x=\n{}1{};\n", "aa(\n".repeat(5_000), ")".repeat(5_000));
    let f = read_file("d.js", &lines);
    assert!(!f.parsed, "a tree 10,000 deep is given up");
    assert_eq!(f.refs.iter().filter(|r| r.name == "aa" && r.call).count(), 5_000);
}

#[test]
fn a_file_too_large_to_parse_is_read_lexically() {
    let big = "func f() {\n\tg()\n}\n".repeat(60_000);
    assert!(big.len() > 1 << 20);
    let f = read_file("big.go", &big);
    assert!(!f.parsed);
    assert_eq!(def(&f, "f"), (DefKind::Function, 1, 3));
    assert!(read_file("small.go", "func f() {\n\tg()\n}\n").parsed);
}
