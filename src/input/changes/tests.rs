use super::*;

fn range(start_line: u32, end_line: u32) -> LineRange {
    LineRange { start_line, end_line }
}

/// `git diff --raw --patch -z -U0 -M HEAD` of a tree with an added, a deleted, a
/// modified and a renamed-and-edited file (captured from git 2.47).
const DIFF: &[u8] = b":000000 100644 0000000 3e75765 A\0added.txt\0\
:100644 000000 587be6b 0000000 D\0del.txt\0\
:100644 100644 9405325 0000000 M\0m.txt\0\
:100644 100644 535d2b0 0719398 R088\0r.txt\0r n\"ew.txt\0\0\
diff --git a/added.txt b/added.txt\nnew file mode 100644\nindex 0000000..3e75765\n--- /dev/null\n+++ b/added.txt\n@@ -0,0 +1 @@\n+new\n\
diff --git a/del.txt b/del.txt\ndeleted file mode 100644\nindex 587be6b..0000000\n--- a/del.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n\
diff --git a/m.txt b/m.txt\nindex 9405325..91ac79b 100644\n--- a/m.txt\n+++ b/m.txt\n@@ -2 +2 @@ a\n-b\n+B\n@@ -5,0 +6,2 @@ e\n+f\n+g\n@@ -8,2 +9,0 @@\n-x\n-y\n\
diff --git a/r.txt \"b/r n\\\"ew.txt\"\nsimilarity index 88%\nrename from r.txt\nrename to \"r n\\\"ew.txt\"\nindex 535d2b0..0719398 100644\n--- a/r.txt\n+++ \"b/r n\\\"ew.txt\"\t\n@@ -8,0 +9 @@\n+9\n";

#[test]
fn a_diff_gives_each_changed_file_under_its_new_name_with_its_lines() {
    let files = parse_diff(DIFF);
    assert_eq!(
        files.keys().collect::<Vec<_>>(),
        ["added.txt", "m.txt", "r n\"ew.txt"],
        "the deleted file is left out, the renamed one is under its new name"
    );
    assert_eq!(files["added.txt"], ChangedLines::Ranges(vec![range(1, 1)]));
    assert_eq!(
        files["m.txt"],
        ChangedLines::Ranges(vec![range(2, 2), range(6, 7), range(9, 9)]),
        "a deletion marks the line before it"
    );
    assert_eq!(files["r n\"ew.txt"], ChangedLines::Ranges(vec![range(9, 9)]));
}

#[test]
fn a_file_git_shows_as_binary_counts_as_changed_throughout() {
    let diff = b":100644 100644 1111111 0000000 M\0a.py\0\0\
diff --git a/a.py b/a.py\nindex 1111111..2222222 100644\nBinary files a/a.py and b/a.py differ\n";
    assert_eq!(parse_diff(diff)["a.py"], ChangedLines::Whole);
    assert_eq!(ChangedLines::Whole.ranges(40), vec![range(1, 40)]);
}

#[test]
fn sections_that_do_not_pair_with_the_entries_count_as_changed_throughout() {
    let diff = b":100644 100644 1111111 0000000 M\0a.py\0:100644 100644 1111111 0000000 M\0b.py\0\0\
diff --git a/a.py b/a.py\n@@ -1 +1 @@\n-x\n+y\n";
    let files = parse_diff(diff);
    assert_eq!(
        (&files["a.py"], &files["b.py"]),
        (&ChangedLines::Whole, &ChangedLines::Whole)
    );
}

#[test]
fn submodules_and_an_empty_diff_give_no_file() {
    assert!(parse_diff(b"").is_empty());
    let diff = b":160000 160000 1111111 2222222 M\0vendor/lib\0\0diff --git a/vendor/lib b/vendor/lib\nindex 1111111..2222222 160000\n--- a/vendor/lib\n+++ b/vendor/lib\n@@ -1 +1 @@\n-Subproject commit 1111111\n+Subproject commit 2222222\n";
    assert!(parse_diff(diff).is_empty());
}
