fn sample() -> String { gettext("test-only strings are not shown to users") }
