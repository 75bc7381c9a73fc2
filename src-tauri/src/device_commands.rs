//! Commands for the device node: the owner's session, the peer list, adding by address.

use std::sync::Arc;

use parley_discovery::Peer;
use tauri::{AppHandle, Manager, Runtime, State};

use crate::commands::{AppState, CommandError};
use crate::device::{DeviceNode, NodeError, NodeOptions, OwnerSession};

/// The device node, or why it is not running (the rest of the app works without it).
pub struct NodeState {
    node: Result<Arc<DeviceNode>, String>,
}

impl NodeState {
    /// The running node, if it started.
    pub fn node(&self) -> Option<Arc<DeviceNode>> {
        self.node.as_ref().ok().cloned()
    }

    fn require(&self) -> Result<Arc<DeviceNode>, CommandError> {
        self.node.clone().map_err(|reason| CommandError {
            code: "node-unavailable",
            message: reason,
            field: None,
        })
    }
}

impl From<NodeError> for CommandError {
    fn from(error: NodeError) -> Self {
        let code = match error {
            NodeError::AddPeer(_) | NodeError::DiscoveryOff => "add-peer-failed",
            _ => "node-unavailable",
        };
        Self {
            code,
            message: error.to_string(),
            field: None,
        }
    }
}

/// Starts the node with the loaded settings and registers [`NodeState`]; a failure is logged
/// and reported to the UI through the commands, never fatal.
pub fn start_node<R: Runtime>(app: &AppHandle<R>, options: NodeOptions) {
    let settings = app.state::<AppState>().settings();
    let started = tauri::async_runtime::block_on(async {
        let node = DeviceNode::start(&settings, options).await?;
        if let Err(error) = node.apply(app, &settings).await {
            // The server still serves knocks and added-by-address devices without mDNS.
            tracing::warn!(%error, "LAN discovery did not start");
        }
        Ok::<_, NodeError>(Arc::new(node))
    });
    match &started {
        Ok(node) => add_remembered_devices(node.clone(), settings.added_devices),
        Err(error) => tracing::error!(%error, "the device node did not start"),
    }
    app.manage(NodeState {
        node: started.map_err(|e| e.to_string()),
    });
}

/// Lists the devices added by address in earlier runs again, in the background: one that does
/// not answer now is skipped (logged), as it would be if added by hand.
fn add_remembered_devices(node: Arc<DeviceNode>, addresses: Vec<String>) {
    if addresses.is_empty() {
        return;
    }
    tauri::async_runtime::spawn(async move {
        for address in addresses {
            if let Err(error) = node.add_peer(&address).await {
                tracing::info!(%address, %error, "a remembered device did not answer");
            }
        }
    });
}

/// Stops the node (goodbye packets, server shutdown) before the process exits.
pub fn stop_node<R: Runtime>(app: &AppHandle<R>) {
    if let Some(node) = app.try_state::<NodeState>().and_then(|s| s.node()) {
        tauri::async_runtime::block_on(node.shutdown());
    }
}

/// The local UI's owner connection to this device's server.
#[tauri::command]
pub fn owner_session(state: State<'_, NodeState>) -> Result<OwnerSession, CommandError> {
    Ok(state.require()?.owner_session())
}

/// Devices on the LAN (and added by address) right now; changes follow as `peer-event`.
#[tauri::command]
pub async fn list_peers(state: State<'_, NodeState>) -> Result<Vec<Peer>, CommandError> {
    Ok(state.require()?.peers().await)
}

/// Adds a device by `host:port` when multicast does not get through; it is remembered and
/// added again at the next start.
#[tauri::command]
pub async fn add_peer<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, NodeState>,
    address: String,
) -> Result<Peer, CommandError> {
    let address = address.trim();
    let peer = state.require()?.add_peer(address).await?;
    crate::commands::remember_added_device(&app, address);
    Ok(peer)
}
