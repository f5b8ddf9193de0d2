//! The polkit check every method makes before it changes or reads
//! anything.
//!
//! Each check passes details (the fix, its bridge, uplink or backend, the
//! transaction), so that an administrator's rule can allow one fix on one
//! bridge (`action.lookup("bridge")`), and a cancellation id: the check is
//! cancelled when the caller leaves the bus or the check times out, so no
//! authentication dialog stays open for a call nobody waits for.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use zbus::message::{Flags, Header};
use zbus::names::UniqueName;
use zbus::proxy::CacheProperties;
use zbus_polkit::policykit1::{AuthorityProxy, CheckAuthorizationFlags, Subject};

/// What a check tells polkit (and its rules) about the request.
pub type Details = Vec<(&'static str, String)>;

/// Why a caller was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// polkit said no, or could not be asked (fail closed).
    NotAuthorized(String),
    /// The user dismissed the authentication dialog.
    Dismissed,
    /// polkit would ask for a password, but the call did not allow
    /// interaction.
    InteractionRequired,
}

impl Denial {
    pub fn audit(&self) -> String {
        match self {
            Self::NotAuthorized(why) => format!("denied ({why})"),
            Self::Dismissed => "dismissed".to_owned(),
            Self::InteractionRequired => "denied (interactive authorization required)".to_owned(),
        }
    }
}

/// How long polkit may take without a dialog, and with one (a person types
/// a password).
const CHECK_TIMEOUT: Duration = Duration::from_secs(25);
const INTERACTIVE_CHECK_TIMEOUT: Duration = Duration::from_secs(300);

/// Whether the caller allowed interactive authorization for this call.
pub fn allows_interaction(header: &Header<'_>) -> bool {
    header.primary().flags().contains(Flags::ALLOW_INTERACTIVE_AUTH)
}

/// Asks polkit whether the sender of the message (its `system-bus-name`
/// subject) may do `action`. Anything but a clear yes is a denial.
pub async fn authorize(
    connection: &zbus::Connection,
    header: &Header<'_>,
    action: &str,
    details: &Details,
) -> Result<(), Denial> {
    let subject = Subject::new_for_message_header(header)
        .map_err(|error| Denial::NotAuthorized(format!("the caller is unknown: {error}")))?;
    let sender = header.sender().ok_or_else(|| Denial::NotAuthorized("the caller is unknown".to_owned()))?;
    let interactive = allows_interaction(header);
    let authority = AuthorityProxy::builder(connection)
        .cache_properties(CacheProperties::No)
        .build()
        .await
        .map_err(|error| Denial::NotAuthorized(format!("polkit is not available: {error}")))?;
    let (flags, limit) = if interactive {
        (CheckAuthorizationFlags::ALLOW_USER_INTERACTION, INTERACTIVE_CHECK_TIMEOUT)
    } else {
        (CheckAuthorizationFlags::empty(), CHECK_TIMEOUT)
    };
    let details: HashMap<&str, &str> = details.iter().map(|(key, value)| (*key, value.as_str())).collect();
    let cancellation_id = new_cancellation_id();
    // Watched before the check starts, so that a caller leaving at once is
    // seen too.
    let caller_left = caller_left(connection, sender).await;
    let check = authority.check_authorization(&subject, action, &details, flags, &cancellation_id);
    let result = tokio::select! {
        result = check => match result {
            Err(error) => return Err(Denial::NotAuthorized(format!("polkit could not be asked: {error}"))),
            Ok(result) => result,
        },
        () = tokio::time::sleep(limit) => {
            cancel(&authority, &cancellation_id).await;
            return Err(Denial::NotAuthorized(format!("polkit did not answer within {} s", limit.as_secs())));
        }
        () = caller_left => {
            cancel(&authority, &cancellation_id).await;
            return Err(Denial::NotAuthorized("the caller left before polkit answered".to_owned()));
        }
    };
    if result.is_authorized {
        return Ok(());
    }
    if result.details.get("polkit.dismissed").is_some_and(|value| !value.is_empty()) {
        return Err(Denial::Dismissed);
    }
    if result.is_challenge {
        return Err(if interactive {
            Denial::NotAuthorized(
                "authentication is required and no authentication agent could ask".to_owned(),
            )
        } else {
            Denial::InteractionRequired
        });
    }
    Err(Denial::NotAuthorized(format!("polkit does not allow {action}")))
}

/// An id no other check of this helper uses (polkit scopes it to the
/// helper's own bus name).
fn new_cancellation_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("vmnet-doctor-helper-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Resolves when `sender` leaves the bus (or at once if it has left);
/// never if the bus cannot be watched (the timeout still ends the check).
async fn caller_left(connection: &zbus::Connection, sender: &UniqueName<'_>) -> impl Future<Output = ()> {
    let sender = sender.to_owned();
    let watch = async {
        let bus = zbus::fdo::DBusProxy::new(connection).await.ok()?;
        let changes = bus.receive_name_owner_changed_with_args(&[(0, sender.as_str())]).await.ok()?;
        let present = bus.name_has_owner(sender.as_ref().into()).await.ok()?;
        Some((changes, present))
    };
    let watched = watch.await;
    async move {
        match watched {
            Some((_, false)) => {}
            Some((mut changes, true)) => {
                while let Some(change) = changes.next().await {
                    if change.args().is_ok_and(|args| args.new_owner().is_none()) {
                        return;
                    }
                }
                std::future::pending::<()>().await;
            }
            None => std::future::pending::<()>().await,
        }
    }
}

/// Tells polkit to drop the check (and close its dialog); best effort.
async fn cancel(authority: &AuthorityProxy<'_>, cancellation_id: &str) {
    if let Err(error) = authority.cancel_check_authorization(cancellation_id).await {
        eprintln!("vmnet-doctor-helper: cannot cancel polkit check {cancellation_id}: {error}");
    }
}
