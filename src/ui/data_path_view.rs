//! The data-path drawing: one focusable toggle button per hop (a real
//! widget each, so keyboards and screen readers reach every hop), laid out
//! in a row when the width allows and in a column otherwise, with the
//! connectors and each hop's status outline drawn through `GtkSnapshot`
//! as vector paths — sharp at any scale.
//!
//! Colours are never written here: each status icon carries libadwaita's
//! `success`/`warning`/`error`/`accent` style class, and the outline takes
//! that icon's CSS colour, so dark style and high contrast are right. A
//! hop that was not checked is outlined dashed, not coloured, so the
//! difference does not rest on colour alone.

use std::cell::{Cell, RefCell};

use relm4::gtk;
use relm4::gtk::prelude::*;
use relm4::gtk::subclass::prelude::*;
use relm4::gtk::{glib, graphene, gsk};

/// Room between two hops, where the connector is drawn.
const GAP: i32 = 18;
/// The widest a hop gets in a column: wider only stretches empty space.
const COLUMN_WIDTH: i32 = 360;
const OUTLINE_WIDTH: f32 = 2.0;
const SELECTED_WIDTH: f32 = 4.0;
const RADIUS: f32 = 12.0;
const ARROW: f32 = 5.0;

/// How one hop is drawn: its button, and the icon whose colour outlines it.
#[derive(Debug, Clone)]
pub struct HopWidgets {
    pub button: gtk::ToggleButton,
    pub status_icon: gtk::Image,
    /// Not checked: outlined dashed.
    pub unknown: bool,
}

mod imp {
    use super::*;

    #[derive(Debug, Default)]
    pub struct DataPathView {
        pub hops: RefCell<Vec<HopWidgets>>,
        /// Laid out as a column at the last allocation.
        pub vertical: Cell<bool>,
    }

    #[glib::object_subclass]
    impl ObjectSubclass for DataPathView {
        const NAME: &'static str = "VmnetDoctorDataPathView";
        type Type = super::DataPathView;
        type ParentType = gtk::Widget;

        fn class_init(klass: &mut Self::Class) {
            klass.set_css_name("datapath");
            klass.set_accessible_role(gtk::AccessibleRole::Group);
        }
    }

    impl ObjectImpl for DataPathView {
        fn dispose(&self) {
            while let Some(child) = self.obj().first_child() {
                child.unparent();
            }
        }
    }

    impl WidgetImpl for DataPathView {
        fn request_mode(&self) -> gtk::SizeRequestMode {
            gtk::SizeRequestMode::HeightForWidth
        }

        fn measure(&self, orientation: gtk::Orientation, for_size: i32) -> (i32, i32, i32, i32) {
            let hops = self.hops.borrow();
            let sizes: Vec<_> = hops.iter().map(|hop| hop.button.measure(orientation, -1)).collect();
            let gaps = GAP * (hops.len().saturating_sub(1) as i32);
            match orientation {
                gtk::Orientation::Horizontal => {
                    // A column needs the widest hop; a row, room for all of them.
                    let minimum = sizes.iter().map(|(min, ..)| *min).max().unwrap_or(0);
                    let natural = minimum * hops.len() as i32 + gaps;
                    (minimum, natural.max(minimum), -1, -1)
                }
                _ => {
                    let height = if for_size >= 0 && !fits_in_row(&hops, for_size) {
                        let column = for_size.min(COLUMN_WIDTH);
                        hops.iter().map(|hop| hop.button.measure(orientation, column).1).sum::<i32>() + gaps
                    } else {
                        sizes.iter().map(|(_, nat, ..)| *nat).max().unwrap_or(0)
                    };
                    (height, height, -1, -1)
                }
            }
        }

        fn size_allocate(&self, width: i32, height: i32, _baseline: i32) {
            let hops = self.hops.borrow();
            let count = hops.len() as i32;
            if count == 0 {
                return;
            }
            let row = fits_in_row(&hops, width);
            self.vertical.set(!row);
            if row {
                // Equal columns: the connectors then have equal lengths.
                let cell = (width - GAP * (count - 1)) / count;
                for (index, hop) in hops.iter().enumerate() {
                    let x = index as i32 * (cell + GAP);
                    hop.button.size_allocate(&gtk::Allocation::new(x, 0, cell, height), -1);
                }
            } else {
                let column = width.min(COLUMN_WIDTH);
                let x = (width - column) / 2;
                let mut y = 0;
                for hop in hops.iter() {
                    let (_, natural, ..) = hop.button.measure(gtk::Orientation::Vertical, column);
                    hop.button.size_allocate(&gtk::Allocation::new(x, y, column, natural), -1);
                    y += natural + GAP;
                }
            }
        }

