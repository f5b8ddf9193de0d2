//! A unified diff of two small texts (libvirt device or network XML), for
//! showing a fix's change before it is made.

/// Lines of context around each change, as `diff -u` shows.
const CONTEXT: usize = 3;

/// Above this many line pairs the longest-common-subsequence table would be
/// large; such texts are shown as wholly replaced. libvirt XML is far below.
const MAX_TABLE_CELLS: usize = 4_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Same,
    Removed,
    Added,
}

/// `diff -u` of `before` and `after`, with `--- before_label` and
/// `+++ after_label` headers; empty when the texts are equal.
pub fn unified_diff(before: &str, after: &str, before_label: &str, after_label: &str) -> String {
    if before == after {
        return String::new();
    }
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    let script = edit_script(&old, &new);
    let mut out = format!("--- {before_label}\n+++ {after_label}\n");
    for (start, end) in hunks(&script) {
        write_hunk(&mut out, &script[start..end], &script[..start], &old, &new);
    }
    out
}

/// Each step with the index of its line in `old` (`Same`, `Removed`) or in
/// `new` (`Added`); `Same` lines are equal in both.
fn edit_script(old: &[&str], new: &[&str]) -> Vec<(Op, usize)> {
    let (n, m) = (old.len(), new.len());
    if n.saturating_mul(m) > MAX_TABLE_CELLS {
        let removed = (0..n).map(|i| (Op::Removed, i));
        return removed.chain((0..m).map(|j| (Op::Added, j))).collect();
    }
    // lcs[i][j]: length of the longest common subsequence of old[i..], new[j..].
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] =
                if old[i] == new[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut script = Vec::with_capacity(n + m);
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            script.push((Op::Same, i));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            script.push((Op::Added, j));
            j += 1;
        } else {
            script.push((Op::Removed, i));
            i += 1;
        }
    }
    // Removals before additions within each run of changes, as diff shows them.
    let mut start = 0;
    while start < script.len() {
        let end =
            script[start..].iter().position(|(op, _)| *op == Op::Same).map_or(script.len(), |p| start + p);
        script[start..end].sort_by_key(|(op, _)| *op == Op::Added);
        start = end + 1;
    }
    script
}

/// The ranges of the script shown as hunks: each change with its context,
/// merged where their contexts touch.
fn hunks(script: &[(Op, usize)]) -> Vec<(usize, usize)> {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for (index, (op, _)) in script.iter().enumerate() {
        if *op == Op::Same {
            continue;
        }
        let start = index.saturating_sub(CONTEXT);
        let end = (index + CONTEXT + 1).min(script.len());
        match ranges.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => ranges.push((start, end)),
        }
    }
    ranges
}

fn write_hunk(out: &mut String, hunk: &[(Op, usize)], before: &[(Op, usize)], old: &[&str], new: &[&str]) {
    let count =
        |ops: &[(Op, usize)], side: Op| ops.iter().filter(|(op, _)| *op == Op::Same || *op == side).count();
    let (old_before, new_before) = (count(before, Op::Removed), count(before, Op::Added));
    let (old_count, new_count) = (count(hunk, Op::Removed), count(hunk, Op::Added));
    // diff -u numbers an empty side by the line before it.
    let old_start = if old_count == 0 { old_before } else { old_before + 1 };
    let new_start = if new_count == 0 { new_before } else { new_before + 1 };
    out.push_str(&format!("@@ -{old_start},{old_count} +{new_start},{new_count} @@\n"));
    for (op, index) in hunk {
        let (mark, line) = match op {
            Op::Same => (' ', old.get(*index)),
            Op::Removed => ('-', old.get(*index)),
            Op::Added => ('+', new.get(*index)),
        };
        out.push(mark);
        out.push_str(line.copied().unwrap_or_default());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::unified_diff;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified_diff("a\nb\n", "a\nb\n", "x", "y"), "");
    }

    #[test]
    fn one_changed_line_with_its_context() {
        let before = "<interface type='network'>\n  <mac address='m'/>\n  <source network='default'/>\n  \
                      <model type='virtio'/>\n  <link state='down'/>\n</interface>";
        let after = before.replace("down", "up");
        assert_eq!(
            unified_diff(before, &after, "before", "after"),
            "--- before\n+++ after\n@@ -2,5 +2,5 @@\n   <mac address='m'/>\n   <source network='default'/>\n   \
             <model type='virtio'/>\n-  <link state='down'/>\n+  <link state='up'/>\n </interface>\n"
        );
    }

    #[test]
    fn a_new_text_is_all_added() {
        assert_eq!(unified_diff("", "a\nb", "none", "new"), "--- none\n+++ new\n@@ -0,0 +1,2 @@\n+a\n+b\n");
    }

    #[test]
    fn distant_changes_are_separate_hunks_and_near_ones_merge() {
        let lines = |changed: &[usize]| -> String {
            (1..=20)
                .map(|n| if changed.contains(&n) { format!("changed {n}\n") } else { format!("{n}\n") })
                .collect()
        };
        let before = lines(&[]);
        let diff = unified_diff(&before, &lines(&[2, 19]), "a", "b");
        assert_eq!(diff.matches("@@ -").count(), 2, "{diff}");
        assert!(diff.contains("@@ -1,5 +1,5 @@\n 1\n-2\n+changed 2\n 3\n 4\n 5\n"), "{diff}");
        assert!(diff.contains("@@ -16,5 +16,5 @@\n 16\n 17\n 18\n-19\n+changed 19\n 20\n"), "{diff}");
        let near = unified_diff(&before, &lines(&[2, 7]), "a", "b");
        assert_eq!(near.matches("@@ -").count(), 1, "{near}");
        assert!(near.starts_with("--- a\n+++ b\n@@ -1,10 +1,10 @@\n"), "{near}");
    }

    #[test]
    fn removals_and_insertions_count_their_lines() {
        let diff = unified_diff("a\nb\nc\n", "a\nc\nd\n", "x", "y");
        assert_eq!(diff, "--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n c\n+d\n");
    }
}
