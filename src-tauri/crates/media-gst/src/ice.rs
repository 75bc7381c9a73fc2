//! ICE restart, which webrtcbin 1.22 lacks: its offers and answers reuse the first credentials
//! ("FIXME: deal with ICE restarts"), and applying new ones in a description only copies them
//! into libnice (`nice_agent_set_local_credentials`), which keeps its finished checks.
//!
//! libnice also refuses new local credentials once gathering started, so webrtcbin cannot apply
//! any from a description. The engine therefore restarts webrtcbin's libnice agent itself
//! (`nice_agent_restart`: new random credentials, connectivity checks pruned, old remote
//! candidates forgotten while the selected pair keeps carrying media, RFC 8445 9) and writes the
//! agent's credentials (`nice_agent_get_local_credentials`) into every description it creates.
// The one reviewed unsafe exception of this crate: a single C call libnice offers no safe
// binding for (no GObject signal or property restarts the agent).
#![allow(unsafe_code)]

use std::sync::OnceLock;

use gst::glib;
use gst::prelude::*;

use crate::error::EngineError;

/// Credentials of one ICE generation: `(ufrag, pwd)`.
pub(crate) type Credentials = (String, String);

type Agent = *mut glib::gobject_ffi::GObject;
type RestartFn = unsafe extern "C" fn(agent: Agent) -> glib::ffi::gboolean;
type CredentialsFn = unsafe extern "C" fn(
    agent: Agent,
    stream_id: u32,
    ufrag: *mut *mut std::ffi::c_char,
    pwd: *mut *mut std::ffi::c_char,
) -> glib::ffi::gboolean;

/// The two libnice functions webrtcbin does not wrap.
struct Nice {
    _lib: libloading::Library,
    restart: RestartFn,
    credentials: CredentialsFn,
}

/// libnice, already loaded by webrtcbin's ICE library.
fn nice() -> Result<&'static Nice, EngineError> {
    static NICE: OnceLock<Result<Nice, String>> = OnceLock::new();
    NICE.get_or_init(|| {
        // SAFETY: libnice's initialisers have run already (webrtcbin links it); loading it again
        // only takes a reference. The C signatures are `gboolean nice_agent_restart (NiceAgent*)`
        // and `gboolean nice_agent_get_local_credentials (NiceAgent*, guint, gchar**, gchar**)`,
        // matching `RestartFn` and `CredentialsFn`; the library outlives the pointers (static).
        unsafe {
            let lib = libloading::Library::new("libnice.so.10").map_err(|e| e.to_string())?;
            let restart: RestartFn = *lib
                .get::<RestartFn>(b"nice_agent_restart\0")
                .map_err(|e| e.to_string())?;
            let credentials: CredentialsFn = *lib
                .get::<CredentialsFn>(b"nice_agent_get_local_credentials\0")
                .map_err(|e| e.to_string())?;
            Ok(Nice {
                _lib: lib,
                restart,
                credentials,
            })
        }
    })
    .as_ref()
    .map_err(|e| EngineError::Pipeline(format!("ICE restart needs libnice: {e}")))
}

/// webrtcbin's libnice `NiceAgent`.
fn agent(webrtc: &gst::Element) -> Result<glib::Object, EngineError> {
    let ice = webrtc.property::<glib::Object>("ice-agent");
    if ice.find_property("agent").is_none() {
        return Err(EngineError::Pipeline(
            "ICE restart needs webrtcbin's libnice agent".into(),
        ));
    }
    let agent = ice.property::<glib::Object>("agent");
    if !agent.type_().name().starts_with("NiceAgent") {
        return Err(EngineError::Pipeline(format!(
            "ICE restart: unexpected agent type {}",
            agent.type_().name()
        )));
    }
    Ok(agent)
}

/// Restarts every stream of webrtcbin's libnice agent (new credentials and checks, remote
/// candidates forgotten, selected pair kept until a new one is nominated).
pub(crate) fn restart_agent(webrtc: &gst::Element) -> Result<(), EngineError> {
    let agent = agent(webrtc)?;
    let nice = nice()?;
    // SAFETY: `agent` is a live NiceAgent (type checked above) we hold a reference to for the
    // whole call; nice_agent_restart takes the agent's own lock, so any thread may call it.
    let ok = unsafe { (nice.restart)(agent.as_ptr()) };
    if ok == glib::ffi::GFALSE {
        return Err(EngineError::Pipeline(
            "libnice refused to restart ICE".into(),
        ));
    }
    Ok(())
}

/// The credentials the agent checks with now (of its first stream; max-bundle has one), or
/// `None` before webrtcbin created a stream.
pub(crate) fn agent_credentials(webrtc: &gst::Element) -> Option<Credentials> {
    let agent = agent(webrtc).ok()?;
    let nice = nice().ok()?;
    (1..=8).find_map(|stream_id| {
        let mut ufrag: *mut std::ffi::c_char = std::ptr::null_mut();
        let mut pwd: *mut std::ffi::c_char = std::ptr::null_mut();
        // SAFETY: live NiceAgent as above; on success libnice hands us two newly allocated
        // NUL-terminated strings, which we copy and free with g_free exactly once.
        unsafe {
            let ok = (nice.credentials)(agent.as_ptr(), stream_id, &mut ufrag, &mut pwd);
            let take = |p: *mut std::ffi::c_char| {
                if p.is_null() {
                    return None;
                }
                let s = std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned();
                glib::ffi::g_free(p.cast());
                Some(s)
            };
            let (u, p) = (take(ufrag), take(pwd));
            if ok == glib::ffi::GFALSE {
                return None;
            }
            Some((u?, p?))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restarts_webrtcbins_agent() {
        crate::peer::init().unwrap();
        let webrtc = gst::ElementFactory::make("webrtcbin").build().unwrap();
        // No stream yet: nothing to report, and a restart is harmless.
        assert_eq!(agent_credentials(&webrtc), None);
        restart_agent(&webrtc).unwrap();
    }
}
