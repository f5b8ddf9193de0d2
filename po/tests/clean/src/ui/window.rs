relm4::view! {
    adw::ApplicationWindow {
        set_title: Some(&gettext("VM Network Doctor")),
        gtk::Label {
            #[watch]
            set_label: &i18n_f("{name} has no network", &[("name", &model.name)]),
        },
    }
}
