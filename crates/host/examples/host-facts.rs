//! Prints what `read_host_facts` reads on this machine, for checking the
//! probe by hand (for example inside the firewall lab, where firewalld runs
//! on a private system bus):
//!
//!     cargo run -p vmnet-doctor-host --example host-facts [NETWORK…]

fn main() {
    let mut networks: Vec<String> = std::env::args().skip(1).collect();
    if networks.is_empty() {
        networks.push("default".to_owned());
    }
    println!("{:#?}", vmnet_doctor_host::read_host_facts(&networks));
}
