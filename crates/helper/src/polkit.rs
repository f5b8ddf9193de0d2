//! The polkit check every method makes before it does anything else.

use std::collections::HashMap;
use std::time::Duration;

use zbus::message::{Flags, Header};
use zbus::proxy::CacheProperties;
use zbus_polkit::policykit1::{AuthorityProxy, CheckAuthorizationFlags, Subject};

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
) -> Result<(), Denial> {
    let subject = Subject::new_for_message_header(header)
        .map_err(|error| Denial::NotAuthorized(format!("the caller is unknown: {error}")))?;
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
    let details: HashMap<&str, &str> = HashMap::new();
    let check = authority.check_authorization(&subject, action, &details, flags, "");
    let result = match tokio::time::timeout(limit, check).await {
        Err(_) => {
            return Err(Denial::NotAuthorized(format!("polkit did not answer within {} s", limit.as_secs())));
        }
        Ok(Err(error)) => return Err(Denial::NotAuthorized(format!("polkit could not be asked: {error}"))),
        Ok(Ok(result)) => result,
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
