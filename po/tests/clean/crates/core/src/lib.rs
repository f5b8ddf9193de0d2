pub fn no_strings_here() {}
