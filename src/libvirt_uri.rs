//! The parts of a libvirt connection URI that say where libvirt runs
//! (<https://libvirt.org/uri.html>): `DRIVER[+TRANSPORT]://[USER@][HOST][:PORT]/PATH[?QUERY]`.
//! One reading for every place that asks: whether it is this machine, the
//! server an SSH transport logs in to, a fleet report's host label.

/// A URI's parts, as written (still `%`-escaped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UriParts<'u> {
    pub driver: &'u str,
    pub transport: Option<&'u str>,
    pub user: Option<&'u str>,
    /// Empty for a local URI (`qemu:///system`); without the brackets of
    /// an IPv6 address.
    pub host: &'u str,
    pub port: Option<&'u str>,
    pub query: &'u str,
}

/// Splits `uri`; `None` when it is not `SCHEME://…` or an IPv6 host lacks
/// its closing bracket.
pub fn parse(uri: &str) -> Option<UriParts<'_>> {
    let (scheme, rest) = uri.split_once("://")?;
    let (driver, transport) = match scheme.split_once('+') {
        Some((driver, transport)) => (driver, Some(transport)),
        None => (scheme, None),
    };
    let (authority, query) = match rest.split_once('/') {
        Some((authority, path)) => (authority, path.split_once('?').map_or("", |(_, query)| query)),
        None => rest.split_once('?').unwrap_or((rest, "")),
    };
    let (user, host_port) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    };
    let (host, port) = match host_port.strip_prefix('[') {
        Some(bracketed) => {
            let (host, after) = bracketed.split_once(']')?;
            (host, after.strip_prefix(':'))
        }
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    Some(UriParts { driver, transport, user, host, port, query })
}

/// `%XX` escapes of a URI component, as libvirt reads them.
pub fn unescape(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        let hex = bytes.get(index + 1..index + 3).and_then(|pair| std::str::from_utf8(pair).ok());
        match (byte, hex.and_then(|hex| u8::from_str_radix(hex, 16).ok())) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::{UriParts, parse, unescape};

    #[test]
    fn every_part_where_libvirt_reads_it() {
        let parts = parse("qemu+ssh://admin@kvm1.example.com:2222/system?keyfile=/k&no_tty=1");
        let expected = UriParts {
            driver: "qemu",
            transport: Some("ssh"),
            user: Some("admin"),
            host: "kvm1.example.com",
            port: Some("2222"),
            query: "keyfile=/k&no_tty=1",
        };
        assert_eq!(parts, Some(expected));
        let local = parse("qemu:///system").map(|p| (p.driver, p.transport, p.host, p.port));
        assert_eq!(local, Some(("qemu", None, "", None)));
        let socket = parse("qemu+unix:///system?socket=/run/x").map(|p| (p.host, p.query));
        assert_eq!(socket, Some(("", "socket=/run/x")));
        let v6 = parse("qemu+ssh://root@[fd00::5]:22/system").map(|p| (p.host, p.port));
        assert_eq!(v6, Some(("fd00::5", Some("22"))));
        let no_path = parse("qemu+ssh://kvm2?no_verify=1").map(|p| (p.host, p.query));
        assert_eq!(no_path, Some(("kvm2", "no_verify=1")));
        assert_eq!(parse("not a uri"), None);
        assert_eq!(parse("qemu+ssh://[fd00::5/system"), None);
    }

    #[test]
    fn escapes_are_read_and_broken_ones_kept() {
        assert_eq!(unescape("a%20b%2Fc"), "a b/c");
        assert_eq!(unescape("100%"), "100%");
        assert_eq!(unescape("%zz%4"), "%zz%4");
    }
}
