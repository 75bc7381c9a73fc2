//! JSON-line commands read from stdin.

use serde::Deserialize;

/// One stdin command, tagged by `cmd`.
#[derive(Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "cmd", rename_all = "lowercase", deny_unknown_fields)]
pub(crate) enum StdinCommand {
    /// Change the advertised display name.
    Rename {
        /// The new name.
        name: String,
    },
    /// Add a device by `host:port`.
    Add {
        /// Where it listens.
        addr: String,
    },
    /// Print the current peer list.
    Peers,
    /// Stop gracefully.
    Quit,
}

/// Parses one line; blank lines are `Ok(None)`.
pub(crate) fn parse_line(line: &str) -> Result<Option<StdinCommand>, String> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(None);
    }
    serde_json::from_str(line)
        .map(Some)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(
            parse_line(r#"{"cmd":"rename","name":"小明"}"#).unwrap(),
            Some(StdinCommand::Rename {
                name: "小明".into()
            })
        );
        assert_eq!(
            parse_line(r#"{"cmd":"add","addr":"10.0.0.2:4000"}"#).unwrap(),
            Some(StdinCommand::Add {
                addr: "10.0.0.2:4000".into()
            })
        );
        assert_eq!(
            parse_line(r#" {"cmd":"peers"} "#).unwrap(),
            Some(StdinCommand::Peers)
        );
        assert_eq!(
            parse_line(r#"{"cmd":"quit"}"#).unwrap(),
            Some(StdinCommand::Quit)
        );
        assert_eq!(parse_line("   ").unwrap(), None);
    }

    #[test]
    fn bad_lines_are_errors_not_panics() {
        for line in [
            "nope",
            r#"{"cmd":"fly"}"#,
            r#"{"cmd":"rename"}"#,
            r#"{"cmd":"rename","name":"x","y":1}"#,
            "[]",
        ] {
            assert!(parse_line(line).is_err(), "{line}");
        }
    }
}
