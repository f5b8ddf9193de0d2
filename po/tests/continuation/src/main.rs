fn label() -> String {
    gettextrs::gettext(
        "A long sentence that goes on \
         on the next line",
    )
}
