//! The window and its parts. No libvirt calls here: the window asks
//! `vmnet-doctor-libvirt` and renders what comes back.

pub mod about;
pub mod actions;
pub mod error_page;
pub mod finding_row;
pub mod live;
pub mod nic_group;
pub mod vm_list_item;
pub mod vm_page;
pub mod window;