        fn snapshot(&self, snapshot: &gtk::Snapshot) {
            let widget = self.obj();
            let hops = self.hops.borrow();
            let bounds: Vec<graphene::Rect> =
                hops.iter().filter_map(|hop| hop.button.compute_bounds(&*widget)).collect();
            let mut line = widget.color();
            line.set_alpha(0.45);
            for pair in bounds.windows(2) {
                if let [from, to] = pair {
                    connector(snapshot, from, to, self.vertical.get(), &line);
                }
            }
            for (hop, rect) in hops.iter().zip(&bounds) {
                outline(snapshot, hop, rect);
                widget.snapshot_child(&hop.button, snapshot);
            }
        }
    }

    /// Whether every hop gets its minimum width in one row (titles wrap,
    /// names ellipsize below their natural width).
    fn fits_in_row(hops: &[HopWidgets], width: i32) -> bool {
        let count = hops.len() as i32;
        if count == 0 {
            return true;
        }
        let widest = hops.iter().map(|hop| hop.button.measure(gtk::Orientation::Horizontal, -1).0).max();
        let cell = (width - GAP * (count - 1)) / count;
        widest.is_some_and(|widest| cell >= widest)
    }

    /// A line from one hop to the next with an arrowhead: the way a packet
    /// leaving the guest travels.
    fn connector(
        snapshot: &gtk::Snapshot,
        from: &graphene::Rect,
        to: &graphene::Rect,
        vertical: bool,
        color: &gtk::gdk::RGBA,
    ) {
        let path = gsk::PathBuilder::new();
        let (start, end) = if vertical {
            let x = from.x() + from.width() / 2.0;
            ((x, from.y() + from.height() + 2.0), (x, to.y() - 2.0))
        } else {
            let y = from.y() + from.height() / 2.0;
            ((from.x() + from.width() + 2.0, y), (to.x() - 2.0, y))
        };
        path.move_to(start.0, start.1);
        path.line_to(end.0, end.1);
        let stroke = gsk::Stroke::new(2.0);
        stroke.set_line_cap(gsk::LineCap::Round);
        snapshot.append_stroke(&path.to_path(), &stroke, color);

        let head = gsk::PathBuilder::new();
        head.move_to(end.0, end.1);
        if vertical {
            head.line_to(end.0 - ARROW, end.1 - ARROW * 1.4);
            head.line_to(end.0 + ARROW, end.1 - ARROW * 1.4);
        } else {
            head.line_to(end.0 - ARROW * 1.4, end.1 - ARROW);
            head.line_to(end.0 - ARROW * 1.4, end.1 + ARROW);
        }
        head.close();
        snapshot.append_fill(&head.to_path(), gsk::FillRule::Winding, color);
    }

    /// The hop's status outline: solid in its status colour, dashed and
    /// muted when not checked, heavier when it is the hop selected.
    fn outline(snapshot: &gtk::Snapshot, hop: &HopWidgets, rect: &graphene::Rect) {
        let width = if hop.button.is_active() { SELECTED_WIDTH } else { OUTLINE_WIDTH };
        let inset = width / 2.0;
        let bounds = graphene::Rect::new(
            rect.x() + inset,
            rect.y() + inset,
            rect.width() - width,
            rect.height() - width,
        );
        let mut color = hop.status_icon.color();
        let stroke = gsk::Stroke::new(width);
        if hop.unknown {
            color.set_alpha(0.7);
            stroke.set_dash(&[6.0, 4.0]);
        }
        let path = gsk::PathBuilder::new();
        path.add_rounded_rect(&gsk::RoundedRect::from_rect(bounds, RADIUS));
        snapshot.append_stroke(&path.to_path(), &stroke, &color);
    }
}

glib::wrapper! {
    /// The hops of one card's data path, drawn.
    pub struct DataPathView(ObjectSubclass<imp::DataPathView>)
        @extends gtk::Widget,
        @implements gtk::Accessible, gtk::Buildable, gtk::ConstraintTarget;
}

impl DataPathView {
    /// A view of these hops, in path order; `label` names it for screen
    /// readers.
    pub fn new(hops: Vec<HopWidgets>, label: &str) -> Self {
        let view: Self = glib::Object::new();
        view.update_property(&[gtk::accessible::Property::Label(label)]);
        for hop in &hops {
            hop.button.set_parent(&view);
            // Selection changes the drawn outline.
            let weak = view.downgrade();
            hop.button.connect_toggled(move |_| {
                if let Some(view) = weak.upgrade() {
                    view.queue_draw();
                }
            });
        }
        view.imp().hops.replace(hops);
        view
    }

    /// The hops' buttons, in path order.
    pub fn hop_buttons(&self) -> Vec<gtk::ToggleButton> {
        self.imp().hops.borrow().iter().map(|hop| hop.button.clone()).collect()
    }
}
