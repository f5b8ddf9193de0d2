//! The window and its parts. No libvirt calls here: the window asks
//! `vmnet-doctor-libvirt` and renders what comes back.

pub mod about;
pub mod actions;
pub mod connections_dialog;
pub mod data_path_group;
pub mod data_path_view;
pub mod dialog_page;
pub mod error_page;
pub mod fact_row;
pub mod finding_row;
pub mod firewall_group;
pub mod first_connection;
pub mod fix_all_dialog;
pub mod fix_dialog;
pub mod groups_page;
pub mod host_page;
pub mod live;
pub mod menu_names;
pub mod network_chooser;
pub mod network_row;
pub mod nic_actions;
pub mod nic_group;
pub mod plain_texts;
pub mod posture_group;
pub mod reconnect;
pub mod sidebar_item;
pub mod style;
pub mod verdict_group;
pub mod vm_action_dialog;
pub mod vm_filter;
pub mod vm_page;
pub mod vm_search;
pub mod window;
pub mod wizard;
