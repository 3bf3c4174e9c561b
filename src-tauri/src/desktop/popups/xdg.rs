//! Linux: the Desktop Notifications service over one D-Bus session connection, held for the
//! life of the app. Every Notify, CloseNotification and the ActionInvoked / NotificationClosed
//! signals go over it: a server that ties an app's notices to the connection that made them
//! (GNOME Shell does) never sees that connection go away, and a click on any notice, however
//! old, arrives here. When the server restarts (the well-known name changes owner), the
//! service is told and starts afresh with the new one.

use std::collections::HashMap;

use futures_util::StreamExt as _;
use zbus::message::Type as MessageType;
use zbus::{Connection, MatchRule, MessageStream, Variant};

use super::{Caps, Clicked, Notice, ServerEvent, Target, Urgency};

const NAME: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
const INTERFACE: &str = "org.freedesktop.Notifications";
/// The installed desktop entry (Kanca.desktop): lets the server show Kanca's name and icon
/// and group its notices as the app's.
const DESKTOP_ENTRY: &str = "Kanca";

pub struct Server {
    conn: Connection,
}

impl Server {
    /// Connect to the session bus, listen for the server's signals and owner changes, and ask
    /// the server (if one runs) what it offers. `events` hears of everything that follows.
    pub async fn connect(events: impl Fn(ServerEvent) + Send + Sync + 'static) -> Result<Server, String> {
        let conn = Connection::session().await.map_err(|e| format!("cannot reach the D-Bus session bus ({e})"))?;
        // Subscribe before asking anything, so no signal falls between the two.
        let signals = stream(&conn, rule().interface(INTERFACE).path(PATH)).await?;
        let owners = stream(
            &conn,
            rule().sender("org.freedesktop.DBus").interface("org.freedesktop.DBus").member("NameOwnerChanged").arg(0, NAME),
        )
        .await?;
        let server = Server { conn };
        // A server may not run yet (it may be started on demand by the first Notify, or come
        // later): that is not an error of the connection.
        match server.probe().await {
            Ok((caps, name)) => events(ServerEvent::Ready { caps, name }),
            Err(e) => {
                tracing::warn!("pop-ups: no notification server answers yet ({e})");
                events(ServerEvent::Gone);
            }
        }
        let probe_conn = server.conn.clone();
        tauri::async_runtime::spawn(async move {
            let mut merged = futures_util::stream::select(signals.map(|m| (false, m)), owners.map(|m| (true, m)));
            while let Some((is_owner, msg)) = merged.next().await {
                let Ok(msg) = msg else { continue };
                if is_owner {
                    let Ok((_, _, new)) = msg.body().deserialize::<(String, String, String)>() else { continue };
                    if new.is_empty() {
                        events(ServerEvent::Gone);
                    } else {
                        match probe(&probe_conn).await {
                            Ok((caps, name)) => events(ServerEvent::Ready { caps, name }),
                            Err(e) => tracing::warn!("pop-ups: the new notification server does not answer ({e})"),
                        }
                    }
                    continue;
                }
                let header = msg.header();
                let member = header.member().map(|m| m.to_string()).unwrap_or_default();
                match member.as_str() {
                    "ActionInvoked" => {
                        if let Ok((id, action)) = msg.body().deserialize::<(u32, String)>() {
                            events(ServerEvent::Action { on: Clicked::Notice(id), action });
                        }
                    }
                    "NotificationClosed" => {
                        if let Ok((id, reason)) = msg.body().deserialize::<(u32, u32)>() {
                            events(ServerEvent::Closed { id, reason });
                        }
                    }
                    _ => {}
                }
            }
            // The streams end only when the connection does.
            events(ServerEvent::Disconnected);
        });
        Ok(server)
    }

    /// The connection's unique bus name, for the log.
    pub fn describe(&self) -> String {
        self.conn.unique_name().map(|n| n.to_string()).unwrap_or_else(|| "?".into())
    }

    async fn probe(&self) -> Result<(Caps, String), zbus::Error> {
        probe(&self.conn).await
    }

    pub async fn show(&self, n: &Notice) -> Result<u32, String> {
        let actions: Vec<&str> = n.actions.iter().flat_map(|(k, label)| [*k, label.as_str()]).collect();
        let mut hints: HashMap<&str, Variant<'_>> = HashMap::new();
        hints.insert("urgency", Variant::U8(if n.urgency == Urgency::Critical { 2 } else { 1 }));
        hints.insert("desktop-entry", Variant::from(DESKTOP_ENTRY));
        if let Some(c) = n.category {
            hints.insert("category", Variant::from(c));
        }
        if n.transient {
            hints.insert("transient", Variant::Bool(true));
        }
        let reply = self
            .conn
            .call_method(
                Some(NAME),
                PATH,
                Some(INTERFACE),
                "Notify",
                &("Kanca", n.replaces.unwrap_or(0), n.icon, n.summary.as_str(), n.body.as_str(), actions, hints, n.timeout_ms),
            )
            .await
            .map_err(|e| e.to_string())?;
        reply.body().deserialize::<u32>().map_err(|e| e.to_string())
    }

    /// Close notice `id` (what it shows does not matter here).
    pub async fn close(&self, id: u32, _shows: Option<&Target>) {
        if let Err(e) = self.conn.call_method(Some(NAME), PATH, Some(INTERFACE), "CloseNotification", &(id,)).await {
            tracing::debug!("pop-ups: closing notice {id}: {e}");
        }
    }
}

fn rule() -> zbus::match_rule::Builder<'static> {
    MatchRule::builder().msg_type(MessageType::Signal)
}

async fn stream(conn: &Connection, rule: zbus::match_rule::Builder<'static>) -> Result<MessageStream, String> {
    let rule = rule.build().map_err(|e| e.to_string())?;
    MessageStream::for_match_rule(rule, conn, None).await.map_err(|e| format!("cannot listen to the notification service ({e})"))
}

async fn probe(conn: &Connection) -> Result<(Caps, String), zbus::Error> {
    let caps: Vec<String> = conn.call_method(Some(NAME), PATH, Some(INTERFACE), "GetCapabilities", &()).await?.body().deserialize()?;
    let (name, _vendor, version, _spec): (String, String, String, String) =
        conn.call_method(Some(NAME), PATH, Some(INTERFACE), "GetServerInformation", &()).await?.body().deserialize()?;
    Ok((Caps::from_list(&caps), format!("{name} {version}")))
}
