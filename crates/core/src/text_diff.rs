//! A unified diff of two texts (libvirt device or network XML), for
//! showing a fix's change before it is made: `similar`'s Myers diff, as
//! `diff -u` prints it.

use similar::TextDiff;

/// Lines of context around each change, as `diff -u` shows.
const CONTEXT: usize = 3;

/// `diff -u` of `before` and `after`, with `--- before_label` and
/// `+++ after_label` headers; empty when the texts are equal.
pub fn unified_diff(before: &str, after: &str, before_label: &str, after_label: &str) -> String {
    if before == after {
        return String::new();
    }
    TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(CONTEXT)
        // A last line without its newline reads the same in a plan.
        .missing_newline_hint(false)
        .header(before_label, after_label)
        .to_string()
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
    fn large_texts_get_a_real_diff_not_everything_replaced() {
        // 3000 × 3000 lines: the old table diff gave up above 4 M cells.
        let before: String = (0..3000).map(|n| format!("line {n}\n")).collect();
        let after = before.replace("line 1500\n", "line 1500 changed\n");
        let diff = unified_diff(&before, &after, "a", "b");
        assert_eq!(
            diff.lines().filter(|line| line.starts_with('-') || line.starts_with('+')).count(),
            4,
            "{diff}"
        );
    }

    #[test]
    fn removals_and_insertions_count_their_lines() {
        let diff = unified_diff("a\nb\nc\n", "a\nc\nd\n", "x", "y");
        assert_eq!(diff, "--- x\n+++ y\n@@ -1,3 +1,3 @@\n a\n-b\n c\n+d\n");
    }
}
